"""Writing the site: only where a site may go, and the whole site at once.

**Where.** ``check_output`` refuses, before anything is created, an output that is the site's
folder, contains it, or lies inside a source folder (``content``, ``data``, ``templates``,
``assets``, ``locales``, ``.git``) or a build cache, all compared as resolved paths; and it
refuses to replace anything but a folder that a build wrote. Every build puts an empty
``.sitegen-output`` file in its output (it is one of the site's files, so a clean build and a
rebuild have it alike); a missing path and an empty folder are fine too. Nothing in the build
cache counts: it is untrusted. A file in the way is refused. The mark is copied with the site,
so a folder that holds a copy of a built site counts as an output; the hint of every refusal
says to move a folder away rather than point a build at it.

**All at once.** A SIGKILL at any instant leaves the output as the complete old site or the
complete new one. The output is only ever replaced whole, by exchanging two folder names in one
system call (``renameat2(RENAME_EXCHANGE)``); files are never written in place. Behind the
output, in ``.sitegen-swap/<output name>/`` (beside the output, on its file system, and apart from
the cache, which a CI system may restore from anywhere), is a *back tree*: the previous site, whose unchanged files are hard links sharing the output's inodes. A
rebuild

1. marks the back tree dirty (deletes ``state.json``), then brings it up to the site as it is,
   fixing only the paths listed in the state's ``lag`` (what the last build changed: written,
   removed and stray paths), by hard links from the output;
2. moves this build's new files in from the staging folder, deletes what it removed and prunes
   the folders left empty, so the back tree is the new site, exactly;
3. exchanges the back tree and the output, and writes the state: the old site is now the back
   tree, and ``lag`` this build's changes.

So a one-page rebuild touches a handful of files and does one exchange, where a fresh tree of
hard links would cost a ``mkdir`` and a ``link`` for each of the site's files. Without a valid
state (the first rebuild after a full build, or after a kill while the back tree was being
changed), the build links every unchanged file into its staging folder instead, which then
becomes the new site, and the old one the back tree: the slow path, once. A full build's staging
folder is the whole site: it is exchanged with the output (or renamed, if there is none), and
the old site is deleted once the new one is in place; no back tree is made then, as that would
cost a cold build the links (some 0.4 s at 10,000 pages). Where ``RENAME_EXCHANGE`` is missing (not Linux,
or a file system without it) two renames do the swap, through ``aside`` in that folder; a build killed
between them leaves the old site there, and the next build puts it back before anything else.

The state is checked as untrusted input: it counts only if it names the current output
and back folders (device and inode), and its paths are plain relative names; anything else means
the slow path. Tests make a build kill itself at its Nth step with ``SITEGEN_TEST_KILL_AT=N``.

**Nothing else.** A file added to the output by hand is a stray: it is gone after the next
build, as it would be after a clean one. Adding or removing an entry changes a folder's ctime
(which, unlike the mtime, no one can set back), so a build stats each of the site's folders (some
25 ms for 10,000 folders, in a process of its own while the inputs are read: ``look_at_output``)
and lists only those changed since it last looked, less a racy margin (see ``look_at_folders``).
An output file replaced by a link or a folder, or a folder by a link, makes the next build a full
one. The back tree is published by the next exchange, so the same look covers it before it is
used: its folders changed since it was last looked at as the output (an entry added during the
build that swapped it out, or put there by hand) are listed, and an entry no build made, or a
file that is not the output's, is removed or linked again.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from .cache import CACHE_DIR, OutStat, default_cache_dir, folder_id, output_stat
from .content import CONTENT_DIR, TEMPLATES_DIR
from .data import DATA_DIR
from .errors import SiteError
from .i18n import LOCALES_DIR
from .inputs import RACY_NS
from .model import Site
from .source import folders_of, is_hidden, lstat_mode, plain_relatives, remove_path, replace_file

ASSETS_DIR = "assets"
MARKER = ".sitegen-output"  # in every output: the mark of a folder a build wrote
SOURCE_DIRS = (CONTENT_DIR, DATA_DIR, TEMPLATES_DIR, ASSETS_DIR, LOCALES_DIR, ".git")
SWAP_DIR = ".sitegen-swap"  # beside the output, like the cache: what this module keeps behind the output
_OLD_SWAP = "swap"  # where earlier versions kept the back tree: in the output's cache folder
BACK = "back"  # the back tree
ASIDE = "aside"  # the old site, between the two renames of a swap without RENAME_EXCHANGE
STATE = "state.json"  # what the back tree and the output were when the last build ended
STAGING_PREFIX = "new-"


@dataclass(frozen=True)
class Asset:
    """A static file, with its content-hashed output name."""

    source: Path
    name: str  # path under assets/, as templates ask for it
    output: str  # path under the output folder

    @property
    def url(self) -> str:
        return "/" + self.output


def hashed_name(name: str, content: bytes) -> str:
    """``css/style.css`` → ``css/style.1a2b3c4d.css``: a new name whenever the bytes change."""
    return _hashed(name, hashlib.sha256(content).hexdigest())


def _hashed(name: str, sha256: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{sha256[:10]}.{ext}" if dot else f"{name}.{sha256[:10]}"


def find_assets(root: Path, digest: Callable[[str], str] | None = None) -> list[Asset]:
    """Every file under ``assets/``, sorted, with its hashed output name.

    ``digest`` gives the hex SHA-256 of a file (its first ten digits at least) by its path
    relative to ``root``: a build cache passes one that does not read unchanged files again.
    """
    from .errors import BuildFailed, SiteError
    from .source import check_links, inside_project, read_file, walk_files

    try:  # before walking: a link to / would have the whole disk walked
        inside_project(root, ASSETS_DIR)
    except SiteError as exc:
        raise BuildFailed([exc.problem]) from None
    links: list[str] = []
    found = walk_files(root / ASSETS_DIR, links)
    problems = [exc.problem for exc in check_links(root, ASSETS_DIR, links)]
    assets: list[Asset] = []
    for name in sorted((name for name, _ in found), key=lambda name: name.split("/")):
        if is_hidden(name):
            continue
        relative = f"{ASSETS_DIR}/{name}"
        try:  # the file is copied from its real path, checked to be inside the project
            path = inside_project(root, relative)
            hashed = _hashed(name, digest(relative)) if digest else hashed_name(name, read_file(root, relative))
        except SiteError as exc:
            problems.append(exc.problem)
            continue
        assets.append(Asset(path, name, f"{ASSETS_DIR}/{hashed}"))
    if problems:
        raise BuildFailed(problems)
    return assets


def sitemap(site: Site) -> str:
    """``sitemap.xml`` with every real page and its hreflang alternates (fallbacks left out)."""
    from xml.sax.saxutils import escape, quoteattr  # imports urllib and http: only when a sitemap is made

    config = site.config
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    alternates: dict[str, list[str]] = {}  # the same for every language of a key
    for page in site.pages:
        if page.fallback:
            continue
        lines.append("  <url>")
        lines.append(f"    <loc>{escape(config.absolute(page.url))}</loc>")
        links = alternates.get(page.key)
        if links is None:
            links = alternates[page.key] = [
                f'    <xhtml:link rel="alternate" hreflang="{alt.hreflang}" href={quoteattr(alt.href)}/>'
                for alt in site.versions(page.key).alternates
            ]
        lines.extend(links)
        lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.config.absolute('/sitemap.xml')}\n"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'none'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


# Directives that browsers ignore, with a console warning, in a <meta> policy: only the HTTP header
# (the ``_headers`` file) can carry them.
META_IGNORED_DIRECTIVES = ("frame-ancestors", "report-uri", "sandbox")


def meta_policy(policy: str) -> str:
    """The part of a Content-Security-Policy that a ``<meta http-equiv>`` element can carry."""
    kept = [d.strip() for d in policy.split(";") if d.split() and d.split()[0].lower() not in META_IGNORED_DIRECTIVES]
    return "; ".join(kept)


def csp_meta(policy: str) -> str:
    """The ``<meta http-equiv>`` element that carries ``policy`` in a page (what a meta element can carry of it)."""
    return f'<meta http-equiv="Content-Security-Policy" content="{meta_policy(policy)}">'


def headers_file() -> str:
    """Security headers for static hosts that read a ``_headers`` file (Netlify, Cloudflare Pages)."""
    return (
        "/*\n"
        f"  Content-Security-Policy: {CONTENT_SECURITY_POLICY}\n"
        "  Referrer-Policy: no-referrer\n"
        "  X-Content-Type-Options: nosniff\n"
        "  Permissions-Policy: camera=(), microphone=(), geolocation=(), interest-cohort=()\n"
        "  Cross-Origin-Opener-Policy: same-origin\n"
        "  Strict-Transport-Security: max-age=31536000\n"
        "/assets/*\n"
        "  Cache-Control: public, max-age=31536000, immutable\n"
    )


# --- where the site may go --------------------------------------------------------------------


def check_output(root: Path, out: Path, cache_dir: Path | None = None) -> None:
    """Raise ``SiteError`` unless a build may replace ``out``; create and change nothing."""
    root, shown = root.resolve(), out.resolve()
    to_fix = "choose another folder with --out, such as site"

    def refuse(what: str, hint: str = to_fix) -> SiteError:
        return SiteError(f"the output folder {shown} {what}", hint=hint)

    if shown == root:
        raise refuse("is the site's own folder")
    if root.is_relative_to(shown):
        raise refuse("contains the site's folder")
    for name in SOURCE_DIRS:
        if shown.is_relative_to(root / name):
            raise refuse(f"is inside the site's sources ({name}/)")
        source = (root / name).resolve()
        if not source.is_relative_to(root):
            continue  # a link out of the project: the build refuses it, naming the link, before it writes
        if shown.is_relative_to(source):
            raise refuse(f"is inside the site's sources ({name}/)")
        if source.is_relative_to(shown):  # a source folder linked from elsewhere in the project
            raise refuse(f"contains the site's sources ({name}/)")
    caches = [cache_dir.resolve()] if cache_dir is not None else []
    if any(part in (CACHE_DIR, SWAP_DIR) for part in shown.parts) or any(
        shown.is_relative_to(c) or c.is_relative_to(shown) for c in caches
    ):
        raise refuse(f"is inside a build cache ({CACHE_DIR}/ or {SWAP_DIR}/)")
    if os.path.islink(out) and not os.path.exists(out):
        raise refuse(
            f"is a link to {os.readlink(out)}, which does not exist",
            "create the folder the link names, or remove the link",
        )
    try:
        st = os.stat(shown)
    except (FileNotFoundError, NotADirectoryError):
        return  # a new folder (a file on the way to it is the file system's error, said when the build makes it)
    if not stat.S_ISDIR(st.st_mode):
        raise refuse("is a file, not a folder", "choose a folder with --out; a build never replaces a file")
    if not os.listdir(shown) or stat.S_ISREG(
        lstat_mode(shown / MARKER)
    ):  # not the cache's word for it: the cache is untrusted
        return
    raise refuse(
        f"holds files that no build wrote (it has no {MARKER} file)",
        f"choose a new or empty folder with --out, or move {shown} away yourself",
    )


# --- the folders behind the output ------------------------------------------------------------


def swap_dir(out: Path) -> Path:
    """``.sitegen-swap/<output name>`` beside the output: the build's own, apart from the cache, which
    a CI system restores from elsewhere (a back tree brought in with it would be published)."""
    out = out.resolve()
    return out.parent / SWAP_DIR / out.name


def make_staging(out: Path) -> Path:
    """An empty folder beside ``out``, on its file system (so that renames into ``out`` stay on one)."""
    folder = swap_dir(out)
    folder.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=folder))


def recover(out: Path) -> None:
    """Undo what a killed build left: put an old site set aside back in place, then drop the rest.

    Call it first, while holding the build lock. Staging folders (never a site but in the instant of a
    rename, which a kill cannot split) and half-written states are always removed; ``aside``, an old
    site, only when a site is in place; the back tree of earlier versions always (``remove_leftovers``).
    Whatever has the wrong shape (a file for a folder) is removed.
    """
    swap = swap_dir(out)
    aside = swap / ASIDE
    for folder in (swap.parent, swap):  # a link or a file in the build's own place (a repository may hold
        if os.path.lexists(folder) and not stat.S_ISDIR(lstat_mode(folder)):  # one): removed, never gone through
            remove_path(folder)
    if (
        not os.path.lexists(out) and stat.S_ISDIR(lstat_mode(aside)) and stat.S_ISREG(lstat_mode(aside / MARKER))
    ):  # a site, not a cache's junk
        os.rename(aside, out)
    if swap.is_dir():
        for entry in os.scandir(swap):
            if re.fullmatch(rf"{STAGING_PREFIX}[a-z0-9_]{{8}}|\..*\.tmp", entry.name):  # replace_file's too
                remove_path(Path(entry.path))
    if os.path.lexists(out):
        remove_path(aside)
    remove_leftovers(out)


def remove_leftovers(out: Path) -> None:
    """The one thing earlier versions left that matters: their back tree, in the cache's folder
    (``.sitegen-cache/<out>/swap``), which CI systems restore from anywhere. No build reads it; it is
    removed, so that nothing ever publishes it."""
    remove_path(default_cache_dir(out) / _OLD_SWAP)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_NO_EXCHANGE = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV}


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    if sys.platform != "linux":
        return None
    import ctypes  # here: only a build that changes the site needs it

    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a C library older than glibc 2.28
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


def _exchange_names(a: Path, b: Path) -> bool:
    """Swap the names of two folders in one system call; False where there is no such call."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    import ctypes

    code = ctypes.get_errno()
    if code in _NO_EXCHANGE:
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def exchange(new: Path, out: Path) -> bool:
    """Put the folder ``new`` at ``out``, and what was at ``out`` at ``new``; False if there was none."""
    os.chmod(new, 0o755)  # mkdtemp made it private
    if not os.path.lexists(out):
        os.rename(new, out)
        return False
    if _exchange_names(new, out):
        return True
    aside = swap_dir(out) / ASIDE  # the name ``recover`` knows
    remove_path(aside)
    os.rename(out, aside)
    faults.step()
    try:
        os.rename(new, out)
    except BaseException:
        os.rename(aside, out)
        raise
    faults.step()
    os.rename(aside, new)
    return True


class Faults:
    """The test hook: with ``SITEGEN_TEST_KILL_AT=N`` in the environment, SIGKILL at the Nth step."""

    def __init__(self) -> None:
        value = os.environ.get("SITEGEN_TEST_KILL_AT", "")
        self.kill_at = int(value) if value.isdigit() else 0
        self.steps = 0

    def step(self) -> None:
        if self.kill_at:
            self.steps += 1
            if self.steps == self.kill_at:
                os.kill(os.getpid(), signal.SIGKILL)


faults = Faults()


# --- the state of the back tree ---------------------------------------------------------------

STATE_VERSION = 1
_MAX_STATE_BYTES = 64 << 20


@dataclass(frozen=True)
class SwapState:
    """What the output and the back tree were when the last build into the output ended."""

    site: tuple[int, int]  # device and inode of the output folder
    checked_ns: int  # no stray was in the output's folders then (see ``find_strays``)
    back: tuple[int, int] | None = None  # the back tree's folder; None: there is no usable back tree
    lag: tuple[str, ...] = ()  # the paths where the back tree differs from the output
    # When the tree now in back was last looked at for strays, while it was the output: an entry
    # added to it since (by hand, or during the build that swapped it out)
    # would otherwise be published by the next exchange (see ``publish_changes``).
    back_checked_ns: int = 0


def _pair(value: object) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value):
        return (value[0], value[1])
    return None


def read_state(out: Path) -> SwapState | None:
    """The state, if it describes the output as it is; the back tree only if it is the one described."""
    folder = swap_dir(out)
    try:
        path = folder / STATE
        if os.lstat(path).st_size > _MAX_STATE_BYTES:
            return None
        raw = json.loads(path.read_bytes())
        site = folder_id(out)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(raw, dict) or raw.get("version") != STATE_VERSION or _pair(raw.get("site")) != site:
        return None
    checked = raw.get("checked_ns")
    now = time.time_ns()
    if type(checked) is not int or checked > now:  # a look "after now" would cover what comes next
        return None
    back, lag = _pair(raw.get("back")), raw.get("lag")
    try:
        back_now = folder_id(folder / BACK) if stat.S_ISDIR(lstat_mode(folder / BACK)) else None
    except OSError:
        back_now = None
    back_checked = raw.get("back_checked_ns", 0)
    if (
        back is None
        or back != back_now
        or not isinstance(lag, list)
        or not plain_relatives(lag)
        or type(back_checked) is not int
        or back_checked > now
    ):
        return SwapState(site, checked)
    return SwapState(site, checked, back, tuple(lag), back_checked)


def write_state(out: Path, state: SwapState) -> None:
    """Write the state with ``source.replace_file``, so that it is whole or absent."""
    folder = swap_dir(out)
    data = {
        "version": STATE_VERSION,
        "site": list(state.site),
        "checked_ns": state.checked_ns,
        "back": list(state.back) if state.back else None,
        "lag": list(state.lag),
        "back_checked_ns": state.back_checked_ns,
    }
    replace_file(folder / STATE, json.dumps(data).encode("utf-8"), durable=False)


def clear_state(out: Path) -> None:
    """Mark the back tree dirty: until a new state is written, no build trusts it."""
    remove_path(swap_dir(out) / STATE)
    faults.step()


# --- strays -----------------------------------------------------------------------------------


@dataclass
class Strays:
    """What a look at the output's folders found that the build did not make."""

    started_ns: int  # when the look began
    paths: list[str] = field(default_factory=list)  # stray files and folders (a folder once, not what is in it)
    odd: list[str] = field(default_factory=list)  # an output file or folder that is a link, a folder or a file
    listed: int = 0  # folders listed


# How long before a change a file system may date it: a tick of the kernel's coarse clock (10 ms
# at most) where mtimes have nanoseconds, the granularity (up to 2 s, FAT) where they have not.
FINE_RACY_NS = 50_000_000


class FolderLook(NamedTuple):
    """A tree's folders changed since a look found nothing in them, and those that are not folders."""

    started_ns: int  # when the look began
    changed: list[str]
    odd: list[str]


def look_at_folders(top: Path, folders: Iterable[str], checked_ns: int) -> FolderLook:
    """Which of ``folders`` under ``top`` changed since ``checked_ns`` (less a racy margin), and which are not folders.

    An entry added to or removed from a folder changes its mtime and its ctime; the ctime is read, because
    setting the mtime back (``touch -d``) sets the ctime to now. The margin is ``RACY_NS`` where the ctime is a
    whole number of milliseconds (a coarse file
    system), else ``FINE_RACY_NS``: after a build that made every folder, the next one need not list
    them all again. A folder that is gone is neither: the files that were in it are made again.
    """
    look = FolderLook(time.time_ns(), [], [])
    prefix = f"{top}/"
    lstat = os.lstat
    for folder in folders:
        try:
            st = lstat(prefix + folder if folder else top)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError:  # a name too long, no permission: not the folder a build made
            look.odd.append(folder)
            continue
        if not stat.S_ISDIR(st.st_mode):
            look.odd.append(folder)
        elif st.st_ctime_ns >= checked_ns - (RACY_NS if st.st_ctime_ns % 1_000_000 == 0 else FINE_RACY_NS):
            look.changed.append(folder)  # the ctime, which no one can set back as they can the mtime
    return look


class OutputLook(NamedTuple):
    """What a build needs to know about the output it will replace, found while it reads its inputs."""

    moved: set[str]  # recorded outputs that are not the files recorded (changed by hand, replaced, gone)
    site: FolderLook  # the output's folders (see ``find_strays``)
    back: FolderLook | None  # the back tree's, when there is one to use (see ``publish_changes``)


def output_folders(recorded: Iterable[str], state: SwapState | None) -> set[str]:
    """The folders ``look_at_output`` looks at: those of the recorded outputs and of the back tree's lag."""
    return folders_of([*recorded, *(state.lag if state is not None else ())])


def look_at_output(
    out: Path, recorded: Mapping[str, OutStat], state: SwapState | None, folders: Collection[str]
) -> OutputLook:
    """Stat every recorded output, and look at ``folders`` (``output_folders``) in the output and the back tree.

    Some 60 ms at 10,000 pages, nearly all of it waiting for the file system: a build runs it in a process of
    its own while it reads its inputs (``workers.InBackground``)."""
    prefix = f"{out}/"
    moved = {name for name, st in recorded.items() if output_stat(prefix + name) != st}
    site = look_at_folders(out, folders, state.checked_ns if state is not None else 0)
    back = None
    if state is not None and state.back is not None:
        back = look_at_folders(swap_dir(out) / BACK, folders, state.back_checked_ns)
    return OutputLook(moved, site, back)


def find_strays(
    out: Path,
    outputs: Iterable[str],
    checked_ns: int,
    expected: Mapping[str, OutStat] | None = None,
    looked: tuple[FolderLook, Collection[str]] | None = None,
) -> Strays:
    """The entries of ``out`` that are not ``outputs`` or their folders, or (in a folder listed) an
    output that ``expected`` gives and that is not the file with that stat.

    Only the folders changed since ``checked_ns`` are listed (see ``look_at_folders``): the others
    have not changed since a look found nothing in them. ``looked`` is a look already taken at some
    of the folders (in a process of its own, while the build read its inputs), and which they were.
    """
    outputs = list(outputs)
    folders = folders_of(outputs)
    if looked is None:
        look = look_at_folders(out, folders, checked_ns)
    else:
        look, covered = looked
        rest = look_at_folders(out, folders.difference(covered), checked_ns)
        look = look._replace(changed=[*look.changed, *rest.changed], odd=[*look.odd, *rest.odd])
    found = Strays(look.started_ns, odd=list(look.odd))
    top = str(out)
    changed = look.changed
    if not changed:
        return found
    names: dict[str, set[str]] = {folder: set() for folder in changed}
    for name in [*outputs, *folders]:
        folder, _, base = name.rpartition("/")
        if folder in names and name:
            names[folder].add(base)
    for folder in changed:
        found.listed += 1
        prefix = f"{folder}/" if folder else ""
        with os.scandir(f"{top}/{folder}" if folder else top) as entries:
            for entry in entries:
                relative = prefix + entry.name
                if entry.name not in names[folder]:
                    found.paths.append(relative)
                elif relative in folders:
                    if not entry.is_dir(follow_symlinks=False):
                        found.odd.append(relative)
                elif not entry.is_file(follow_symlinks=False):
                    found.odd.append(relative)
                elif expected is not None and relative in expected and output_stat(entry.path) != expected[relative]:
                    found.paths.append(relative)  # replaced by another file, or gone since it was listed
    found.paths.sort()
    return found


def remember_look(out: Path, state: SwapState | None, strays: Strays) -> None:
    """After a build that found no stray and changed nothing: the next build need look only at what changes from now."""
    if strays.listed or state is None:
        checked = strays.started_ns
        write_state(
            out, dataclasses.replace(state, checked_ns=checked) if state else SwapState(folder_id(out), checked)
        )


# --- writing ----------------------------------------------------------------------------------


def write_file(folder: Path, relative: str, content: bytes) -> None:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def copy_asset(folder: Path, asset: Asset) -> None:
    target = folder / asset.output
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(asset.source, target)


class _Folders:
    """Makes the folders files go into, each once."""

    def __init__(self, top: Path) -> None:
        self.top = str(top)
        self.made: set[str] = set()

    def path_for(self, relative: str) -> str:
        folder = relative.rpartition("/")[0]
        if folder and folder not in self.made:
            os.makedirs(f"{self.top}/{folder}", exist_ok=True)
            self.made.add(folder)
        return f"{self.top}/{relative}"


def publish_full(staging: Path, out: Path) -> None:
    """Put a complete new site (``staging``) in place, then delete the old one.

    No back tree is made here: linking every file again would cost a cold build some 0.4 s at
    10,000 pages, against the cold-build budget. The first rebuild after a full build takes the
    slow path instead (its staging folder gets the links, and the old site becomes the back tree).
    """
    back = swap_dir(out) / BACK
    clear_state(out)
    remove_path(back)
    started = time.time_ns()
    if exchange(staging, out):
        faults.step()
        shutil.rmtree(staging)  # the old site, now that the new one is in place
    faults.step()
    write_state(out, SwapState(folder_id(out), started))


def publish_changes(
    out: Path,
    staging: Path,
    state: SwapState | None,
    kept: Mapping[str, OutStat],
    written: Collection[str],
    removed: Collection[str],
    strays: Collection[str],
    looked_ns: int,
    looked: tuple[FolderLook, Collection[str]] | None = None,
) -> None:
    """Make the new site beside the output (in the back tree, or in ``staging``), then exchange the two.

    ``kept`` are the new site's files that are in the output as they should be (with the stat
    they have there), ``written`` its files in ``staging``, ``removed`` the old site's files it
    no longer has, and ``strays`` the output's entries that no build made, found by a look at
    the output that began at ``looked_ns``. ``looked``: a look at the back tree's folders taken earlier
    (``look_at_output``), and which folders it covered.

    The back tree is published by the exchange, so it is looked at too: the folders changed since
    it was last looked at as the output are listed, and what no build made in them is removed.
    """
    back = swap_dir(out) / BACK
    clear_state(out)
    lag = state.lag if state is not None and state.back is not None else None
    if lag is not None and state is not None:
        hidden = find_strays(back, [*kept, *removed, *written, *lag], state.back_checked_ns, kept, looked)
        lag = None if hidden.odd else tuple(dict.fromkeys([*lag, *hidden.paths]))
    if lag is not None and _real_folders(back, [*lag, *removed, *written]):
        tree = back
        folders = _Folders(back)
        for relative in [*lag, *removed]:  # first what is in the way of the new files
            remove_path(back / relative)
            faults.step()
        for relative in lag:  # the back tree as the site is
            if relative in kept:
                _link(out, folders, relative, kept[relative])
        for relative in written:  # then as it will be
            os.replace(staging / relative, folders.path_for(relative))
            faults.step()
        _prune(back, [*lag, *removed])
        shutil.rmtree(staging)
    else:
        tree = staging
        folders = _Folders(staging)
        for relative, st in kept.items():
            _link(out, folders, relative, st)
    started = time.time_ns()
    exchange(tree, out)
    faults.step()
    if tree == staging:  # the old site is the back tree from now on
        remove_path(back)
        os.rename(staging, back)
        faults.step()
    lag = tuple(sorted({*written, *removed, *strays}))
    write_state(out, SwapState(folder_id(out), started, folder_id(back), lag, looked_ns))


def _link(out: Path, folders: _Folders, relative: str, expected: OutStat) -> None:
    """Link the output's file into the new tree, if it is still the file the build saw there."""
    target = folders.path_for(relative)
    os.link(out / relative, target, follow_symlinks=False)
    if output_stat(target) != expected:
        raise SiteError(
            "a file of the output changed while the site was being built", out / relative, hint="build again"
        )
    faults.step()


def _real_folders(top: Path, paths: Iterable[str]) -> bool:
    """Whether every folder on the way to each path under ``top`` is a folder, or missing (not a link, not a file)."""
    modes = (lstat_mode(top / folder) for folder in folders_of(paths) if folder)
    return all(mode == 0 or stat.S_ISDIR(mode) for mode in modes)


def _prune(top: Path, paths: Iterable[str]) -> None:
    """Remove the folders of ``paths`` that are empty now, and their parents that become empty."""
    for folder in sorted(folders_of(paths), key=len, reverse=True):  # a folder before its parent
        if folder:
            try:
                os.rmdir(top / folder)
            except OSError:  # not empty, or gone
                continue
            faults.step()

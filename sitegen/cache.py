"""The build cache: what each output was made from, so that a rebuild redoes only what changed.

The cache is a folder of its own (by default ``.sitegen-cache/<output name>/`` beside the
output). It holds, from the last good build:

- every input file's stat and content digest: a file whose stat has not changed is not read
  again, unless it changed so close to that build that its stat cannot be trusted ("racy",
  as git calls it), and then it is read and hashed;
- every page's parsed front matter, by content digest, so that YAML is parsed once per edit;
- every output file's digest, its stat as written, and ``Deps``: what it was made from.

Each file starts with a header (format, engine fingerprint, checksum of the rest). A cache
from another version of the engine or of its libraries, for another site or output folder,
or damaged in any way, is discarded whole and the build starts clean. It is written only
after a build has succeeded, each file with ``source.replace_file``.

The cache is untrusted input (CI systems restore caches from other branches): it is plain
MessagePack data, never code, and every value read back is checked before it is used.
"""

from __future__ import annotations

import dataclasses
import datetime
import errno
import gc
import hashlib
import importlib.util
import itertools
import os
import re
import stat as statmode
import sys
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import msgpack  # type: ignore[import-untyped]

from .content import CONTENT_DIR, PageMeta, PageSource, file_digest, page_key
from .errors import CONTROL, Problem
from .source import folders_of, lstat_mode, plain_relative, plain_relatives, remove_path, replace_file

MAGIC = b"sitegen-cache 5\n"
CACHE_DIR = ".sitegen-cache"
LOCK = "lock"  # in the cache folder: held by the build writing to its output
_LIBRARIES = ("markdown", "jinja2", "markupsafe", "babel", "yaml", "phonenumbers", "msgpack")
_NOT_BUILD = ("cli.py", "serve.py", "checks.py")  # modules that never shape an output

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
OutStat = tuple[int, int, int]  # size, mtime_ns, inode (a rename changes ctime, not these)
Lookup = tuple[tuple[str, str], str | None]  # ((key, lang), the URL url_for answered)


def digest_bytes(data: bytes) -> str:
    """The first 128 bits of the SHA-256, in hex (a prefix of what ``output.hashed_name`` uses)."""
    return hashlib.sha256(data).hexdigest()[:32]


def file_stat(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def output_stat(path: Path | str) -> OutStat | None:
    """The stat of an output file, not following a link; None if it is gone, is not a file (a link or a
    folder put there by hand), or cannot be looked at (a name too long, from a forged cache): made again."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino) if statmode.S_ISREG(st.st_mode) else None


def engine_fingerprint() -> str:
    """The engine's own code, its libraries and Python: any change to them invalidates the cache.

    A library is known by where its package is and when it was installed (the stat of its
    ``__init__.py``): cheaper than ``importlib.metadata``, and an upgrade rewrites that file.
    """
    h = hashlib.sha256(sys.version.encode())
    for name in _LIBRARIES:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec and spec.origin else ""
        stat = file_stat(os.stat(origin)) if origin else ()
        h.update(f"{name}={origin}:{stat}\n".encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        if path.name not in _NOT_BUILD:
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


class FoundLink(NamedTuple):
    """An internal link of a page, where its text has it."""

    href: str  # as written
    target_key: str  # the page it leads to
    fragment: str  # its #anchor ("" for none)
    line: int


class InputFile(NamedTuple):
    stat: Stat
    digest: str


class Deps(NamedTuple):
    """What an output was made from, beyond the engine: each part is compared on the next build."""

    shared: str  # its language's shared inputs: config, data, assets, menus, catalogue, the list of templates
    page: str  # its page's text and which translations exist (for a special page: its context)
    templates: tuple[tuple[str, str], ...] = ()  # (name, digest) of each template the render loaded
    lookups: tuple[Lookup, ...] = ()  # every url_for answer the render used (links, menus in templates)
    catalogues: tuple[tuple[str, str], ...] = ()  # (lang, digest) of catalogues read through translate()


class Output(NamedTuple):
    """One file of the built site, as the cache remembers it."""

    digest: str  # of its bytes
    stat: OutStat  # of the file as written (an output changed or deleted by hand is made again)
    deps: Deps | None = None  # None: made from nothing but its name or the whole site (assets, sitemap)
    # The page's link warnings that only its Deps can change (dead links, images without alt text);
    # its links to #anchors, checked again on every build (another page's headings can change);
    # and its own heading ids, one per line, for the pages that link to them.
    problems: tuple[Problem, ...] = ()
    anchors: tuple[FoundLink, ...] = ()
    ids: str = ""


@dataclass
class Manifest:
    """Everything the cache holds about one site built into one output folder."""

    engine: str
    root: str
    out_id: tuple[int, int] = (0, 0)  # device and inode of the output folder it describes
    scanned_ns: int = 0  # when the inputs were scanned
    site: str = ""  # digest of the config and of which pages exist (see incremental.Inputs)
    inputs: dict[str, InputFile] = field(default_factory=dict)
    sources: dict[str, PageSource] = field(default_factory=dict)  # path → source without body (digest: inputs)
    outputs: dict[str, Output] = field(default_factory=dict)
    shards: list[tuple[str, Shard]] = field(default_factory=list)  # as read: (file name, contents)


# The manifest is stored in SHARDS files, each holding the records whose key hashes to it, and a
# head naming them. A rebuild rewrites only the shards whose records changed (an edit to one page
# touches a few), then the head. Shard files are named after their contents' digest, so a crash
# leaves either the old head and its shards or the new ones: never a mix.
#
# The cache is untrusted input: a CI system restores it from another branch, anyone can write it.
# So it is plain data (MessagePack: strings, numbers, arrays, maps), never code such as a pickle,
# and every value read back is checked for type and shape before it becomes a record. Anything
# that is not as this engine writes it (a file where a folder should be, a folder or a symlink
# where a file should be, cut short, garbage, a record of the wrong shape, an output name that
# leaves the output folder) makes the cache "damaged": it is ignored and the build starts clean.
SHARDS = 64
HEAD = "head.msgpack"
Shard = tuple[dict[str, InputFile], dict[str, PageSource], dict[str, Output]]
_SHARD_NAME = re.compile(r"shard-(\d\d)-[0-9a-f]{16}\.msgpack")
DAMAGED = "damaged"  # left by build_lock where it had to replace a damaged cache folder or lock
# No cache file is read beyond this size, nor all of them together beyond MAX_TOTAL: a cache of 10,000 pages
# is some 7 MB (110 KB a shard), and a crafted one of tiny records takes some 30 times its size in memory to
# decode: 32 MB is a site of about 40,000 pages, and a second or two and 1 GB to refuse.
MAX_FILE = 4 << 20
MAX_TOTAL = 32 << 20
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO planted in the cache must not hang the build


class Damaged(Exception):
    """A cache file or folder that this engine did not write as it is: the cache is ignored."""

    def __init__(self, path: Path | str) -> None:
        super().__init__(str(path))
        self.path = str(path)


def damaged_notice(path: Path | str) -> Problem:
    """The one line a build shows when it ignored a damaged cache."""
    return Problem(
        str(path), 0, "the build cache was damaged and has been ignored", "building everything again", "notice", "cache"
    )


def _shard_of(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % SHARDS


def _split(manifest: Manifest) -> list[Shard]:
    shards: list[Shard] = [({}, {}, {}) for _ in range(SHARDS)]
    for key, entry in manifest.inputs.items():
        shards[_shard_of(key)][0][key] = entry
    for key, source in manifest.sources.items():
        shards[_shard_of(key)][1][key] = source
    for key, output in manifest.outputs.items():
        shards[_shard_of(key)][2][key] = output
    return shards


def _same(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """The same records: records a build kept are the very objects it loaded."""
    return len(new) == len(old) and all(old.get(key) is value for key, value in new.items())


def default_cache_dir(out: Path) -> Path:
    """``.sitegen-cache/<output name>`` beside the output folder."""
    out = out.resolve()
    return out.parent / CACHE_DIR / out.name


def folder_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


# Encoding: a shard's records a column per field (all titles, then all digests, ...), so that the
# reader checks the type of a whole column at once, in C, rather than field by field.


def _ordinal(day: datetime.date | None) -> int | None:
    return None if day is None else day.toordinal()


def _encode_sources(sources: dict[str, PageSource]) -> tuple[tuple[Any, ...], ...]:
    """The pages' sources without their bodies (a renderer reads the body from the page's file)."""
    values = list(sources.values())
    metas = [source.meta for source in values]
    lines = [source.meta_lines for source in values]
    return (
        tuple(source.path for source in values),
        tuple(meta.title for meta in metas),
        tuple(meta.description for meta in metas),
        tuple(meta.template for meta in metas),
        tuple(_ordinal(meta.date) for meta in metas),
        tuple(_ordinal(meta.updated) for meta in metas),
        tuple(meta.source_hash for meta in metas),
        tuple(meta.draft for meta in metas),
        tuple(len(found) for found in lines),  # how many of the flat keys and line numbers are each page's
        tuple(key for found in lines for key in found),
        tuple(number for found in lines for number in found.values()),
        tuple(source.body_line for source in values),
        tuple(source.digest for source in values),
    )


def _encode_outputs(outputs: dict[str, Output]) -> tuple[tuple[Any, ...], ...]:
    """The outputs, with a table of the (shared, templates, catalogues) of their Deps, which most
    share: each Deps names its row, so that a shard holds one copy of each and loads faster.
    Problems and anchors, which few outputs have, are kept as (position, value) pairs."""
    rows: dict[tuple[Any, ...], int] = {}
    values = list(outputs.values())
    deps = [output.deps for output in values]
    lookups = [() if d is None else d.lookups for d in deps]
    return (
        tuple(outputs),
        tuple(output.digest for output in values),
        tuple(number for output in values for number in output.stat),
        tuple(-1 if d is None else rows.setdefault((d.shared, d.templates, d.catalogues), len(rows)) for d in deps),
        tuple("" if d is None else d.page for d in deps),
        tuple(len(found) for found in lookups),
        tuple(key for found in lookups for (key, _), _ in found),
        tuple(lang for found in lookups for (_, lang), _ in found),
        tuple(url for found in lookups for _, url in found),
        tuple(output.ids for output in values),
        tuple((i, tuple(dataclasses.astuple(p) for p in o.problems)) for i, o in enumerate(values) if o.problems),
        tuple((i, output.anchors) for i, output in enumerate(values) if output.anchors),
        tuple(rows),
    )


# Decoding: every value is checked before it becomes a record; anything else raises Damaged.

_INT: set[type] = {int}
_STR: set[type] = {str}
_NONE = type(None)


def _all(types: set[type], *columns: Collection[Any]) -> bool:
    """Every value of every column of one of ``types`` ({*map(type, ...)} is computed in C)."""
    return all({*map(type, column)} <= types for column in columns)


def _is_ints(value: Any, length: int) -> bool:
    return type(value) is tuple and len(value) == length and {*map(type, value)} == _INT


def _columns(value: Any, count: int, where: Path) -> tuple[tuple[Any, ...], ...]:
    """A record's ``count`` columns, each a tuple (their lengths are checked by the caller)."""
    if not (type(value) is tuple and len(value) == count and {*map(type, value)} == {tuple}):
        raise Damaged(where)
    return value


def _is_str_pairs(value: Any) -> bool:
    """A tuple of (str, str): the templates and the catalogues of a Deps."""
    return type(value) is tuple and all(
        type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is str for pair in value
    )


def _decode_inputs(values: Any, where: Path) -> dict[str, InputFile]:
    if type(values) is not dict:
        raise Damaged(where)
    _check_names(values, where)
    for value in values.values():
        if not (type(value) is tuple and len(value) == 2 and type(value[1]) is str and _is_ints(value[0], 4)):
            raise Damaged(where)
    make = InputFile._make
    return {path: make(value) for path, value in values.items()}


_DATE_LIMITS = (datetime.date.min.toordinal(), datetime.date.max.toordinal())


def _decode_dates(days: tuple[Any, ...], where: Path) -> Iterable[datetime.date | None]:
    ordinals = [day for day in days if day is not None]
    if not ordinals:
        return itertools.repeat(None)
    if not (_all(_INT, ordinals) and _DATE_LIMITS[0] <= min(ordinals) and max(ordinals) <= _DATE_LIMITS[1]):
        raise Damaged(where)
    ordinal = datetime.date.fromordinal
    return [None if day is None else ordinal(day) for day in days]


def _decode_sources(value: Any, where: Path) -> dict[str, PageSource]:
    columns = _columns(value, 13, where)
    (
        paths,
        titles,
        descriptions,
        templates,
        dates,
        updated,
        hashes,
        drafts,
        counts,
        keys,
        numbers,
        body_lines,
        digests,
    ) = columns
    if not (
        all(len(column) == len(paths) for column in (*columns[:9], body_lines, digests))
        and _all(_STR, paths, titles, descriptions, templates, hashes, keys, digests)
        and _all(_INT, counts, numbers, body_lines)
        and _all({bool}, drafts)
        and min(counts, default=0) >= 0
        and sum(counts) == len(keys) == len(numbers)
        and min(numbers, default=0) >= 0
        and min(body_lines, default=0) >= 0
        and "" not in titles  # what a parse of a page never gives
        and {len(digest) for digest in set(digests)} <= {len(file_digest(""))}
        and all(not name or (name.endswith(".html") and plain_relative(name)) for name in set(templates))
    ):
        raise Damaged(where)
    _check_names(paths, where)
    # Renderers read a page's body from its path: the path says its language and key, so they are not stored.
    parts = [path.split("/", 2) for path in paths]
    if not all(len(part) == 3 and part[0] == CONTENT_DIR for part in parts):
        raise Damaged(where)
    pairs = zip(keys, numbers, strict=True)
    lines = [dict(itertools.islice(pairs, count)) for count in counts]
    metas = map(
        PageMeta,
        titles,
        descriptions,
        templates,
        _decode_dates(dates, where),
        _decode_dates(updated, where),
        hashes,
        drafts,
    )
    langs = (part[1] for part in parts)
    page_keys = (page_key(part[2]) for part in parts)
    return dict(
        zip(
            paths,
            map(PageSource, langs, page_keys, paths, metas, lines, itertools.repeat(""), body_lines, digests),
            strict=True,
        )
    )


def _decode_problem(value: Any, where: Path) -> Problem:
    """A page's cached link warning (only warnings are cached)."""
    if not (
        type(value) is tuple
        and len(value) == 7
        and value[4] == "warning"
        and type(value[1]) is int
        and all(type(text) is str and not CONTROL.search(text) for text in value[:1] + value[2:])
        and value[0].startswith(CONTENT_DIR + "/")  # a page's warning names the page's file
        and value[1] >= 0
    ):
        raise Damaged(where)  # a forged line could move the terminal's cursor or pose as another line
    return Problem(*value)


def _decode_rows(rows: tuple[Any, ...], shared: dict[Any, Any], where: Path) -> list[tuple[str, Any, Any]]:
    """The shard's table of (shared, templates, catalogues), one copy of each for all shards."""
    kept: list[tuple[str, Any, Any]] = []
    for row in rows:
        if not (
            type(row) is tuple
            and len(row) == 3
            and type(row[0]) is str
            and _is_str_pairs(row[1])
            and _is_str_pairs(row[2])
        ):
            raise Damaged(where)
        found = shared.get(row)
        if found is None:
            found = shared[row] = row
        kept.append(found)
    return kept


def _is_anchors(anchors: Any) -> bool:
    """A page's links to #anchors: (href, key, fragment, line); a warning may show them on the terminal."""
    return type(anchors) is tuple and all(
        type(anchor) is tuple
        and len(anchor) == 4
        and type(anchor[0]) is str
        and type(anchor[1]) is str
        and type(anchor[2]) is str
        and type(anchor[3]) is int
        and anchor[3] >= 0
        and not CONTROL.search(anchor[0] + anchor[1] + anchor[2])
        for anchor in anchors
    )


def _sparse(pairs: tuple[Any, ...], count: int, where: Path) -> dict[int, Any]:
    """(position, value) pairs, positions of the ``count`` outputs, each once."""
    if not all(type(pair) is tuple and len(pair) == 2 and type(pair[0]) is int for pair in pairs):
        raise Damaged(where)
    found = dict(pairs)
    if len(found) != len(pairs) or (found and not (min(found) >= 0 and max(found) < count)):
        raise Damaged(where)
    return found


def _decode_outputs(value: Any, shared: dict[Any, Any], where: Path) -> dict[str, Output]:
    columns = _columns(value, 13, where)
    names, digests, stats, row_of, pages, counts, keys, langs, urls, ids, problems, anchors, rows = columns
    count = len(names)
    if not (
        all(len(column) == count for column in (digests, row_of, pages, counts, ids))
        and len(stats) == 3 * count
        and _all(_STR, names, digests, pages, keys, langs, ids)
        and _all(_INT, stats, row_of, counts)
        and _all({str, _NONE}, urls)
        and min(counts, default=0) >= 0
        and sum(counts) == len(keys) == len(langs) == len(urls)
        and min(row_of, default=0) >= -1
        and max(row_of, default=-1) < len(rows)
    ):
        raise Damaged(where)
    _check_names(names, where)
    table = _decode_rows(rows, shared, where)
    found_problems = _sparse(problems, count, where)
    for i, plain in found_problems.items():
        if type(plain) is not tuple:
            raise Damaged(where)
        found_problems[i] = tuple(_decode_problem(problem, where) for problem in plain)
    found_anchors = _sparse(anchors, count, where)
    if not all(map(_is_anchors, found_anchors.values())):
        raise Damaged(where)
    for i, plain in found_anchors.items():
        found_anchors[i] = tuple(map(FoundLink._make, plain))
    lookups = zip(zip(keys, langs, strict=True), urls, strict=True)
    stat = iter(stats)
    outputs: dict[str, Output] = {}
    for i, (name, digest, out_stat, row, page, lookup_count, its_ids) in enumerate(
        zip(names, digests, zip(stat, stat, stat, strict=True), row_of, pages, counts, ids, strict=True)
    ):
        deps = None
        if row >= 0:
            common, templates, catalogues = table[row]
            deps = Deps(common, page, templates, tuple(itertools.islice(lookups, lookup_count)), catalogues)
        elif lookup_count:
            raise Damaged(where)  # lookups without Deps
        outputs[name] = Output(digest, out_stat, deps, found_problems.get(i, ()), found_anchors.get(i, ()), its_ids)
    return outputs


def _check_names(names: Collection[Any], where: Path) -> None:
    """Every name as ``source.plain_relative`` wants it (an output name is a file the build may delete), each once."""
    if not plain_relatives(names) or len(set(names)) != len(names):
        raise Damaged(where)


def _decode_shard(payload: bytes, shared: dict[Any, Any], where: Path) -> Shard:
    value = _unpack(payload, where)
    if not (type(value) is tuple and len(value) == 3):
        raise Damaged(where)
    return _decode_inputs(value[0], where), _decode_sources(value[1], where), _decode_outputs(value[2], shared, where)


def _unpack(payload: bytes, where: Path) -> Any:
    try:
        return msgpack.unpackb(payload, use_list=False, raw=False, strict_map_key=True)
    except (ValueError, msgpack.UnpackException):  # cut short, not MessagePack, nested too deep, not UTF-8
        raise Damaged(where) from None


def _pack(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)  # type: ignore[no-any-return]


# Files: read without following symlinks, written with source.replace_file.


def _read(path: Path, engine: str) -> bytes | None:
    """A cache file's payload, or None if another format or engine wrote it.

    Raises ``FileNotFoundError`` if there is no such file, and ``Damaged`` if it is not a regular
    file (a symlink is not followed), or is too large, or its header or checksum is wrong.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    except FileNotFoundError:
        raise
    except OSError:  # a symlink, a folder in the way, no permission
        raise Damaged(path) from None
    try:
        st = os.fstat(fd)
        if not statmode.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:
            raise Damaged(path)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read()
    except OSError:
        raise Damaged(path) from None
    finally:
        os.close(fd)
    header, _, payload = data.partition(b"\n\n")
    lines = header.split(b"\n")
    if len(lines) != 3 or not lines[0].startswith(MAGIC.split(b" ")[0] + b" "):
        raise Damaged(path)
    if lines[0] + b"\n" != MAGIC or lines[1] != engine.encode():
        return None
    if lines[2] != digest_bytes(payload).encode():
        raise Damaged(path)
    return payload


def _write(path: Path, engine: str, payload: bytes) -> None:
    """Write a cache file with ``source.replace_file``, so that it is either whole or absent."""
    if statmode.S_ISDIR(lstat_mode(path)):
        remove_path(path)  # a folder where the file goes: os.replace cannot replace it
    replace_file(path, MAGIC + f"{engine}\n{digest_bytes(payload)}\n\n".encode() + payload, durable=False)


def _folders(cache_dir: Path) -> list[Path]:
    """The folders that must be real folders: ``.sitegen-cache``, if the cache is in one, and the cache's own."""
    return [cache_dir.parent, cache_dir] if cache_dir.parent.name == CACHE_DIR else [cache_dir]


def _make_folder(cache_dir: Path) -> bool:
    """Make the cache folder, replacing a file or symlink in its place; True if one was replaced.

    The link is removed, never what it points to, and nothing is written through it.
    """
    replaced = False
    for folder in _folders(cache_dir):
        if os.path.lexists(folder) and not statmode.S_ISDIR(lstat_mode(folder)):
            folder.unlink()
            replaced = True
    cache_dir.mkdir(parents=True, exist_ok=True)
    return replaced


def load_manifest(
    cache_dir: Path, engine: str, root: Path, out: Path, *, notices: list[Problem] | None = None
) -> Manifest | None:
    """The previous build's manifest, or None when there is none that can be trusted for this build.

    A damaged cache (see above) gives None too, and adds ``damaged_notice`` to ``notices``.
    """
    try:
        return _load(cache_dir, engine, root, out)
    except Damaged as exc:
        if notices is not None:
            notices.append(damaged_notice(exc.path))
        return None


def _load(cache_dir: Path, engine: str, root: Path, out: Path) -> Manifest | None:
    if not os.path.lexists(cache_dir):
        return None  # no cache yet
    for folder in _folders(cache_dir):
        if not statmode.S_ISDIR(lstat_mode(folder)):
            raise Damaged(folder)
    if os.path.lexists(cache_dir / DAMAGED):
        raise Damaged(cache_dir)
    try:
        head = _read(cache_dir / HEAD, engine)
        if head is None:
            return None  # another format or engine
        out_id = folder_id(out)
    except FileNotFoundError:
        return None  # no head, or no output folder: nothing was built there yet
    value = _unpack(head, cache_dir / HEAD)
    if not (type(value) is tuple and len(value) == 5):
        raise Damaged(cache_dir / HEAD)
    root_name, cached_out, scanned_ns, site, names = value
    if not (
        type(root_name) is str
        and _is_ints(cached_out, 2)
        and type(scanned_ns) is int
        and type(site) is str
        and type(names) is tuple
        and len(names) == SHARDS
        and all(name == "" or _shard_index(name) == index for index, name in enumerate(names))
    ):
        raise Damaged(cache_dir / HEAD)
    if root_name != str(root.resolve()) or cached_out != out_id:
        return None  # another site or output folder
    manifest = Manifest(engine, root_name, out_id, scanned_ns, site)
    shared: dict[Any, Any] = {}
    total = 0
    for name in names:
        if not name:
            manifest.shards.append(("", ({}, {}, {})))
            continue
        path = cache_dir / name
        try:
            payload = _read(path, engine)
        except FileNotFoundError:
            raise Damaged(path) from None
        if payload is None or not name.endswith(f"-{digest_bytes(payload)[:16]}.msgpack"):
            raise Damaged(path)
        total += len(payload)
        if total > MAX_TOTAL:
            raise Damaged(path)
        shard = _decode_shard(payload, shared, path)
        _merge(manifest.inputs, shard[0], path)
        _merge(manifest.sources, shard[1], path)
        _merge(manifest.outputs, shard[2], path)
        manifest.shards.append((name, shard))
    if manifest.outputs.keys() & folders_of(manifest.outputs):  # a folder of the site named as an output
        raise Damaged(cache_dir / HEAD)
    return manifest


def _merge(records: dict[str, Any], found: dict[str, Any], where: Path) -> None:
    count = len(records)
    records.update(found)
    if len(records) != count + len(found):  # a key in two shards: the engine writes each once
        raise Damaged(where)


def _shard_index(name: Any) -> int:
    match = _SHARD_NAME.fullmatch(name) if type(name) is str else None
    return int(match[1]) if match else -1


def save_manifest(cache_dir: Path, manifest: Manifest, previous: Manifest | None) -> None:
    """Write the shards that changed since ``previous``, then the head that names them all."""
    _make_folder(cache_dir)
    names: list[str] = []
    for index, shard in enumerate(_split(manifest)):
        if previous is not None and previous.shards:
            old_name, old = previous.shards[index]
            if _same(shard[0], old[0]) and _same(shard[1], old[1]) and _same(shard[2], old[2]):
                names.append(old_name)
                continue
        if not any(shard):
            names.append("")
            continue
        inputs, sources, outputs = shard
        payload = _pack((inputs, _encode_sources(sources), _encode_outputs(outputs)))
        name = f"shard-{index:02d}-{digest_bytes(payload)[:16]}.msgpack"
        _write(cache_dir / name, manifest.engine, payload)
        names.append(name)
    head = (manifest.root, manifest.out_id, manifest.scanned_ns, manifest.site, names)
    _write(cache_dir / HEAD, manifest.engine, _pack(head))
    for path in cache_dir.iterdir():
        stale = path.name.startswith("shard-") or path.name.endswith(".tmp") or path.name == DAMAGED
        if stale and path.name not in names:
            remove_path(path)  # shards of older builds, writes cut short (replace_file's), a damaged cache's mark


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while the cache's records are loaded and compared.

    A cache of 10,000 pages is some 200,000 small objects with no cycles among them; the
    collector would scan them again and again as they are made, which costs a third of a
    rebuild. So the collector is paused, and what was made meanwhile is then frozen (left out
    of its scans) until ``build_site`` ends and unfreezes it. Rendering, which makes cycles,
    runs with the collector on; pool workers fork with the records frozen, which also keeps
    their memory shared with the parent's.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@contextmanager
def build_lock(cache_dir: Path, waiting: Callable[[], None] | None = None) -> Iterator[None]:
    """One build at a time per output folder: a second build into it waits for the first.

    An advisory lock (``flock``) on a file in ``cache_dir``, which callers take from the output
    folder (``default_cache_dir``), wherever the build keeps its cache. The system releases it
    when the process ends, however it ends, so a build that crashed never leaves it held.
    ``waiting`` is called once if another build holds it. Where there is no ``fcntl`` (Windows),
    or the file system has no locks, builds are not kept apart.

    A file or symlink where the cache folder should be, or anything but a file where the lock
    should be, is replaced (a symlink is removed, never followed), and the cache is marked
    damaged, so that ``load_manifest`` ignores it and says so.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not on POSIX)
        yield
        return
    replaced = _make_folder(cache_dir)
    fd = _open_lock(cache_dir / LOCK)
    if fd < 0:
        replaced = True
        fd = _open_lock(cache_dir / LOCK)
    if replaced:
        remove_path(cache_dir / DAMAGED)  # whatever is there: the mark is an empty file
        os.close(os.open(cache_dir / DAMAGED, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644))
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                raise
            yield  # a file system without locks (some network mounts): build as before there were any
            return
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _open_lock(path: Path) -> int:
    """The lock file, opened to append (so never truncated); -1 after removing a symlink, folder or
    other non-file in its place."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC | _NOFOLLOW | _NONBLOCK, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.EMLINK, errno.EISDIR, errno.ENXIO):
            raise
        remove_path(path)
        return -1
    if not statmode.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        remove_path(path)
        return -1
    return fd


_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}

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
after a build has succeeded, each file through a temporary file and ``os.replace``.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import hashlib
import importlib.util
import os
import pickle
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .content import PageMeta, PageSource
from .errors import Problem

MAGIC = b"sitegen-cache 3\n"
CACHE_DIR = ".sitegen-cache"
COMPILED_DIR = "templates"  # in the cache folder: Jinja's compiled templates
LOCK = "lock"  # in the cache folder: held by the build writing to its output
_LIBRARIES = ("markdown", "jinja2", "markupsafe", "babel", "yaml", "phonenumbers")
_NOT_BUILD = ("cli.py", "serve.py", "checks.py")  # modules that never shape an output

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
OutStat = tuple[int, int, int]  # size, mtime_ns, inode (a rename changes ctime, not these)
Lookup = tuple[tuple[str, str], str | None]  # ((key, lang), the URL url_for answered)
FoundLink = tuple[str, str, str, int]  # an internal link of a page: href, target key, #fragment, line


def digest_bytes(data: bytes) -> str:
    """The first 128 bits of the SHA-256, in hex (a prefix of what ``output.hashed_name`` uses)."""
    return hashlib.sha256(data).hexdigest()[:32]


def file_stat(st: os.stat_result) -> Stat:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def output_stat(path: Path | str) -> OutStat | None:
    """The stat of an output file, or None if it is gone."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


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


# The records below are named tuples, not dataclasses: the cache of a site of 10,000 pages holds
# tens of thousands of them, and tuples unpickle several times faster. Their ``__reduce__`` makes
# unpickling call ``tuple.__new__`` directly rather than each class's ``__new__``, written in Python.


def _as_tuple(record: tuple[Any, ...]) -> tuple[Any, ...]:
    return (tuple.__new__, (type(record), tuple(record)))


class InputFile(NamedTuple):
    stat: Stat
    digest: str

    def __reduce__(self) -> tuple[Any, ...]:
        return _as_tuple(self)


class Deps(NamedTuple):
    """What an output was made from, beyond the engine: each part is compared on the next build."""

    state: str  # its language's shared inputs: config, data, assets, menus, catalogue, the list of templates
    page: str  # its page's text and which translations exist (for a special page: its context)
    templates: tuple[tuple[str, str], ...] = ()  # (name, digest) of each template the render loaded
    lookups: tuple[Lookup, ...] = ()  # every url_for answer the render used (links, menus in templates)
    catalogues: tuple[tuple[str, str], ...] = ()  # (lang, digest) of catalogues read through translate()

    def __reduce__(self) -> tuple[Any, ...]:
        return _as_tuple(self)


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

    def __reduce__(self) -> tuple[Any, ...]:
        return _as_tuple(self)


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
SHARDS = 64
HEAD = "head.pickle"
Shard = tuple[dict[str, InputFile], dict[str, PageSource], dict[str, Output]]


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


_SOURCE_FIELDS = tuple(f.name for f in dataclasses.fields(PageSource))
_META_FIELDS = tuple(f.name for f in dataclasses.fields(PageMeta))
_META = _SOURCE_FIELDS.index("meta")


def _source_fields(source: PageSource) -> tuple[Any, ...]:
    """A page source as plain values: they unpickle several times faster than dataclasses."""
    values = [getattr(source, name) for name in _SOURCE_FIELDS]
    values[_META] = tuple(getattr(source.meta, name) for name in _META_FIELDS)
    return tuple(values)


def _source(fields: tuple[Any, ...]) -> PageSource:
    values = list(fields)
    values[_META] = PageMeta(*values[_META])
    return PageSource(*values)


def default_cache_dir(out: Path) -> Path:
    """``.sitegen-cache/<output name>`` beside the output folder."""
    out = out.resolve()
    return out.parent / CACHE_DIR / out.name


def folder_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _read(path: Path, engine: str) -> bytes | None:
    """A cache file's payload, if its header names this format and engine and its checksum holds."""
    header, _, payload = path.read_bytes().partition(b"\n\n")
    return payload if header == MAGIC + f"{engine}\n{digest_bytes(payload)}".encode() else None


def _write(path: Path, engine: str, payload: bytes) -> None:
    """Write a cache file through a temporary file, so that it is either whole or absent."""
    header = MAGIC + f"{engine}\n{digest_bytes(payload)}".encode()
    fd, temp = tempfile.mkstemp(prefix=".write-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(header + b"\n\n" + payload)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def load_manifest(cache_dir: Path, engine: str, root: Path, out: Path) -> Manifest | None:
    """The previous build's manifest, or None when there is none that can be trusted for this build."""
    try:
        head = _read(cache_dir / HEAD, engine)
        if head is None:
            return None  # another format or engine, or damaged
        root_name, out_id, scanned_ns, site, names = pickle.loads(head)
        if root_name != str(root.resolve()) or out_id != folder_id(out) or len(names) != SHARDS:
            return None
        manifest = Manifest(engine, root_name, out_id, scanned_ns, site)
        for name in names:
            if not name:
                manifest.shards.append(("", ({}, {}, {})))
                continue
            payload = _read(cache_dir / name, engine)
            if payload is None or not name.endswith(f"-{digest_bytes(payload)[:16]}.pickle"):
                return None
            inputs, sources, outputs = pickle.loads(payload)
            sources = {path: _source(fields) for path, fields in sources.items()}
            manifest.inputs.update(inputs)
            manifest.sources.update(sources)
            manifest.outputs.update(outputs)
            manifest.shards.append((name, (inputs, sources, outputs)))
        return manifest
    except (OSError, ValueError):  # a file missing, or a head of another shape: start clean
        return None


def save_manifest(cache_dir: Path, manifest: Manifest, previous: Manifest | None) -> None:
    """Write the shards that changed since ``previous``, then the head that names them all."""
    cache_dir.mkdir(parents=True, exist_ok=True)
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
        plain = {path: _source_fields(source) for path, source in sources.items()}
        payload = pickle.dumps((inputs, plain, outputs), protocol=pickle.HIGHEST_PROTOCOL)
        name = f"shard-{index:02d}-{digest_bytes(payload)[:16]}.pickle"
        _write(cache_dir / name, manifest.engine, payload)
        names.append(name)
    head = (manifest.root, manifest.out_id, manifest.scanned_ns, manifest.site, tuple(names))
    _write(cache_dir / HEAD, manifest.engine, pickle.dumps(head, protocol=pickle.HIGHEST_PROTOCOL))
    for path in cache_dir.iterdir():
        if path.name.startswith(("shard-", ".write-")) and path.name not in names:
            path.unlink(missing_ok=True)  # shards of older builds


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
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover (not on POSIX)
        yield
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / LOCK, "ab") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(handle, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                raise
            yield  # a file system without locks (some network mounts): build as before there were any
            return
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}

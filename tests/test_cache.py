"""The build cache is untrusted input: it is data only, and any damage to it means a clean rebuild.

A CI system restores the cache from another branch, so whoever wrote it may be hostile. Loading
it must never run code, never read or delete a file outside the cache and the output, and never
end in a traceback: a cache that is not exactly as this engine writes it is ignored, with one
notice, and the site is built from scratch.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import pickle
import shutil
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import jinja2
import msgpack  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.bccache import bc_magic

from sitegen import cache
from sitegen.cache import Manifest, build_lock, default_cache_dir, engine_fingerprint, load_manifest, save_manifest
from sitegen.content import PageMeta, PageSource
from sitegen.errors import Problem
from sitegen.pipeline import Built, build_site

from .conftest import MakeSite, copy_site, tree_digest


@dataclasses.dataclass
class Cached:
    """A site built once, with its cache, and a folder outside both that nothing may touch."""

    root: Path
    out: Path
    folder: Path  # the cache folder
    outside: Path

    def load(self, notices: list[Problem] | None = None) -> Manifest | None:
        return load_manifest(self.folder, engine_fingerprint(), self.root, self.out, notices=notices)

    def build(self) -> Built:
        return build_site(self.root, self.out, jobs=1)

    def clean(self) -> dict[str, str]:
        """The files of a clean build of the same site."""
        return tree_digest(build_site(self.root, self.out.parent / "clean", cache=False).out)


@pytest.fixture
def cached(make_site: MakeSite, tmp_path: Path) -> Cached:
    root = make_site()
    out = tmp_path / "site"
    build_site(root, out, jobs=1)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("not the engine's")
    return Cached(root, out.resolve(), default_cache_dir(out), outside)


def header(payload: bytes) -> bytes:
    """A header as the engine writes it: the current format and engine, and the payload's checksum."""
    return cache.MAGIC + f"{engine_fingerprint()}\n{cache.digest_bytes(payload)}\n\n".encode()


def shards(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.startswith("shard-"))


class Exploit:
    """Unpickling this creates a file: what a crafted pickle could do is anything."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


@pytest.fixture
def no_unpickling() -> Iterator[None]:
    """Any unpickling fails the test: the cache must never be read as a pickle."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the cache was unpickled")

    with mock.patch.object(pickle, "loads", refuse), mock.patch.object(pickle, "load", refuse):
        yield


def test_a_crafted_cache_runs_no_code(cached: Cached) -> None:
    marker = cached.outside / "pwned"
    exploit = pickle.dumps(Exploit(marker))
    for path in [cached.folder / cache.HEAD, *shards(cached.folder)]:
        path.write_bytes(header(exploit) + exploit)
    notices: list[Problem] = []
    assert cached.load(notices) is None
    assert not marker.exists(), "loading the cache ran code from it"
    assert [n.level for n in notices] == ["notice"]
    built = cached.build()
    assert not marker.exists()
    assert built.full and tree_digest(cached.out) == cached.clean()


def test_the_cache_is_not_a_pickle(cached: Cached, no_unpickling: None) -> None:
    for path in [cached.folder / cache.HEAD, *shards(cached.folder)]:
        assert not path.read_bytes().partition(b"\n\n")[2].startswith(b"\x80"), f"{path.name} is a pickle"
    manifest = cached.load()
    assert manifest is not None and manifest.outputs, "the cache round-trips"
    assert not cached.build().full


def test_no_compiled_template_is_loaded_from_the_cache(cached: Cached) -> None:
    """Jinja's bytecode cache unpickles and unmarshals its files: code, which the cache must not hold."""
    marker = cached.outside / "pwned"
    compiled = cached.folder / "templates"  # where earlier versions kept them
    compiled.mkdir(exist_ok=True)
    bytecode = jinja2.FileSystemBytecodeCache(str(compiled))
    templates = cached.root / "templates"
    for path in templates.rglob("*.html"):
        name = path.relative_to(templates).as_posix()
        key = bytecode.get_cache_key(name, os.path.normpath(path))
        (compiled / f"__jinja2_{key}.cache").write_bytes(bc_magic + pickle.dumps(Exploit(marker)))
    page = cached.root / "content/en/about.md"
    page.write_text(page.read_text() + "\nEdited, so that the page is rendered again.\n")
    built = cached.build()
    assert not marker.exists(), "a compiled template from the cache ran"
    assert built.rendered > 0 and tree_digest(cached.out) == cached.clean()


def _victim(cached: Cached) -> Path:
    victim = cached.outside / "victim.txt"
    victim.write_text("keep me")
    return victim


def _with_output_outside(cached: Cached, manifest: Manifest) -> Manifest:
    """An output record whose name leaves the output folder: a build deletes outputs it no longer makes."""
    name = os.path.relpath(_victim(cached), cached.out)
    record = next(iter(manifest.outputs.values()))
    return dataclasses.replace(manifest, outputs={**manifest.outputs, name: record}, shards=[])


def _with_source_outside(cached: Cached, manifest: Manifest) -> Manifest:
    """A page source that names a file outside the project: renderers read the body from its path.

    The scan time is in the future, so that every file's stat is trusted, as an attacker would set it."""
    secret = cached.outside / "secret.md"
    secret.write_text("---\ntitle: x\n---\n\nSECRET-BODY\n")
    key = "content/en/about.md"
    sources = {**manifest.sources, key: dataclasses.replace(manifest.sources[key], path=str(secret))}
    outputs = {name: o for name, o in manifest.outputs.items() if name != "en/about/index.html"}
    return dataclasses.replace(manifest, sources=sources, outputs=outputs, scanned_ns=10**19, shards=[])


def _with_error(cached: Cached, manifest: Manifest) -> Manifest:
    """A cached link problem raised to an error: a build would fail with the attacker's message."""
    name = "en/about/index.html"
    error = Problem("content/en/about.md", 1, "send the donations to account 666", "", "error")
    outputs = {**manifest.outputs, name: manifest.outputs[name]._replace(problems=(error,))}
    return dataclasses.replace(manifest, outputs=outputs, shards=[])


def _with_warning(path: str, message: str) -> Callable[[Cached, Manifest], Manifest]:
    """A cached warning with the attacker's words: a fake line, a terminal escape, another file."""

    def change(cached: Cached, manifest: Manifest) -> Manifest:
        name = "en/about/index.html"
        warning = Problem(path, 1, message, "", "warning")
        outputs = {**manifest.outputs, name: manifest.outputs[name]._replace(problems=(warning,))}
        return dataclasses.replace(manifest, outputs=outputs, shards=[])

    return change


def _retyped(field: str, value: Any) -> Callable[[Cached, Manifest], Manifest]:
    """Every output record with one field of another type."""

    def change(cached: Cached, manifest: Manifest) -> Manifest:
        outputs = {name: o._replace(**{field: value}) for name, o in manifest.outputs.items()}
        return dataclasses.replace(manifest, outputs=outputs, shards=[])

    return change


def _input_digest_int(cached: Cached, manifest: Manifest) -> Manifest:
    inputs = {path: entry._replace(digest=5) for path, entry in manifest.inputs.items()}  # type: ignore[arg-type]
    return dataclasses.replace(manifest, inputs=inputs, shards=[])


def _meta_title_int(cached: Cached, manifest: Manifest) -> Manifest:
    sources = {
        path: dataclasses.replace(source, meta=dataclasses.replace(source.meta, title=7))  # type: ignore[arg-type]
        for path, source in manifest.sources.items()
    }
    return dataclasses.replace(manifest, sources=sources, shards=[])


def _source(change: Callable[[PageSource], PageSource]) -> Callable[[Cached, Manifest], Manifest]:
    """One page's cached source changed as a parse never would; its stat trusted (scan time in the future)."""

    def craft(cached: Cached, manifest: Manifest) -> Manifest:
        key = "content/en/about.md"
        sources = {**manifest.sources, key: change(manifest.sources[key])}
        outputs = {name: o for name, o in manifest.outputs.items() if name != "en/about/index.html"}
        return dataclasses.replace(manifest, sources=sources, outputs=outputs, scanned_ns=10**19, shards=[])

    return craft


def _meta(**values: Any) -> Callable[[PageSource], PageSource]:
    return lambda source: dataclasses.replace(source, meta=dataclasses.replace(source.meta, **values))


def _anchor(anchor: tuple[Any, ...]) -> Callable[[Cached, Manifest], Manifest]:
    """A page's cached link to an #anchor, which a warning would print."""

    def craft(cached: Cached, manifest: Manifest) -> Manifest:
        name = "en/about/index.html"
        outputs = {**manifest.outputs, name: manifest.outputs[name]._replace(anchors=(anchor,))}  # type: ignore[arg-type]
        return dataclasses.replace(manifest, outputs=outputs, shards=[])

    return craft


CRAFTED: dict[str, Callable[[Cached, Manifest], Manifest]] = {
    "source digest of another length": _source(lambda source: dataclasses.replace(source, digest="0" * 40)),
    "page title empty": _source(_meta(title="")),
    "page template out of templates/": _source(_meta(template="../../../etc/passwd.html")),
    "page template not .html": _source(_meta(template="base.txt")),
    "anchor with a terminal escape": _anchor(("\x1b[2J#x", "about", "x", 3)),
    "anchor on a negative line": _anchor(("#x", "about", "x", -7)),
    "output outside the output folder": _with_output_outside,
    "output named after a folder of the site": lambda cached, manifest: dataclasses.replace(
        manifest, outputs={**manifest.outputs, "en": next(iter(manifest.outputs.values()))}, shards=[]
    ),
    "output name too long for the file system": lambda cached, manifest: dataclasses.replace(
        manifest,
        outputs={**manifest.outputs, "x" * 300 + "/index.html": next(iter(manifest.outputs.values()))},
        shards=[],
    ),
    "source read from outside the project": _with_source_outside,
    "cached problem raised to an error": _with_error,
    "cached warning with a fake line": _with_warning("content/en/about.md\nINJECTED", "x"),
    "cached warning with a terminal escape": _with_warning("content/en/about.md", "\x1b[2J cleared"),
    "cached warning naming another file": _with_warning("data/bank.yaml", "the account number is wrong"),
    "output digest an int": _retyped("digest", 12),
    "output stat too short": _retyped("stat", (1, 2)),
    "output ids a list": _retyped("ids", ("a", "b")),
    "input digest an int": _input_digest_int,
    "page title an int": _meta_title_int,
}


@pytest.mark.parametrize("craft", CRAFTED.values(), ids=CRAFTED.keys())
def test_a_crafted_record_is_not_trusted(cached: Cached, craft: Callable[[Cached, Manifest], Manifest]) -> None:
    """Records of the wrong shape or type, written as the engine writes its cache (valid checksums)."""
    manifest = cached.load()
    assert manifest is not None
    save_manifest(cached.folder, craft(cached, manifest), None)
    before = tree_digest(cached.outside)
    notices: list[Problem] = []
    assert cached.load(notices) is None
    assert [n.level for n in notices] == ["notice"], "one notice"
    built = cached.build()
    assert built.full, "a clean rebuild"
    assert tree_digest(cached.out) == cached.clean()
    assert tree_digest(cached.outside) == before, "nothing outside read into the site, deleted or changed"
    assert not any(p.level == "error" for p in built.problems)


def _file_for_folder(folder: Path, outside: Path) -> None:
    shutil.rmtree(folder)
    folder.write_text("a file where the cache folder was")


def _file_for_cache_root(folder: Path, outside: Path) -> None:
    shutil.rmtree(folder.parent)
    folder.parent.write_text("a file where .sitegen-cache was")


def _folder_for(name: str) -> Callable[[Path, Path], None]:
    def damage(folder: Path, outside: Path) -> None:
        path = folder / name if name else shards(folder)[0]
        path.unlink()
        path.mkdir()
        (path / "inside").write_text("x")

    return damage


def _symlink_for(name: str) -> Callable[[Path, Path], None]:
    """A symlink to a copy outside the cache folder, which would be a valid cache file."""

    def damage(folder: Path, outside: Path) -> None:
        path = folder / name if name else shards(folder)[0]
        copy = outside / f"copy-of-{path.name}"
        shutil.copyfile(path, copy)
        path.unlink()
        path.symlink_to(copy)

    return damage


def _symlinked_folder(folder: Path, outside: Path) -> None:
    """The cache folder moved outside, a symlink in its place: nothing there may be read or written."""
    shutil.move(folder, outside / "moved-cache")
    folder.symlink_to(outside / "moved-cache", target_is_directory=True)


def _symlinked_cache_root(folder: Path, outside: Path) -> None:
    shutil.move(folder.parent, outside / "moved-root")
    folder.parent.symlink_to(outside / "moved-root", target_is_directory=True)


def _lock_symlink(folder: Path, outside: Path) -> None:
    (folder / cache.LOCK).unlink()
    (folder / cache.LOCK).symlink_to(outside / "precious.txt")


def _lock_and_mark_folders(folder: Path, outside: Path) -> None:
    _folder_for(cache.LOCK)(folder, outside)
    (folder / cache.DAMAGED).mkdir()


def _fifo_for_head(folder: Path, outside: Path) -> None:
    (folder / cache.HEAD).unlink()
    os.mkfifo(folder / cache.HEAD)


def _rewrite(name: str, change: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    def damage(folder: Path, outside: Path) -> None:
        path = folder / name if name else shards(folder)[0]
        path.write_bytes(change(path.read_bytes()))

    return damage


def _valid_payload(payload: bytes) -> Callable[[bytes], bytes]:
    """A file with a right header and checksum, and this payload."""
    return lambda data: header(payload) + payload


DAMAGE: dict[str, Callable[[Path, Path], None]] = {
    "cache folder is a file": _file_for_folder,
    ".sitegen-cache is a file": _file_for_cache_root,
    "head is a folder": _folder_for(cache.HEAD),
    "shard is a folder": _folder_for(""),
    "lock is a folder": _folder_for(cache.LOCK),
    "head is a symlink out": _symlink_for(cache.HEAD),
    "shard is a symlink out": _symlink_for(""),
    "cache folder is a symlink out": _symlinked_folder,
    ".sitegen-cache is a symlink out": _symlinked_cache_root,
    "lock is a symlink out": _lock_symlink,
    "lock and mark are folders": _lock_and_mark_folders,
    "head is a FIFO": _fifo_for_head,
    "head truncated": _rewrite(cache.HEAD, lambda data: data[: len(data) - 5]),
    "shard truncated": _rewrite("", lambda data: data[: len(data) // 2]),
    "head checksum wrong": _rewrite(cache.HEAD, lambda data: data[:-1] + bytes([data[-1] ^ 1])),
    "shard garbage": _rewrite("", lambda data: b"\x00\xff garbage"),
    "head garbage with a valid checksum": _rewrite(cache.HEAD, _valid_payload(b"\xc1\xc1 not msgpack")),
    "head a number": _rewrite(cache.HEAD, _valid_payload(b"\x05")),
    "head a string": _rewrite(cache.HEAD, _valid_payload(b"\xa3abc")),
    "head an empty array": _rewrite(cache.HEAD, _valid_payload(b"\x90")),
    "shard an empty map": _rewrite("", _valid_payload(b"\x80")),
    "shard deeply nested": _rewrite("", _valid_payload(b"\x91" * 100_000)),
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_cache_means_a_clean_rebuild(cached: Cached, damage: Callable[[Path, Path], None]) -> None:
    damage(cached.folder, cached.outside)
    outside = {
        p.relative_to(cached.outside).as_posix(): p.read_bytes() for p in cached.outside.rglob("*") if p.is_file()
    }
    built = cached.build()
    assert built.full, "the damaged cache was ignored"
    assert tree_digest(cached.out) == cached.clean()
    after = {p.relative_to(cached.outside).as_posix(): p.read_bytes() for p in cached.outside.rglob("*") if p.is_file()}
    assert after == outside, "nothing outside the cache folder was changed or deleted"
    assert not any(p.is_symlink() for p in [cached.folder, cached.folder.parent, *cached.folder.iterdir()])
    assert not cached.build().full, "and a good cache is written in its place"


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_damaged_cache_gives_one_notice(cached: Cached, damage: Callable[[Path, Path], None]) -> None:
    """As a build sees it: it takes the lock (which may have to repair the folder), then loads."""
    damage(cached.folder, cached.outside)
    notices: list[Problem] = []
    with build_lock(cached.folder):
        assert cached.load(notices) is None
    assert len(notices) == 1
    assert notices[0].level == "notice" and "\n" not in notices[0].format()
    assert "cache" in notices[0].format()


def test_an_absent_or_foreign_cache_gives_no_notice(cached: Cached) -> None:
    notices: list[Problem] = []
    manifest = cached.load()
    assert manifest is not None
    save_manifest(cached.folder, dataclasses.replace(manifest, root="/another/site", shards=[]), None)
    assert cached.load(notices) is None, "another site's cache"
    other = Manifest("another engine", manifest.root, manifest.out_id)
    save_manifest(cached.folder, other, None)
    assert cached.load(notices) is None, "another engine's cache"
    shutil.rmtree(cached.folder.parent)
    assert cached.load(notices) is None, "no cache at all"
    assert notices == []


def test_the_lock_does_not_follow_a_symlink_out(cached: Cached) -> None:
    target = cached.outside / "precious.txt"
    lock = cached.folder / cache.LOCK
    lock.unlink()
    lock.symlink_to(target)
    with build_lock(cached.folder):
        assert lock.is_file() and not lock.is_symlink()
    assert target.read_text() == "not the engine's"


# Hypothesis: whatever the bytes, loading gives None or a valid manifest, and never raises.


def assert_valid(manifest: Manifest | None) -> None:
    """Every record of the right type, as the build uses it."""
    if manifest is None:
        return
    assert len(manifest.shards) == cache.SHARDS
    for path, entry in manifest.inputs.items():
        assert isinstance(path, str) and isinstance(entry, cache.InputFile)
        assert len(entry.stat) == 4 and all(type(n) is int for n in entry.stat) and type(entry.digest) is str
    for path, source in manifest.sources.items():
        assert isinstance(source, PageSource) and isinstance(source.meta, PageMeta) and source.path == path
        assert all(type(getattr(source.meta, f)) is str for f in ("title", "description", "template", "source_hash"))
        assert all(day is None or type(day) is datetime.date for day in (source.meta.date, source.meta.updated))
        assert type(source.meta.draft) is bool and type(source.body_line) is int and type(source.digest) is str
        assert all(type(k) is str and type(n) is int for k, n in source.meta_lines.items())
        assert source.path.split("/")[:2] == ["content", source.lang]
    for name, output in manifest.outputs.items():
        assert isinstance(output, cache.Output) and ".." not in name.split("/") and not name.startswith("/")
        assert type(output.digest) is str and type(output.ids) is str and len(output.stat) == 3
        assert all(type(n) is int for n in output.stat)
        assert output.deps is None or isinstance(output.deps, cache.Deps)
        if output.deps is not None:
            assert type(output.deps.shared) is str and type(output.deps.page) is str
            for (key, lang), url in output.deps.lookups:
                assert type(key) is str and type(lang) is str and (url is None or type(url) is str)
        assert all(len(a) == 4 and type(a[3]) is int for a in output.anchors)
        assert all(isinstance(p, Problem) and p.level == "warning" for p in output.problems)


@pytest.fixture(scope="module")
def real_cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, bytes]]:
    """A real site's cache: its root, output, and the bytes of each cache file."""
    base = tmp_path_factory.mktemp("real")
    root = copy_site(base / "src")
    out = base / "site"
    build_site(root, out, jobs=1)
    folder = default_cache_dir(out)
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.name == cache.HEAD or p.name.startswith("shard-")}
    return root, out, files


def load_with(
    real: tuple[Path, Path, dict[str, bytes]], folder: Path, name: str, content: bytes, rename: bool = False
) -> Manifest | None:
    """Load the real cache with one file's content replaced. With ``rename``, a shard is named after
    its new payload and the head names it, as the engine would: so the shard's records are decoded."""
    root, out, files = real
    files = {**files, name: content}
    if rename and name != cache.HEAD:
        payload = content.partition(b"\n\n")[2]
        new_name = f"{name[:9]}{cache.digest_bytes(payload)[:16]}.msgpack"
        files[new_name] = files.pop(name)
        head = files[cache.HEAD].partition(b"\n\n")[2]
        values = msgpack.unpackb(head)
        values[4] = [new_name if n == name else n for n in values[4]]
        head = msgpack.packb(values)
        files[cache.HEAD] = header(head) + head
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for file_name, data in files.items():
        (folder / file_name).write_bytes(data)
    return load_manifest(folder, engine_fingerprint(), root, out)


def some_shard(real: tuple[Path, Path, dict[str, bytes]]) -> str:
    """The largest shard: the most records to damage."""
    return max((n for n in real[2] if n.startswith("shard-")), key=lambda n: len(real[2][n]))


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=4), inner, max_size=4)


MSGPACK_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=8) | st.binary(max_size=8),
    _containers,
    max_leaves=30,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(which=st.sampled_from(["head", "shard"]), data=st.binary(max_size=300), valid_header=st.booleans())
def test_random_bytes_never_raise(
    real_cache: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, which: str, data: bytes, valid_header: bool
) -> None:
    name = cache.HEAD if which == "head" else some_shard(real_cache)
    content = header(data) + data if valid_header else data
    with mock.patch.object(pickle, "loads", side_effect=AssertionError("unpickled")):
        assert_valid(load_with(real_cache, tmp_path / "cache", name, content, rename=valid_header))


@FUZZ
@given(which=st.sampled_from(["head", "shard"]), value=MSGPACK_VALUES)
def test_random_values_never_raise(
    real_cache: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, which: str, value: Any
) -> None:
    name = cache.HEAD if which == "head" else some_shard(real_cache)
    payload = msgpack.packb(value, use_bin_type=True)
    assert_valid(load_with(real_cache, tmp_path / "cache", name, header(payload) + payload, rename=True))


def _replaced(value: Any, at: tuple[int, ...], new: Any) -> Any:
    if not at:
        return new
    return (*value[: at[0]], _replaced(value[at[0]], at[1:], new), *value[at[0] + 1 :])


def _position(value: Any, choice: st.DataObject) -> tuple[int, ...]:
    """A part of the shard, one of its columns, and maybe one cell of that column: each column alike."""
    at: tuple[int, ...] = ()
    while isinstance(value, tuple) and value and (len(at) < 2 or choice.draw(st.booleans())):
        i = choice.draw(st.integers(0, len(value) - 1))
        at, value = (*at, i), value[i]
    return at


def test_every_column_with_an_odd_first_value_or_cut_short_never_raises(
    real_cache: tuple[Path, Path, dict[str, bytes]], tmp_path: Path
) -> None:
    """Each column of each part of a shard, in turn: its first value a negative or huge number, text,
    nothing or an array; the column one value short, or emptied."""
    name = some_shard(real_cache)
    value = msgpack.unpackb(real_cache[2][name].partition(b"\n\n")[2], use_list=False, strict_map_key=False)
    tried = 0
    for part in (1, 2):  # the sources and the outputs: columns (the inputs are a map)
        for column, cells in enumerate(value[part]):
            changes: list[Any] = [cells[:-1], ()] if cells else [(1,), ("x",)]
            if cells:
                changes += [(odd, *cells[1:]) for odd in (-2, -1, 2**40, "x", None, (), (0, 0))]
            for changed in changes:
                payload = msgpack.packb(_replaced(value, (part, column), changed), use_bin_type=True)
                assert_valid(load_with(real_cache, tmp_path / "cache", name, header(payload) + payload, rename=True))
                tried += 1
    assert tried > 100


@FUZZ
@given(choice=st.data(), new=MSGPACK_VALUES | st.integers(-3, 3) | st.sampled_from([(), (1, 2, 3), ("a",)]))
def test_a_shard_with_one_column_or_cell_replaced_never_raises(
    real_cache: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, choice: st.DataObject, new: Any
) -> None:
    """The shard's own layout, one value changed: a count, a row number, a column cut short."""
    name = some_shard(real_cache)
    value = msgpack.unpackb(real_cache[2][name].partition(b"\n\n")[2], use_list=False, strict_map_key=False)
    at = _position(value, choice)
    payload = msgpack.packb(_replaced(value, at, new), use_bin_type=True)
    assert_valid(load_with(real_cache, tmp_path / "cache", name, header(payload) + payload, rename=True))


@FUZZ
@given(
    choice=st.data(),
    edits=st.lists(
        st.tuples(st.sampled_from(["flip", "cut", "insert", "delete"]), st.floats(0, 1), st.integers(0, 255)),
        min_size=1,
        max_size=4,
    ),
    fix_checksum=st.booleans(),
)
def test_mutated_cache_files_never_raise(
    real_cache: tuple[Path, Path, dict[str, bytes]],
    tmp_path: Path,
    choice: st.DataObject,
    edits: list[tuple[str, float, int]],
    fix_checksum: bool,
) -> None:
    name = choice.draw(st.sampled_from(sorted(real_cache[2])))
    data = bytearray(real_cache[2][name])
    start = data.index(b"\n\n") + 2 if fix_checksum else 0
    for kind, where, byte in edits:
        at = start + int(where * max(len(data) - start - 1, 0))  # after a cut to nothing: at the start
        if kind == "flip" and at < len(data):
            data[at] ^= byte or 1
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes([byte])
        elif kind == "delete" and at < len(data):
            del data[at]
    mutated = bytes(data)
    if fix_checksum:
        payload = mutated[start:]
        mutated = header(payload) + payload
    assert_valid(load_with(real_cache, tmp_path / "cache", name, mutated, rename=fix_checksum))


def test_an_edit_rewrites_only_the_shards_of_what_it_changed(cached: Cached) -> None:
    """Each record stays in its shard (the CRC of its key), so an edit rewrites only the shards of
    the page's file and of the outputs it re-rendered; the others keep their files."""
    before = {p.name[:8]: p.name for p in shards(cached.folder)}
    page = cached.root / "content" / "en" / "about.md"
    page.write_text(page.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    built = cached.build()
    assert built.written, "the edit re-rendered something"
    after = {p.name[:8]: p.name for p in shards(cached.folder)}
    keys = ["content/en/about.md", *built.written]
    expected = {f"shard-{zlib.crc32(key.encode()) % cache.SHARDS:02d}" for key in keys}
    changed = {prefix for prefix in after if before.get(prefix) != after[prefix]}
    assert changed and changed <= expected


def test_a_record_in_two_shards_is_not_trusted(real_cache: tuple[Path, Path, dict[str, bytes]], tmp_path: Path) -> None:
    """The engine writes each key in one shard; a second copy elsewhere (which would win) means a forged cache."""
    names = sorted(n for n in real_cache[2] if n.startswith("shard-"))
    values = {n: msgpack.unpackb(real_cache[2][n].partition(b"\n\n")[2], use_list=False) for n in names}
    owner = next(n for n in names if values[n][0])
    key, (stat, _) = next(iter(values[owner][0].items()))
    other = next(n for n in names if n != owner)
    inputs = {**values[other][0], key: (stat, "f" * 32)}
    payload = msgpack.packb((inputs, *values[other][1:]), use_bin_type=True)
    assert load_with(real_cache, tmp_path / "cache", other, header(payload) + payload, rename=True) is None


@pytest.mark.parametrize("limit", ["MAX_FILE", "MAX_TOTAL"])
def test_a_cache_beyond_the_size_limits_is_not_read(
    real_cache: tuple[Path, Path, dict[str, bytes]], tmp_path: Path, limit: str
) -> None:
    """A crafted cache of tiny records costs many times its size to decode: its size is bounded."""
    root, out, files = real_cache
    shards = [data for name, data in files.items() if name.startswith("shard-")]
    # MAX_FILE bounds a whole file, MAX_TOTAL the payloads (after each header) of all the shards
    size = max(map(len, shards)) - 1 if limit == "MAX_FILE" else sum(len(s.partition(b"\n\n")[2]) for s in shards) - 1
    name = some_shard(real_cache)
    assert load_with(real_cache, tmp_path / "cache", name, files[name]) is not None, "within the limits"
    notices: list[Problem] = []
    with mock.patch.object(cache, limit, size):
        assert load_manifest(tmp_path / "cache", engine_fingerprint(), root, out, notices=notices) is None
    assert [n.level for n in notices] == ["notice"]


def test_a_cache_file_cut_short_while_written_is_removed_by_the_next_save(cached: Cached) -> None:
    left = cached.folder / ".head.msgpack.x1y2z3w4.tmp"  # as replace_file names it
    left.write_bytes(b"cut short")
    page = cached.root / "content/en/about.md"
    page.write_text(page.read_text() + "\nEdited.\n")
    cached.build()
    assert not left.exists()
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in cached.folder.iterdir() if p.name != cache.LOCK)


def test_an_asset_with_a_line_break_in_its_name_does_not_damage_the_cache(make_site: MakeSite, tmp_path: Path) -> None:
    # The cache checked names joined by line breaks, so a name holding one (a file system allows it) made
    # every later build a full one, with a notice; names are plain_relative's, whose joint is a NUL.
    root = make_site({"assets/notes\nold.txt": "kept"})
    build_site(root, tmp_path / "site", jobs=1)
    again = build_site(root, tmp_path / "site", jobs=1)
    assert not again.full and not [p for p in again.problems if p.kind == "cache"]

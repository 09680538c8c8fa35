"""The input index: a file is read again only when its stat changed or cannot be trusted."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from sitegen.cache import Manifest, default_cache_dir, engine_fingerprint, load_manifest
from sitegen.config import load_config
from sitegen.content import page_files
from sitegen.errors import Collector
from sitegen.inputs import RACY_NS, FileIndex, PageScanner
from sitegen.pipeline import build_site
from sitegen.workers import parse_page

from .conftest import MakeSite

PAGE = "content/en/about.md"


def last_manifest(root: Path, out: Path, later_ns: int = 0) -> Manifest:
    """The manifest of the last build into ``out``, as if its scan had run ``later_ns`` later."""
    manifest = load_manifest(default_cache_dir(out), engine_fingerprint(), root, out)
    assert manifest is not None
    return dataclasses.replace(manifest, scanned_ns=manifest.scanned_ns + later_ns)


def test_a_file_not_in_the_project_has_no_digest(make_site: MakeSite) -> None:
    index = FileIndex(make_site(), None)
    assert index.digest("content/en/nothing.md") == "" and index.reread == 0


def test_an_unchanged_file_is_not_read_again(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    build_site(root, tmp_path / "out", jobs=1)
    manifest = last_manifest(root, tmp_path / "out", later_ns=10 * RACY_NS)  # the files are long settled
    index = FileIndex(root, manifest)
    assert index.digest(PAGE) == manifest.inputs[PAGE].digest
    assert index.reread == 0


def test_a_file_changed_since_the_scan_is_read_again(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    build_site(root, tmp_path / "out", jobs=1)
    manifest = last_manifest(root, tmp_path / "out", later_ns=10 * RACY_NS)
    path = root / PAGE
    before = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("History", "Histroy"), encoding="utf-8")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same time: only ctime tells
    index = FileIndex(root, manifest)
    assert index.digest(PAGE) != manifest.inputs[PAGE].digest
    assert index.reread == 1 and index.changed(manifest)


def test_a_file_changed_just_before_the_scan_is_read_again(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    build_site(root, tmp_path / "out", jobs=1)
    manifest = last_manifest(root, tmp_path / "out")  # the files were written a moment before the scan
    index = FileIndex(root, manifest)
    assert index.digest(PAGE) == manifest.inputs[PAGE].digest
    assert index.reread == 1, "a stat taken in the same clock tick as the scan is not trusted"


def test_the_scanner_finds_what_reading_each_file_finds(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({"content/en/draft.md": "---\ntitle: Not yet\ndraft: true\n---\n"})
    build_site(root, tmp_path / "out", jobs=1)
    manifest = last_manifest(root, tmp_path / "out", later_ns=10 * RACY_NS)
    (root / "content/en/broken.md").write_text("---\ntitel: Typo\n---\n", encoding="utf-8")
    config = load_config(root)
    plain = Collector()
    read = [parse_page(root, f) for f in page_files(config, plain)]
    plain.problems.extend(problem for parsed in read for problem in parsed.problems)
    wanted = [p.source for p in read if p.source is not None and not p.source.meta.draft]
    assert [p.path for p in plain.problems] == ["content/en/broken.md"]
    assert "content/en/draft.md" not in [page.path for page in wanted]
    for previous in (None, manifest):
        found = Collector()
        index = FileIndex(root, previous)
        scanner = PageScanner(index, previous, 1)
        assert [dataclasses.replace(page, body="") for page in scanner.find(config, found)] == wanted
        assert found.problems == plain.problems
        assert "content/en/draft.md" in scanner.sources, "a draft is remembered for the next build"
        if previous is not None:
            assert index.reread == 1, "only the new page is read; the others are as the cache parsed them"

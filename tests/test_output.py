"""Writing: content-hashed assets, one writer per path, and a swap that never leaves half a site."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sitegen.errors import Collector
from sitegen.output import check_unique, find_assets, hashed_name, write_site

from .conftest import tree_digest


def test_hashed_name_changes_with_the_bytes() -> None:
    digest = hashlib.sha256(b"body{}").hexdigest()[:10]
    assert hashed_name("css/style.css", b"body{}") == f"css/style.{digest}.css"
    assert hashed_name("style.css", b"body{ }") != hashed_name("style.css", b"body{}")


def test_assets_are_found_sorted_with_hashed_outputs(tmp_path: Path) -> None:
    (tmp_path / "assets" / "img").mkdir(parents=True)
    (tmp_path / "assets" / "style.css").write_text("a{}")
    (tmp_path / "assets" / "img" / "logo.svg").write_text("<svg/>")
    (tmp_path / "assets" / ".DS_Store").write_text("x")
    assets = find_assets(tmp_path)
    assert [a.name for a in assets] == ["img/logo.svg", "style.css"]
    assert assets[1].url == "/assets/" + hashed_name("style.css", b"a{}")


def test_two_writers_of_one_path_are_refused() -> None:
    problems = Collector()
    check_unique([("th/index.html", "content/th/index.md"), ("th/index.html", "content/th/index/index.md")], problems)
    assert [p.format() for p in problems.problems] == [
        "content/th/index/index.md: error: this and content/th/index.md both write th/index.html (rename or remove one of them)"
    ]


def test_write_replaces_the_whole_output(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, {"a.html": b"one", "old.html": b"old"}, [])
    write_site(out, {"a.html": b"two"}, [])
    assert tree_digest(out) == {"a.html": hashlib.sha256(b"two").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"], "no staging folders left behind"


def test_a_failed_write_leaves_the_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write_site(out, {"a.html": b"one"}, [])
    before = tree_digest(out)
    with pytest.raises(FileExistsError):
        # "a.html/b.html" cannot be written after "a.html" is a file: the write fails midway.
        write_site(out, {"a.html": b"two", "a.html/b.html": b"x"}, [])
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]

"""Writing: content-hashed assets, one writer per path, and a swap that never leaves half a site."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sitegen.output import apply_changes, find_assets, hashed_name, make_staging, swap_in, write_file

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
    assert assets[1].url == f"/assets/style.{hashlib.sha256(b'a{}').hexdigest()[:10]}.css"


def staged(out: Path, files: dict[str, bytes]) -> Path:
    staging = make_staging(out)
    for relative, content in files.items():
        write_file(staging, relative, content)
    return staging


def test_swap_replaces_the_whole_output(tmp_path: Path) -> None:
    out = tmp_path / "site"
    swap_in(staged(out, {"a.html": b"one", "old.html": b"old"}), out)
    swap_in(staged(out, {"a.html": b"two"}), out)
    assert tree_digest(out) == {"a.html": hashlib.sha256(b"two").hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"], "no staging or old folders left behind"


def test_changes_move_in_file_by_file_and_removals_prune_empty_folders(tmp_path: Path) -> None:
    out = tmp_path / "site"
    swap_in(staged(out, {"a.html": b"one", "news/x/index.html": b"x", "keep.html": b"k"}), out)
    staging = staged(out, {"a.html": b"two"})
    apply_changes(staging, out, ["a.html"], ["news/x/index.html"])
    assert tree_digest(out) == {
        "a.html": hashlib.sha256(b"two").hexdigest(),
        "keep.html": hashlib.sha256(b"k").hexdigest(),
    }
    assert not (out / "news").exists(), "folders emptied by a removal go too"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]

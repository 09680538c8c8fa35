"""Shared fixtures: tiny sites written from strings, and the real LPN site built once."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import lxml.html
import pytest

from sitegen.pipeline import Built, build_site

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"

MakeSite = Callable[..., Path]


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """Copy a fixture site (default: ``tests/sites/basic``) into tmp_path and apply ``files``.

    ``files`` maps a path to its new text; ``None`` deletes the file; bytes are written as they are.
    """

    def make(files: dict[str, str | bytes | None] | None = None, base: str = "basic", name: str = "src") -> Path:
        root = tmp_path / name
        if base:
            shutil.copytree(SITES / base, root)
        else:
            root.mkdir()
        for relative, text in (files or {}).items():
            path = root / relative
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(text, bytes):
                path.write_bytes(text)
            else:
                path.write_text(text, encoding="utf-8")
        return root

    return make


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and the hash of its bytes: for 'left untouched' checks."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def parse(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


@pytest.fixture(scope="session")
def lpn_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Built]]:
    """The real LPN site, built once per test session into a temporary folder."""
    out = tmp_path_factory.mktemp("lpn") / "site"
    built = build_site(REPO, out, strict=True)
    yield out, built

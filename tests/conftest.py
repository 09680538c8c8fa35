"""Shared fixtures: tiny sites written from strings, and the real LPN site built once."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import lxml.html
import pytest

from sitegen.pipeline import Built, build_site

REPO = Path(__file__).resolve().parent.parent
SITES = Path(__file__).resolve().parent / "sites"

MakeSite = Callable[..., Path]
Files = Mapping[str, str | bytes | None]


def write_files(root: Path, files: Files, missing_ok: bool = False) -> None:
    """Apply ``files`` to a site: a path's new text (bytes as they are), or ``None`` to delete it.

    A file that already holds the text is left as it is (its times too). Deleting a file that is not
    there is an error, unless ``missing_ok``: a test that means to remove something must find it.
    """
    for relative, text in files.items():
        path = root / relative
        if text is None:
            path.unlink(missing_ok=missing_ok)
            continue
        data = text if isinstance(text, bytes) else text.encode("utf-8")
        if path.is_file() and not path.is_symlink() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def copy_site(root: Path, files: Files | None = None, base: str = "basic") -> Path:
    """A fixture site (``tests/sites/<base>``, or an empty folder if ``base`` is "") at ``root``, with ``files`` applied."""
    if base:
        shutil.copytree(SITES / base, root)
    else:
        root.mkdir(parents=True)
    write_files(root, files or {})
    return root


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """``copy_site`` into tmp_path (default: ``tests/sites/basic``), with ``files`` applied."""

    def make(files: Files | None = None, base: str = "basic", name: str = "src") -> Path:
        return copy_site(tmp_path / name, files, base)

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

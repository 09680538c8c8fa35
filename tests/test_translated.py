"""``translated`` writes a page the editors wrote: atomically, and only inside ``content/``."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.cli import main

from .conftest import REPO, MakeSite, tree_digest

BASE = "check-basic"  # th is the source; content/en/about.md is a stale translation


@pytest.mark.parametrize(
    "target",
    [
        "en/../../outside/file",
        "en/../th/about",
        "en/..",
        "en//etc/passwd",
        "en/../../../../../../tmp/x",
    ],
)
def test_translated_never_writes_outside_the_language_folder(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    root = make_site(base=BASE)
    # content/en/../../outside/file.md is this file, and so is content/th/../../outside/file.md,
    # its "source": only the name can stop the write.
    outside = root / "outside"
    outside.mkdir()
    (outside / "file.md").write_text("---\ntitle: Not a page of the site\n---\n", encoding="utf-8")
    before = tree_digest(tmp_path)
    assert main(["translated", "--root", str(root), target]) == 1
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert tree_digest(tmp_path) == before


def test_a_kill_while_writing_leaves_the_page_as_it_was(make_site: MakeSite) -> None:
    """The process dies (SIGXFSZ) after writing a few bytes: the page keeps its old text."""
    root = make_site(base=BASE)
    page = root / "content/en/about.md"
    before = page.read_bytes()
    assert len(before) > 64

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (32, 32))

    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "translated", "--root", str(root), "en/about"],
        preexec_fn=small_files,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode != 0
    assert page.read_bytes() == before
    # Whatever the killed write left behind is not a page the next build would publish.
    assert sorted(p.name for p in page.parent.iterdir() if p.suffix == ".md") == ["about.md", "index.md"]


def test_translated_keeps_the_file_mode(make_site: MakeSite) -> None:
    root = make_site(base=BASE)
    page = root / "content/en/about.md"
    page.chmod(0o640)
    assert main(["translated", "--root", str(root), "en/about"]) == 0
    assert page.stat().st_mode & 0o777 == 0o640
    assert "source_hash:" in page.read_text(encoding="utf-8")


def test_translated_through_a_link_inside_the_project_updates_the_linked_file(make_site: MakeSite) -> None:
    root = make_site(base=BASE)
    real = root / "content/en/about.md"
    kept = root / "drafts"
    kept.mkdir()
    os.replace(real, kept / "about.md")
    real.symlink_to(Path("../../drafts/about.md"))
    assert main(["translated", "--root", str(root), "en/about"]) == 0
    assert real.is_symlink()
    assert "source_hash:" in (kept / "about.md").read_text(encoding="utf-8")


def test_translated_keeps_the_owner_where_it_may(make_site: MakeSite) -> None:
    """Run as root, the atomic write gave the page to root (found by the writes attacker)."""
    if os.getuid() != 0:
        pytest.fail("this check needs root, as CI runs it: only root may give a file to another owner")
    root = make_site(base=BASE)
    page = root / "content/en/about.md"
    os.chown(page, 1000, 1000)
    assert main(["translated", "--root", str(root), "en/about"]) == 0
    assert (page.stat().st_uid, page.stat().st_gid) == (1000, 1000)

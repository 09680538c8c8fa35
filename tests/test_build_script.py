"""``build.py``, the script staff run: how it ends."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO, MakeSite


def run(*args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    """The script as staff run it: its output buffered (it is not a terminal)."""
    command = [sys.executable, str(REPO / "build.py"), *args]
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    return subprocess.run(command, stdout=stdout, stderr=subprocess.PIPE, text=True, check=False, env=env)


def test_a_build_ends_with_its_files_written_and_its_words_said(make_site: MakeSite, tmp_path: Path) -> None:
    """The script ends with os._exit (no freeing of the heap object by object): nothing may be lost."""
    root = make_site()
    out = tmp_path / "site"
    result = run("build", "--root", str(root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    pages = len(list(out.rglob("*.html")))
    assert pages > 5 and result.stderr.endswith(f"built {pages} pages into {out}\n"), "the last line, said"
    assert (out / "en/about/index.html").read_text(encoding="utf-8").endswith("</html>\n")
    report = run("check", "--root", str(root), "--format", "json")
    assert report.stdout.startswith("{") and report.stdout.rstrip().endswith("}"), "all of it, flushed"


def test_output_that_cannot_be_written_is_an_error_not_a_success(make_site: MakeSite) -> None:
    with open("/dev/full", "w") as full:
        result = run("check", "--root", str(make_site()), "--format", "json", stdout=full.fileno())
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "No space left on device" in result.stderr


def test_a_closed_output_or_a_reader_gone_is_no_traceback(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    command = [sys.executable, str(REPO / "build.py"), "check", "--root", str(root), "--format", "json"]
    closed = subprocess.run(
        command, preexec_fn=lambda: os.close(1), stderr=subprocess.PIPE, text=True, check=False, env=env
    )
    assert closed.returncode == 0, closed.stderr  # `>&-`: nothing to say it to, nothing wrong with the site
    assert "Traceback" not in closed.stderr
    big = make_site(
        {f"content/en/p{i}.md": f"---\ntitle: P{i}\n---\n[gone](gone{i}.md)\n" for i in range(400)}, name="big"
    )
    reader = subprocess.Popen(
        [*command[:4], str(big), *command[5:]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert reader.stdout is not None and reader.stderr is not None
    reader.stdout.read(1)
    reader.stdout.close()  # `| head -c1`: the reader goes away with most of the report unread
    errors = reader.stderr.read().decode()
    reader.stderr.close()
    assert reader.wait() == 1
    assert "Traceback" not in errors

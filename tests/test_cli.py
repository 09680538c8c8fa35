"""The command line: the default command and its options.

Each mistake's exact message, exit code and untouched previous output are in test_errors.py.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from sitegen import pipeline
from sitegen.cli import main
from sitegen.errors import Problem, file_system_problem

from .conftest import MakeSite


def test_build_is_the_default_command(make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site()
    assert main(["--root", str(root), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "th" / "index.html").is_file()
    assert "built 9 pages" in capsys.readouterr().err


def test_base_url_option_overrides_site_yaml(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    assert (
        main(["build", "--root", str(root), "--out", str(tmp_path / "out"), "--base-url", "http://localhost:8000/"])
        == 0
    )
    html = (tmp_path / "out" / "th" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="canonical" href="http://localhost:8000/th/">' in html


def test_missing_site_yaml_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--root", str(tmp_path)]) == 1
    assert capsys.readouterr().err.startswith(
        f"site.yaml: error: no site.yaml in {tmp_path} (run the command from the site's folder, or pass --root)"
    )


def test_an_output_that_cannot_be_written_gets_one_line(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site()
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    assert main(["build", "--root", str(root), "--out", str(tmp_path / "a-file" / "site")]) == 1
    assert capsys.readouterr().err == (
        f"{tmp_path / 'a-file' / '.sitegen-cache' / 'site'}: error: Not a directory"
        " (check the path, its permissions and the free disk space, then try again)\n"
    )


def test_a_file_system_error_names_where_a_file_was_going() -> None:
    moved = OSError(
        errno.EISDIR, "Is a directory", "/x/.site.new-a1b2c3d4/th/index.html", None, "/x/site/th/index.html"
    )
    assert file_system_problem(moved) == Problem(
        "/x/site/th/index.html",
        0,
        "Is a directory",
        "check the path, its permissions and the free disk space, then try again",
    )


def test_an_engine_bug_keeps_its_traceback(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file the engine expected and did not find is not the user's disk: the traceback is the bug report.
    def buggy(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/.site.new-a1b2c3d4/th")

    monkeypatch.setattr(pipeline, "build_site", buggy)
    with pytest.raises(FileNotFoundError):
        main(["build", "--root", str(make_site()), "--out", str(tmp_path / "out")])

"""The command line: the default command and its options.

Each mistake's exact message, exit code and untouched previous output are in test_errors.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.cli import main

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
        " (check the path, its permissions and the free disk space, then build again)\n"
    )

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


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)//",
        "https://www.lpnfoundation.com@evil.example",
        "https://a.org\nSitemap: https://evil.example/",
        'https://evil.example/"><script>',
        "",
    ],
)
def test_a_base_url_option_is_checked_like_site_yaml(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    """--base-url went into canonical links, og:url and robots.txt as given (found by the input attacker)."""
    root = make_site()
    out = tmp_path / "out"
    assert main(["build", "--root", str(root), "--out", str(out), "--base-url", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("--base-url: error: ") and "is not an absolute URL" in err
    assert not out.exists()


def test_a_damaged_cache_is_said_in_one_line(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site()
    out = tmp_path / "out"
    assert main(["build", "--root", str(root), "--out", str(out)]) == 0
    heads = list((tmp_path / ".sitegen-cache" / "out").glob("head.*"))
    assert len(heads) == 1
    heads[0].write_bytes(b"garbage")
    capsys.readouterr()
    assert main(["build", "--root", str(root), "--out", str(out)]) == 0
    notices = [line for line in capsys.readouterr().err.splitlines() if ": notice: " in line]
    assert notices == [
        f"{heads[0]}: notice: the build cache was damaged and has been ignored (building everything again)"
    ]


def test_a_file_size_limit_is_one_line_not_a_traceback(make_site: MakeSite, tmp_path: Path) -> None:
    """ulimit -f: EFBIG was not among the file-system errors, so the build showed a traceback."""
    import resource
    import subprocess
    import sys

    from .conftest import REPO

    root = make_site()
    out = tmp_path / "out"

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100))

    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "--out", str(out)],
        preexec_fn=small_files,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "File too large" in result.stderr
    assert not out.exists()


def test_no_cache_renders_everything_and_saves_no_cache(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site()
    out = tmp_path / "site"
    assert main(["build", "--root", str(root), "--out", str(out)]) == 0
    cached = sorted(p.name for p in tmp_path.rglob("*.msgpack"))
    (root / "content/th/about.md").write_text("---\ntitle: ใหม่\n---\n\nใหม่\n", encoding="utf-8")
    assert main(["--root", str(root), "--out", str(out), "--no-cache"]) == 0  # 'build' is the default
    assert "ใหม่" in (out / "th/about/index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.rglob("*.msgpack")) == cached  # the cache is neither read nor written

"""The command line: one compiler-style line per mistake, exit 1, and the previous site untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

from sitegen.cli import main

from .conftest import MakeSite, tree_digest

ABOUT = "content/en/about.md"

# Each mistake a staff member can make in one file, and the start of the line that must name it.
MISTAKES: dict[str, tuple[dict[str, str | bytes | None], str]] = {
    "tab in front matter": (
        {ABOUT: "---\ntitle: About\n\tdescription: x\n---\n"},
        "content/en/about.md:3: error: invalid YAML",
    ),
    "unclosed quote": ({ABOUT: '---\ntitle: "About\ndescription: x\n---\n'}, "content/en/about.md:"),
    "no opening ---": (
        {ABOUT: "title: About\n---\nText\n"},
        "content/en/about.md:1: error: the page has no front matter",
    ),
    "no closing ---": (
        {ABOUT: "---\ntitle: About\nText\n"},
        "content/en/about.md:1: error: the front matter is not closed",
    ),
    "unknown key": (
        {ABOUT: "---\ntitel: About\n---\n"},
        "content/en/about.md:2: error: unknown front-matter key 'titel' (did you mean 'title'?)",
    ),
    "bad date": (
        {ABOUT: "---\ntitle: About\ndate: 2024-13-45\n---\n"},
        "content/en/about.md:3: error: '2024-13-45' is not a valid date",
    ),
    "missing title": ({ABOUT: "---\ndescription: x\n---\n"}, "content/en/about.md:2: error: the page has no title"),
    "not UTF-8": (
        {ABOUT: "---\ntitle: About\n---\n\nCaf\xe9\n".encode("latin-1")},
        "content/en/about.md:5: error: the file is not UTF-8 text",
    ),
    "undeclared language": (
        {"content/fr/index.md": "---\ntitle: Accueil\n---\n"},
        "content/fr: error: language folder 'fr' is not declared in site.yaml",
    ),
    "missing template": (
        {ABOUT: "---\ntitle: About\ntemplate: pgae.html\n---\n"},
        "content/en/about.md:3: error: template 'pgae.html' does not exist (did you mean 'page.html'?)",
    ),
    "template syntax": (
        {"templates/page.html": '{% extends "base.html" %}\n{% block extra %}{% if %}{% endblock %}\n'},
        "templates/page.html:2: error: template error",
    ),
    "undefined variable": (
        {"templates/page.html": '{% extends "base.html" %}\n{% block extra %}\n{{ pgae.title }}\n{% endblock %}\n'},
        "templates/page.html:3: error: template error: 'pgae' is undefined",
    ),
    "bad SWIFT": (
        {"data/bank.yaml": 'account_name: X\nbank: B\nbranch: C\naccount_number: "123-4-56789-0"\nswift: KRTH\n'},
        "data/bank.yaml:5: error: 'KRTH' is not a SWIFT/BIC code",
    ),
    "broken catalogue": (
        {"locales/th/LC_MESSAGES/messages.po": 'msgid "a"\nmsgstr "b"\nmsgstr "c"\n'},
        "locales/th/LC_MESSAGES/messages.po:",
    ),
}


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_mistake_gives_one_error_line_and_leaves_the_previous_site(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], mistake: str
) -> None:
    good = make_site(name="good")
    out = tmp_path / "out"
    assert main(["build", "--root", str(good), "--out", str(out)]) == 0
    before = tree_digest(out)
    capsys.readouterr()

    files, expected = MISTAKES[mistake]
    bad = make_site(files, name="bad")
    assert main(["build", "--root", str(bad), "--out", str(out)]) == 1
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if ": error: " in line]
    assert len(errors) == 1, captured.err
    assert errors[0].startswith(expected), errors[0]
    assert "Traceback" not in captured.err + captured.out
    assert captured.err.splitlines()[-1] == "1 error; nothing was written"
    assert tree_digest(out) == before


def test_broken_link_is_a_warning_and_an_error_when_strict(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/en/about.md": "---\ntitle: About\n---\n\nSee [us](contatc.md).\n"})
    assert main(["build", "--root", str(root), "--out", str(tmp_path / "a")]) == 0
    warning = "content/en/about.md:5: warning: link to a page that does not exist: 'contatc.md'"
    assert warning in capsys.readouterr().err
    assert main(["build", "--strict", "--root", str(root), "--out", str(tmp_path / "b")]) == 1
    assert warning.replace("warning", "error") in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


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

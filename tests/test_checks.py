"""The editors' report (``check``) and marking a translation up to date (``translated``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from sitegen.checks import Report, check_site, parse_target
from sitegen.cli import main

from .conftest import SITES, MakeSite

BASE = "check-basic"  # tests/sites/check-basic: th (source), en (missing: skip), my (missing: fallback)

# Everything wrong with the fixture site, and nothing else: (language, kind, file, line, level).
EXPECTED = [
    ("*", "empty-data", "data/organisation.yaml", 5, "notice"),
    ("en", "broken-link", "content/en/about.md", 9, "warning"),  # index.md#aims: no such heading
    ("en", "broken-link", "content/en/about.md", 9, "warning"),  # team.md: no such page
    ("en", "missing", "content/en/partners.md", 0, "warning"),
    ("en", "stale", "content/en/about.md", 4, "warning"),
    ("my", "empty-data", "data/contact.yaml", 4, "notice"),
    ("my", "missing", "content/my/about.md", 0, "warning"),
    ("my", "missing", "content/my/partners.md", 0, "warning"),
    ("th", "no-alt", "content/th/partners.md", 5, "warning"),
    ("th", "no-description", "content/th/partners.md", 1, "warning"),
    ("th", "ui-fuzzy", "locales/th/LC_MESSAGES/messages.po", 13, "warning"),
    ("th", "ui-untranslated", "locales/th/LC_MESSAGES/messages.po", 9, "warning"),
]

SUMMARY = """\
summary
language  error  raw-html  missing  stale  ui-untranslated  ui-fuzzy  broken-link  no-alt  no-description  empty-data  warning
th            0         0        0      0                1         1            0       1               1           0        0
en            0         0        1      1                0         0            2       0               0           0        0
my            0         0        2      0                0         0            0       0               0           1        0
all           0         0        0      0                0         0            0       0               0           1        0

0 errors, 10 warnings, 2 notices
"""


def found(report: Report) -> list[tuple[str, str, str, int, str]]:
    return sorted((f.lang, f.kind, f.path, f.line, f.level) for f in report.findings)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_report_lists_exactly_the_known_items(make_site: MakeSite) -> None:
    assert found(check_site(make_site(base=BASE))) == sorted(EXPECTED)


def test_text_report_groups_by_language_and_ends_with_a_summary(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(base=BASE)
    code, out, err = run(capsys, "check", "--root", str(root))
    assert code == 0  # warnings and notices only
    assert err == ""
    assert out.endswith(SUMMARY)
    sections = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert sections[:4] == ["language th", "language en", "language my", "all languages"]
    for line in (
        "  stale translation (1)",
        "    content/en/about.md:4: warning: content/th/about.md changed after this translation was marked up to date"
        " (once revised, run: python build.py translated en/about)",
        "    content/en/partners.md: warning: no translation of content/th/partners.md"
        " (until it is translated, the language switcher leads to the en home page)",
        "    content/my/about.md: warning: no translation: showing the th text of content/th/about.md"
        " (translate the page, then run: python build.py translated my/about)",
        "    locales/th/LC_MESSAGES/messages.po:9: warning: untranslated: 'Home'"
        " (write the translation between the quotes after msgstr)",
        "    locales/th/LC_MESSAGES/messages.po:13: warning: fuzzy (needs review): 'Menu'"
        " (check the translation, then delete the '#, fuzzy' line above it)",
        "    content/en/about.md:9: warning: link to a page that does not exist: 'team.md'"
        " (check the file name; links point to .md files in the same language folder)",
        "    content/en/about.md:9: warning: link to a missing heading: 'index.md#aims'"
        " (no heading in content/en/index.md has the id 'aims')",
        "    content/th/partners.md:5: warning: image 'logo.png' has no alt text"
        " (describe the image inside the brackets: ![what it shows](file.jpg))",
        "    content/th/partners.md:1: warning: no description: search engines and link previews show nothing"
        " (add a line 'description: ...' to the front matter)",
        "    data/organisation.yaml:5: notice: 'email' is empty (fill it in when the fact is known)",
        "    data/contact.yaml:4: notice: 'address.my' is empty (fill it in when the fact is known)",
    ):
        assert line in out.splitlines(), line


def test_json_report_is_the_same_report(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(base=BASE)
    code, out, _ = run(capsys, "check", "--root", str(root), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["languages"] == ["th", "en", "my"]
    assert sorted((f["lang"], f["kind"], f["path"], f["line"], f["level"]) for f in report["findings"]) == sorted(
        EXPECTED
    )
    assert report["totals"] == {"error": 0, "warning": 10, "notice": 2}
    assert report["summary"]["en"] == {
        "error": 0,
        "raw-html": 0,
        "missing": 1,
        "stale": 1,
        "ui-untranslated": 0,
        "ui-fuzzy": 0,
        "broken-link": 2,
        "no-alt": 0,
        "no-description": 0,
        "empty-data": 0,
        "warning": 0,
    }
    stale = next(f for f in report["findings"] if f["kind"] == "stale")
    assert stale["hint"] == "once revised, run: python build.py translated en/about"


def test_strict_fails_on_warnings(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(base=BASE)
    assert run(capsys, "check", "--strict", "--root", str(root))[0] == 1


def test_notices_never_fail(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown e-mail address is a fact nobody has yet, not a mistake: fix everything else, and --strict passes."""
    page = "---\ntitle: {0}\ndescription: {0}\n---\n\nText.\n"
    root = make_site(
        {
            "content/th/partners.md": "---\ntitle: ภาคี\ndescription: ภาคีของเรา\n---\n\n![โลโก้](logo.png)\n",
            "content/en/about.md": page.format("About us") + "\n## History\n",
            "content/en/partners.md": page.format("Partners"),
            "content/my/about.md": page.format("About"),
            "content/my/partners.md": page.format("Partners"),
        },
        base=BASE,
    )
    po = root / "locales/th/LC_MESSAGES/messages.po"
    text = po.read_text(encoding="utf-8").replace('msgstr ""\n\n#, fuzzy\n', 'msgstr "หน้าแรก"\n\n')
    po.write_text(text, encoding="utf-8")
    targets = [f"{lang}/{name}" for lang in ("en", "my") for name in ("about", "partners")]
    assert main(["translated", "--root", str(root), *targets]) == 0
    capsys.readouterr()
    assert [f for f in check_site(root).findings if f.level != "notice"] == []
    code, out, _ = run(capsys, "check", "--strict", "--root", str(root))
    assert code == 0
    assert out.endswith("0 errors, 0 warnings, 2 notices\n")


def test_a_template_error_is_an_error(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site({"templates/page.html": "<html><head></head><body>{{ page.titel }}</body></html>\n"}, base=BASE)
    code, out, _ = run(capsys, "check", "--root", str(root))
    assert code == 1
    assert (
        "    templates/page.html:1: error: template error: 'page.titel' is undefined"
        " (check the spelling of the name; while rendering content/en/about.md and 5 more)"
    ) in out.splitlines()


def test_a_site_that_does_not_load_is_reported_not_crashed(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({"content/en/about.md": "---\ntitel: About\n---\n"}, base=BASE)
    code, out, err = run(capsys, "check", "--root", str(root), "--format", "json")
    assert code == 1
    assert "Traceback" not in err
    report = json.loads(out)
    assert report["findings"] == [
        {
            "lang": "en",
            "kind": "error",
            "path": "content/en/about.md",
            "line": 2,
            "message": "unknown front-matter key 'titel'",
            "level": "error",
            "hint": "did you mean 'title'?",
        }
    ]


def test_translated_clears_the_stale_item(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(base=BASE)
    page = root / "content/en/about.md"
    before = page.read_text(encoding="utf-8")
    code, _, err = run(capsys, "translated", "--root", str(root), "en/about")
    assert code == 0
    assert err == "marked content/en/about.md as up to date with its source\n"
    after = page.read_text(encoding="utf-8")
    assert after.count("source_hash:") == 1
    assert [line for line in after.split("\n") if not line.startswith("source_hash:")] == [
        line for line in before.split("\n") if not line.startswith("source_hash:")
    ]
    assert found(check_site(root)) == sorted(e for e in EXPECTED if e[1] != "stale")


def test_editing_the_source_makes_the_translation_stale_again(make_site: MakeSite) -> None:
    root = make_site(base=BASE)
    assert [f.kind for f in check_site(root).findings if f.lang == "en" and f.kind == "stale"] == ["stale"]
    assert main(["translated", "--root", str(root), "en/about"]) == 0
    assert [f for f in check_site(root).findings if f.kind == "stale"] == [], "marked: up to date"
    source = root / "content/th/about.md"
    source.write_text(source.read_text(encoding="utf-8") + "\nย่อหน้าใหม่\n", encoding="utf-8")
    assert [f.kind for f in check_site(root).findings if f.kind == "stale"] == ["stale"]


def test_editing_the_translation_alone_keeps_it_up_to_date(make_site: MakeSite) -> None:
    root = make_site(base=BASE)
    page = root / "content/en/index.md"
    page.write_text(page.read_text(encoding="utf-8").replace("Welcome.", "Welcome!"), encoding="utf-8")
    assert not [f for f in check_site(root).findings if f.path == "content/en/index.md"]


def test_the_mark_survives_a_fresh_clone(make_site: MakeSite, tmp_path: Path) -> None:
    """The hash is of the text alone: new timestamps and Windows line endings change nothing."""
    root = make_site(base=BASE)
    clone = tmp_path / "clone"
    shutil.copytree(root, clone)
    source = clone / "content/th/index.md"
    source.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    for path in clone.rglob("*.md"):  # as a fresh clone has them: every file written now
        os.utime(path, (2_000_000_000, 2_000_000_000))
    assert found(check_site(clone)) == sorted(EXPECTED)


def test_translated_keeps_windows_line_endings(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(base=BASE)
    page = root / "content/en/about.md"
    page.write_bytes(page.read_bytes().replace(b"\n", b"\r\n"))
    assert run(capsys, "translated", "--root", str(root), "content\\en\\about.md")[0] == 0
    data = page.read_bytes()
    assert b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n")
    assert not [f for f in check_site(root).findings if f.kind == "stale"]


def test_translated_adds_the_line_to_a_page_never_marked(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(base=BASE)
    page = root / "content/en/partners.md"
    page.write_text("---\ntitle: Partners\ndescription: Our partners\n---\n\nText.\n", encoding="utf-8")
    stale = [f for f in check_site(root).findings if f.path == "content/en/partners.md"]
    assert [(f.kind, f.message) for f in stale] == [("stale", "never marked up to date with its source")]
    assert run(capsys, "translated", "--root", str(root), "en/partners")[0] == 0
    lines = page.read_text(encoding="utf-8").split("\n")
    assert lines[:3] == ["---", "title: Partners", "description: Our partners"]
    assert lines[3].startswith("source_hash: ") and lines[4] == "---"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("en/about", ("en", "about")),
        ("en/about.md", ("en", "about")),
        ("content/en/about.md", ("en", "about")),
        ("./content/en/about.md", ("en", "about")),
        ("en\\about", ("en", "about")),
        ("en/news/report/", ("en", "news/report")),
        ("en/news/index.md", ("en", "news")),
        ("en", ("en", "index")),
        ("en/", ("en", "index")),
    ],
)
def test_parse_target(target: str, expected: tuple[str, str]) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "en/abuot",
            "content/en/abuot.md: error: there is no page 'en/abuot' (did you mean 'en/about'?)",
        ),
        (
            "th/about",
            "content/th/about.md: error: 'th/about' is in the source language; only translations are marked"
            " (for example en/about)",
        ),
        (
            "fr/about",
            "error: 'fr/about' does not start with a language of the site"
            " (name it as <language>/<page>, for example en/about)",
        ),
        (
            "about",
            "error: 'about' does not start with a language of the site"
            " (name it as <language>/<page>, for example en/about)",
        ),
    ],
)
def test_translated_explains_a_wrong_name(
    make_site: MakeSite, capsys: pytest.CaptureFixture[str], target: str, message: str
) -> None:
    root = make_site(base=BASE)
    code, _, err = run(capsys, "translated", "--root", str(root), target)
    assert code == 1
    assert err.splitlines() == [message, "1 error; no page was marked"]


def test_translated_needs_a_source_page(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site({"content/en/extra.md": "---\ntitle: Extra\n---\n"}, base=BASE)
    code, _, err = run(capsys, "translated", "--root", str(root), "en/extra")
    assert code == 1
    assert err.splitlines()[0] == (
        "content/en/extra.md: error: 'en/extra' has no th source page (create content/th/extra.md first)"
    )


def test_one_wrong_name_does_not_stop_the_others(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(base=BASE)
    code, _, err = run(capsys, "translated", "--root", str(root), "en/nothing", "en/about")
    assert code == 1
    assert err.splitlines() == [
        "marked content/en/about.md as up to date with its source",
        "content/en/nothing.md: error: there is no page 'en/nothing' (name it as <language>/<page>, for example en/about)",
        "1 error; the other pages were marked",
    ]
    assert not [f for f in check_site(root).findings if f.kind == "stale"]


def test_fixture_source_hashes_are_sha256_of_the_thai_text() -> None:
    """The hashes in check-basic, worked out by hand: sha256 of the Thai file, first 12 hex digits.

    en/index and my/index were marked from today's Thai home page; en/about from an older Thai
    about page, which is what makes it the fixture's one stale translation.
    """
    content = SITES / "check-basic" / "content"

    def recorded(translation: str) -> str:
        lines = (content / translation).read_text(encoding="utf-8").splitlines()
        return next(line.split(": ", 1)[1] for line in lines if line.startswith("source_hash:"))

    def sha(source: str) -> str:
        text = (content / source).read_bytes()
        assert b"source_hash:" not in text
        return hashlib.sha256(text).hexdigest()[:12]

    assert recorded("en/index.md") == recorded("my/index.md") == sha("th/index.md")
    assert recorded("en/about.md") != sha("th/about.md")


def test_check_and_build_word_a_missing_translation_alike(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site(base=BASE)
    code, _, built = run(capsys, "build", "--root", str(root), "--out", str(tmp_path / "out"))
    assert code == 0
    missing = [line for line in built.splitlines() if "no translation" in line]
    assert len(missing) == 3  # en/partners, my/about, my/partners, as in EXPECTED
    _, report, _ = run(capsys, "check", "--root", str(root))
    assert all(f"    {line}" in report.splitlines() for line in missing), (missing, report)


PARTNERS_UNSAFE = """\
---
title: ภาคี
---

![](logo.png)

ภาคีของเรา <a href="javascript:steal()">ดู</a>

<iframe src="https://evil.example/"></iframe>
"""


def test_raw_html_is_an_error_in_the_report(make_site: MakeSite, capsys: pytest.CaptureFixture[str]) -> None:
    # A plain build only warns (and removes it); the editors' report says it must go.
    root = make_site({"content/th/partners.md": PARTNERS_UNSAFE}, base=BASE)
    raw = [
        ("th", "raw-html", "content/th/partners.md", 7, "error"),
        ("th", "raw-html", "content/th/partners.md", 9, "error"),
    ]
    assert found(check_site(root)) == sorted(EXPECTED + raw)

    code, out, _ = run(capsys, "check", "--root", str(root))
    assert code == 1
    lines = out.splitlines()
    assert "  unsafe HTML in a page (removed from the site) (2)" in lines
    assert any(line.startswith("    content/th/partners.md:7: error: 'javascript:' URL in 'href'") for line in lines)
    assert any(line.startswith("    content/th/partners.md:9: error: <iframe> element") for line in lines)
    assert out.endswith("2 errors, 10 warnings, 2 notices\n")

    code, out, _ = run(capsys, "check", "--root", str(root), "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert report["totals"]["error"] == 2
    assert report["summary"]["th"]["raw-html"] == 2
    iframe = next(f for f in report["findings"] if f["kind"] == "raw-html" and f["line"] == 9)
    assert iframe["level"] == "error" and "removed" in iframe["hint"]

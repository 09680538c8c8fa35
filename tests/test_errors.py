"""Every mistake a staff member can make, and the exact message it gets: file:line, what, how to fix.

Each case copies ``tests/sites/err-base`` (a small valid site), builds it once,
then makes one mistake and builds again into the same folder. The build must
print exactly the expected lines, exit 1 without a traceback, and leave the
previous output exactly as it was.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from sitegen.cli import main
from sitegen.errors import Problem, counted, print_problems, report_failure, report_success

from .conftest import REPO, SITES, MakeSite, tree_digest

BASE = "err-base"

EN_ABOUT = "content/en/about.md"
TH_ABOUT = "content/th/about.md"
BANK = "data/bank.yaml"
OFFICES = "data/offices.yaml"
PO = "locales/th/LC_MESSAGES/messages.po"
PAGE_HTML = "templates/page.html"

GOOD_BANK = (SITES / BASE / BANK).read_text(encoding="utf-8")
GOOD_OFFICES = (SITES / BASE / OFFICES).read_text(encoding="utf-8")
GOOD_PO = (SITES / BASE / PO).read_text(encoding="utf-8")
PO_END = GOOD_PO.count("\n") + 1  # the first line after the good catalogue
GOOD_SITE = (SITES / BASE / "site.yaml").read_text(encoding="utf-8")


def page(front: str, body: str = "Text.\n") -> str:
    return f"---\n{front}---\n\n{body}"


# mistake → (files changed, the exact error lines printed)
MISTAKES: dict[str, tuple[dict[str, str | bytes | None], list[str]]] = {
    "YAML: a tab for indenting": (
        {EN_ABOUT: page("title: About us\n\tdescription: x\n")},
        [
            "content/en/about.md:3: error: invalid YAML: found character '\\t' that cannot start any token"
            " (use spaces, not tabs, to indent YAML)"
        ],
    ),
    "YAML: an unclosed double quote": (
        {EN_ABOUT: page('title: "About us\ndescription: The history\n')},
        [
            "content/en/about.md:2: error: invalid YAML: the quote that opens on this line is not closed"
            " (end the text with the same quote mark it starts with)"
        ],
    ),
    "YAML: an unclosed single quote in a data file": (
        {BANK: GOOD_BANK.replace("  en: Chamchuree Square Branch", "  en: 'Chamchuree Square Branch")},
        [
            "data/bank.yaml:7: error: invalid YAML: the quote that opens on this line is not closed"
            " (end the text with the same quote mark it starts with)"
        ],
    ),
    "YAML: text with ': ' not in quotes": (
        {EN_ABOUT: page("title: About us: our history\n")},
        [
            "content/en/about.md:2: error: invalid YAML: mapping values are not allowed here"
            " (put text that contains ': ' in quotes)"
        ],
    ),
    "YAML: a value that contains itself": (
        {EN_ABOUT: page("title: &a [*a]\n")},
        [
            "content/en/about.md:2: error: invalid YAML: a value contains itself"
            " (a value that starts with & or * must be put in quotes)"
        ],
    ),
    "no opening ---": (
        {EN_ABOUT: "title: About us\n---\n\nText.\n"},
        [
            "content/en/about.md:1: error: the page has no front matter"
            " (did you forget the --- line before the front matter?)"
        ],
    ),
    "no front matter at all": (
        {EN_ABOUT: "Text only.\n"},
        [
            "content/en/about.md:1: error: the page has no front matter"
            " (start the file with a line '---', then 'title: ...', then another '---')"
        ],
    ),
    "no closing ---": (
        {EN_ABOUT: "---\ntitle: About us\n\nText.\n"},
        [
            "content/en/about.md:1: error: the front matter is not closed"
            " (add a line '---' after the last front-matter line)"
        ],
    ),
    "unknown front-matter key": (
        {EN_ABOUT: page("title: About us\ndescripton: The history\n")},
        ["content/en/about.md:3: error: unknown front-matter key 'descripton' (did you mean 'description'?)"],
    ),
    "unknown front-matter key, nothing close": (
        {EN_ABOUT: page("title: About us\ncolour: red\n")},
        [
            "content/en/about.md:3: error: unknown front-matter key 'colour' (allowed: 'date', 'description',"
            " 'draft', 'source_hash', 'template', 'title', 'updated')"
        ],
    ),
    "a date that does not exist": (
        {EN_ABOUT: page("title: About us\ndate: 2024-13-45\n")},
        [
            "content/en/about.md:3: error: '2024-13-45' is not a valid date: month must be in 1..12"
            " (write dates as YYYY-MM-DD, for example 2024-02-29)"
        ],
    ),
    "a date that is not a date": (
        {EN_ABOUT: page("title: About us\ndate: yesterday\n")},
        [
            "content/en/about.md:3: error: 'date' must be a date written YYYY-MM-DD, not 'yesterday'"
            " (for example 2024-02-29)"
        ],
    ),
    "a Thai-era date": (
        {TH_ABOUT: page("title: เกี่ยวกับเรา\ndate: 24/12/2551\n")},
        [
            "content/th/about.md:3: error: 'date' must be a date written YYYY-MM-DD, not '24/12/2551' (for example 2024-02-29)"
        ],
    ),
    "draft that is not true or false": (
        {EN_ABOUT: page("title: About us\ndraft: maybe\n")},
        ["content/en/about.md:3: error: 'draft' must be true or false, not 'maybe'"],
    ),
    "missing title": (
        {EN_ABOUT: page("description: The history\n")},
        ["content/en/about.md:2: error: the page has no title (add a line 'title: ...' to the front matter)"],
    ),
    "empty title": (
        {EN_ABOUT: page("title:\ndescription: The history\n")},
        ["content/en/about.md:2: error: 'title' must be text, not empty"],
    ),
    "two pages with the same URL": (
        {"content/en/about/index.md": page("title: About us\n")},
        [
            "content/en/about.md:1: error: this page and content/en/about/index.md both produce the URL /en/about/"
            " (rename or remove one of them)"
        ],
    ),
    "undeclared language folder": (
        {"content/fr/index.md": page("title: Accueil\n")},
        [
            "content/fr: error: language folder 'fr' is not declared in site.yaml"
            " (add it under 'languages:' in site.yaml, or rename the folder; allowed: 'en', 'th')"
        ],
    ),
    "misspelt language folder": (
        {"content/eng/index.md": page("title: Home\n")},
        [
            "content/eng: error: language folder 'eng' is not declared in site.yaml"
            " (add it under 'languages:' in site.yaml, or rename the folder; did you mean 'en'?)"
        ],
    ),
    "template syntax error": (
        {PAGE_HTML: '{% extends "base.html" %}\n{% block main %}\n<h1>{{ page.title }</h1>\n{% endblock %}\n'},
        [
            "templates/page.html:3: error: template error: unexpected '}'"
            " (while rendering content/en/about.md and 3 more)"
        ],
    ),
    "template block not closed": (
        {PAGE_HTML: '{% extends "base.html" %}\n{% block main %}\n{% if page.date %}\n<h1>x</h1>\n{% endblock %}\n'},
        [
            # Jinja's own explanation sits between the two parts; only its file, line and our hint are ours.
            "templates/page.html:5: error: template error: Encountered unknown tag 'endblock'."
            " … (while rendering content/en/about.md and 3 more)"
        ],
    ),
    "undefined variable": (
        {PAGE_HTML: '{% extends "base.html" %}\n{% block main %}\n<h1>{{ titel }}</h1>\n{% endblock %}\n'},
        [
            "templates/page.html:3: error: template error: 'titel' is undefined"
            " (check the spelling of the name; while rendering content/en/about.md and 3 more)"
        ],
    ),
    "undefined attribute": (
        {PAGE_HTML: '{% extends "base.html" %}\n{% block main %}\n<h1>{{ page.titel }}</h1>\n{% endblock %}\n'},
        [
            "templates/page.html:3: error: template error: 'page.titel' is undefined"
            " (check the spelling of the name; while rendering content/en/about.md and 3 more)"
        ],
    ),
    "undefined data field in the base template": (
        {
            "templates/base.html": (SITES / BASE / "templates/base.html")
            .read_text()
            .replace("data.bank.account_number", "data.bank.acount_number")
        },
        [
            "templates/base.html:12: error: template error: 'data.bank.acount_number' is undefined"
            " (check the spelling of the name; while rendering content/en/about.md and 3 more)"
        ],
    ),
    "missing template named in front matter": (
        {EN_ABOUT: page("title: About us\ntemplate: pagee.html\n")},
        ["content/en/about.md:3: error: template 'pagee.html' does not exist (did you mean 'page.html'?)"],
    ),
    "missing template extended by another": (
        {PAGE_HTML: '{% extends "bse.html" %}\n'},
        [
            "templates/page.html:1: error: template error: template 'bse.html' does not exist"
            " (did you mean 'base.html'?; while rendering content/en/about.md and 3 more)"
        ],
    ),
    "data file declared in site.yaml but missing": (
        {BANK: None},
        [
            "site.yaml:28: error: data file 'data/bank.yaml' does not exist"
            " (create it, or remove 'bank' from the 'data:' section of site.yaml)"
        ],
    ),
    "bad SWIFT code": (
        {BANK: GOOD_BANK.replace("swift: KRTHTHBK", "swift: KRTH1HBK")},
        [
            "data/bank.yaml:10: error: 'KRTH1HBK' is not a SWIFT/BIC code"
            " (it has 8 or 11 capital letters and digits, like KRTHTHBK)"
        ],
    ),
    "SWIFT code of a bank in another country": (
        {BANK: GOOD_BANK.replace("swift: KRTHTHBK", "swift: BKKBSGSG")},
        [
            "data/bank.yaml:10: error: SWIFT code 'BKKBSGSG' is of a bank in SG, but 'country' is TH"
            " (letters 5 and 6 of a SWIFT code are its bank's country: check the code, or the country)"
        ],
    ),
    "account number with a digit missing": (
        {BANK: GOOD_BANK.replace('"162-0-09432-0"', '"162-0-0943-0"')},
        [
            "data/bank.yaml:8: error: account number '162-0-0943-0' does not fit the format '###-#-#####-#'"
            " (check each digit against the bank's record)"
        ],
    ),
    "account number not in quotes": (
        {BANK: GOOD_BANK.replace('"162-0-09432-0"', "1620094320")},
        ['data/bank.yaml:8: error: the account number must be text (put it in quotes, like "162-0-09432-0")'],
    ),
    "bad phone number": (
        {OFFICES: GOOD_OFFICES.replace("034-434726", "034-43472")},
        [
            "data/offices.yaml:6: error: '034-43472' is not a valid phone number"
            " (check the digits; write a TH number like 034-434726, or +66 34 434 726)"
        ],
    ),
    "unknown key in a data file": (
        {BANK: GOOD_BANK.replace("account_name:", "acount_name:")},
        [
            "data/bank.yaml:1: error: 'account_name' is missing (add 'account_name: ...')",
            "data/bank.yaml:1: error: unknown key 'acount_name' (did you mean 'account_name'?)",
        ],
    ),
    ".po: unclosed quote": (
        {PO: GOOD_PO.replace('msgstr "บริจาค"', 'msgstr "บริจาค')},
        [
            "locales/th/LC_MESSAGES/messages.po:7: error: broken catalogue: the quotes on this line do not match"
            ' (the text goes between two " marks; write a " inside the text as \\")'
        ],
    ),
    ".po: two msgstr for one msgid": (
        {PO: GOOD_PO + 'msgstr "ให้"\n'},
        [
            f"locales/th/LC_MESSAGES/messages.po:{PO_END}: error: broken catalogue: a msgstr that does not follow a msgid"
            " (each msgid has exactly one msgstr; remove the extra one)"
        ],
    ),
    ".po: msgid without msgstr": (
        {PO: GOOD_PO + '\nmsgid "Home"\n'},
        [
            f'locales/th/LC_MESSAGES/messages.po:{PO_END + 1}: error: broken catalogue: msgid "Home" has no msgstr'
            ' (add a line msgstr "..." with the translation below it)'
        ],
    ),
    ".po: the same msgid twice": (
        {PO: GOOD_PO + '\nmsgid "Donate"\nmsgstr "ร่วมบริจาค"\n'},
        [
            f'locales/th/LC_MESSAGES/messages.po:{PO_END + 1}: error: broken catalogue: msgid "Donate" appears twice'
            " (it is also on line 6; keep one of them)"
        ],
    ),
    ".po: a line that is not a msgid or msgstr": (
        {PO: GOOD_PO + "msgstr บริจาค\n"},
        [
            f"locales/th/LC_MESSAGES/messages.po:{PO_END}: error: broken catalogue: this line is not a msgid,"
            ' a msgstr or text in quotes (each line looks like msgid "..." or msgstr "..." or "...")'
        ],
    ),
    "a page that is not UTF-8": (
        {EN_ABOUT: page("title: About us\n", "Caf\xe9.\n").encode("latin-1")},
        [
            "content/en/about.md:5: error: the file is not UTF-8 text"
            " (save it again with the encoding 'UTF-8' in your editor)"
        ],
    ),
    "a Thai page saved as TIS-620": (
        {TH_ABOUT: page("title: เกี่ยวกับเรา\n").encode("cp874")},
        [
            "content/th/about.md:2: error: the file is not UTF-8 text"
            " (save it again with the encoding 'UTF-8' in your editor)"
        ],
    ),
    "a data file that is not UTF-8": (
        {OFFICES: GOOD_OFFICES.encode("utf-8").replace("สำนักงานใหญ่".encode(), "สำนักงานใหญ่".encode("cp874"))},
        [
            "data/offices.yaml:3: error: the file is not UTF-8 text"
            " (save it again with the encoding 'UTF-8' in your editor)"
        ],
    ),
    "a catalogue that is not UTF-8": (
        {PO: GOOD_PO.encode("utf-8").replace("บริจาค".encode(), "บริจาค".encode("cp874"))},
        [
            "locales/th/LC_MESSAGES/messages.po:7: error: the file is not UTF-8 text"
            " (save it again with the encoding 'UTF-8' in your editor)"
        ],
    ),
    "a key given twice in a data file": (
        {BANK: GOOD_BANK + 'account_number: "999-9-99999-9"\n'},
        [
            "data/bank.yaml:12: error: 'account_number' is given twice, on lines 8 and 12"
            " (keep one of them: the build cannot tell which is right)"
        ],
    ),
    "a key given twice in front matter": (
        {EN_ABOUT: page("title: About us\ndescription: x\ntitle: History\n")},
        [
            "content/en/about.md:4: error: 'title' is given twice, on lines 2 and 4"
            " (keep one of them: the build cannot tell which is right)"
        ],
    ),
    "a key given twice in site.yaml": (
        {"site.yaml": GOOD_SITE + "base_url: https://example.com\n"},
        [
            f"site.yaml:{GOOD_SITE.count(chr(10)) + 1}: error: 'base_url' is given twice,"
            f" on lines 6 and {GOOD_SITE.count(chr(10)) + 1}"
            " (keep one of them: the build cannot tell which is right)"
        ],
    ),
    "an empty tag in front matter": (
        {EN_ABOUT: page("title: !!int\n")},
        [
            "content/en/about.md:2: error: invalid YAML: the tag !!int needs a value (write a value after !!int, or remove it)"
        ],
    ),
    "an empty date tag in a data file": (
        {BANK: GOOD_BANK.replace("swift: KRTHTHBK", "swift: !!timestamp")},
        [
            "data/bank.yaml:10: error: invalid YAML: the tag !!timestamp needs a value"
            " (write a value after !!timestamp, or remove it)"
        ],
    ),
    "an empty tag in site.yaml": (
        {"site.yaml": GOOD_SITE.replace("phone_region: TH", "phone_region: !!float")},
        [
            "site.yaml:19: error: invalid YAML: the tag !!float needs a value (write a value after !!float, or remove it)"
        ],
    ),
    "an alias bomb in a data file": (
        {
            "data/bomb.yaml": "a: &a [x, x, x, x, x, x, x, x]\n"
            + "".join(f"{n}: &{n} [{', '.join([f'*{p}'] * 8)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
        },
        [
            "data/bomb.yaml:6: error: invalid YAML: the values here repeat others (*name) until they make more than"
            " 100,000 values (write the values out, or use fewer * references)"
        ],
    ),
    "a page name with spaces and capitals": (
        {"content/en/About Us.md": page("title: About us\n")},
        [
            "content/en/About Us.md: error: page file names may use only lower-case Latin letters, digits and '-'"
            " (rename it to content/en/about-us.md)"
        ],
    ),
    "a page name in Thai letters": (
        {"content/th/ข่าว.md": page("title: ข่าว\n")},
        [
            "content/th/ข่าว.md: error: page file names may use only lower-case Latin letters, digits and '-'"
            " (use a name such as news-2024.md; its address is made from it)"
        ],
    ),
    "a folder of pages with a capital": (
        {"content/en/News/report_2024.md": page("title: Report\n")},
        [
            "content/en/News/report_2024.md: error: page file names may use only lower-case Latin letters, digits"
            " and '-' (rename it to content/en/news/report-2024.md)"
        ],
    ),
    "a page name ending in .md twice": (
        {"content/en/news.md.md": page("title: News\n")},
        [
            "content/en/news.md.md: error: page file names may use only lower-case Latin letters, digits and '-'"
            " (rename it to content/en/news.md)"
        ],
    ),
    "two page names that differ only in capitals": (
        {"content/en/About.md": page("title: About us\n")},
        [
            "content/en/About.md: error: page file names may use only lower-case Latin letters, digits and '-'"
            " (content/en/about.md exists already: keep one of the two pages, or give this one another name)",
            "content/en/about.md: error: 'content/en/About.md' and 'content/en/about.md' differ only in capitals:"
            " on Windows and macOS they are one file (rename or remove one of them)",
        ],
    ),
    "unknown key in site.yaml": (
        {"site.yaml": GOOD_SITE.replace("default_lang:", "defualt_lang:")},
        ["site.yaml:7: error: unknown key 'defualt_lang' in site.yaml (did you mean 'default_lang'?)"],
    ),
    "menu entry that is not a page": (
        {"site.yaml": GOOD_SITE.replace("menu: [about]", "menu: [abuot]")},
        [
            "site.yaml:18: error: menu entry 'abuot' is not a page"
            " (create content/th/abuot.md or remove it from the list)"
        ],
    ),
}


def _build(root: Path, out: Path, *extra: str) -> int:
    return main(["build", "--root", str(root), "--out", str(out), *extra])


def _matches(line: str, wanted: str) -> bool:
    """Exact, except that " … " stands for text quoted from a library that is not ours to pin."""
    if " … " not in wanted:
        return line == wanted
    start, end = wanted.split(" … ")
    return line.startswith(start) and line.endswith(end)


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_mistake_gives_its_exact_message(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], mistake: str
) -> None:
    out = tmp_path / "out"
    assert _build(make_site(base=BASE, name="good"), out) == 0
    before = tree_digest(out)
    capsys.readouterr()

    files, expected = MISTAKES[mistake]
    assert _build(make_site(files, base=BASE, name="bad"), out) == 1
    captured = capsys.readouterr()
    count = len(expected)
    lines = captured.err.splitlines()
    assert len(lines) == count + 1, captured.err
    for line, wanted in zip(lines, expected, strict=False):
        assert _matches(line, wanted), f"{line!r} is not {wanted!r}"
    assert lines[-1] == f"{count} error{'s' if count != 1 else ''}; nothing was written"
    assert captured.out == ""
    assert tree_digest(out) == before


def test_link_to_a_missing_page_is_a_warning(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_site({EN_ABOUT: page("title: About us\n", "Meet [the team](team.md).\n")}, base=BASE)
    assert _build(root, tmp_path / "out") == 0
    assert capsys.readouterr().err.splitlines() == [
        "content/en/about.md:5: warning: link to a page that does not exist: 'team.md'"
        " (check the file name; links point to .md files in the same language folder)",
        f"built 6 pages into {tmp_path / 'out'}",
    ]


def test_link_to_a_missing_page_is_an_error_when_strict(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _build(make_site(base=BASE, name="good"), out) == 0
    before = tree_digest(out)
    capsys.readouterr()
    root = make_site({EN_ABOUT: page("title: About us\n", "Meet [the team](team.md).\n")}, base=BASE, name="bad")
    assert _build(root, out, "--strict") == 1
    assert capsys.readouterr().err.splitlines() == [
        "content/en/about.md:5: error: link to a page that does not exist: 'team.md'"
        " (check the file name; links point to .md files in the same language folder)",
        "1 error; nothing was written",
    ]
    assert tree_digest(out) == before


def test_link_to_a_missing_heading(make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site({EN_ABOUT: page("title: About us\n", "## History\n\nSee [home](index.md#welcome).\n")}, base=BASE)
    assert _build(root, tmp_path / "out", "--strict") == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "content/en/about.md:7: error: link to a missing heading: 'index.md#welcome'"
        " (no heading in content/en/index.md has the id 'welcome')"
    )


def test_all_mistakes_are_reported_at_once(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Staff fix everything in one round: the build does not stop at the first mistake."""
    files: dict[str, str | bytes | None] = {
        EN_ABOUT: page("titel: About us\n"),
        "content/th/index.md": page("title: หน้าแรก\ndate: 2024-02-30\n"),
        BANK: GOOD_BANK.replace("swift: KRTHTHBK", "swift: KRTH"),
    }
    assert _build(make_site(files, base=BASE), tmp_path / "out") == 1
    assert capsys.readouterr().err.splitlines() == [
        "content/en/about.md:2: error: unknown front-matter key 'titel' (did you mean 'title'?)",
        "content/th/index.md:3: error: '2024-02-30' is not a valid date: day is out of range for month"
        " (write dates as YYYY-MM-DD, for example 2024-02-29)",
        "data/bank.yaml:10: error: 'KRTH' is not a SWIFT/BIC code (it has 8 or 11 capital letters and digits, like KRTHTHBK)",
        "3 errors; nothing was written",
    ]


@pytest.mark.parametrize(
    ("files", "first_line"),
    [
        ({EN_ABOUT: page("title: About us\n\tdescription: x\n")}, "content/en/about.md:3: error: invalid YAML: "),
        (
            {PAGE_HTML: '{% extends "base.html" %}\n{% block main %}\n{{ titel }}\n{% endblock %}\n'},
            "templates/page.html:3: error: template error: 'titel' is undefined",
        ),
    ],
)
def test_the_real_command_line(
    make_site: MakeSite, tmp_path: Path, files: dict[str, str | bytes | None], first_line: str
) -> None:
    """Run as staff do, in a fresh process: exit 1, one line, no traceback."""
    root = make_site(files, base=BASE)
    result = subprocess.run(
        [sys.executable, str(REPO / "build.py"), "--root", str(root), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[0].startswith(first_line)
    assert result.stderr.splitlines()[-1] == "1 error; nothing was written"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_files_that_look_meant_as_pages_are_warnings(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    news = page("title: News\n")
    files: dict[str, str | bytes | None] = {
        "content/en/news.MD": news,
        "content/en/news.md.txt": news,
        "content/en/news.markdown": news,
        "content/en/logo.png": b"\x89PNG",  # not a page, and not meant as one: no word about it
    }
    assert _build(make_site(files, base=BASE), tmp_path / "out") == 0
    hint = "(rename it to content/en/news.md)"
    assert capsys.readouterr().err.splitlines() == [
        f"content/en/news.MD: warning: this file is not read: page files end in '.md' {hint}",
        f"content/en/news.markdown: warning: this file is not read: page files end in '.md' {hint}",
        f"content/en/news.md.txt: warning: this file is not read: page files end in '.md' {hint}",
        f"built 6 pages into {tmp_path / 'out'}",
    ]


def test_problems_are_counted_in_words() -> None:
    assert [counted(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]


def test_a_finished_build_says_its_warnings_and_counts_its_pages(capsys: pytest.CaptureFixture[str]) -> None:
    """The words of ``build`` and ``serve``, in one place: the warnings, not the notices left to ``check``."""
    empty = Problem("data/bank.yaml", 4, "'branch' is empty", level="notice", kind="empty-data")
    damaged = Problem(".sitegen-cache", 0, "the cache was damaged", level="notice", kind="cache")
    warning = Problem("content/en/a.md", 2, "link to a missing page", level="warning")
    outputs = ["404.html", "en/a/index.html", "sitemap.xml", "assets/site.0123.css"]
    assert report_success([empty, warning, damaged], outputs) == "built 2 pages"
    assert capsys.readouterr().err.splitlines() == [damaged.format(), warning.format()]
    assert report_success([], ["index.html"]) == "built 1 page"


def test_a_failed_build_says_every_error_and_counts_them(capsys: pytest.CaptureFixture[str]) -> None:
    errors = [Problem("b.md", 1, "second"), Problem("a.md", 1, "first")]
    assert report_failure(errors, "nothing was written") == "2 errors; nothing was written"
    assert capsys.readouterr().err == "a.md:1: error: first\nb.md:1: error: second\n"
    assert report_failure(errors[:1], "no page was marked") == "1 error; no page was marked"


def test_problems_print_one_line_each_in_order_of_file_and_line() -> None:
    stream = io.StringIO()
    later = Problem("content/th/b.md", 3, "second", "fix it", "warning")
    print_problems([later, Problem("content/th/a.md", 9, "first")], stream)
    assert stream.getvalue() == "content/th/a.md:9: error: first\ncontent/th/b.md:3: warning: second (fix it)\n"


def test_the_preview_prints_problems_without_the_command_line() -> None:
    """Formatting and counting live in errors: serve does not import the CLI."""
    code = "import sys, sitegen.serve; print('sitegen.cli' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert result.stdout == "False\n"


def test_a_problem_is_one_line_whatever_the_value_it_quotes() -> None:
    """A value from a data file may hold a newline or a terminal escape: shown, not acted on."""
    problem = Problem(
        "data/organisation.yaml", 3, "'https://example.org\nsecond\x1b[2J' is not a web address", "fix it"
    )
    line = problem.format()
    assert "\n" not in line and "\x1b" not in line
    assert line == (
        "data/organisation.yaml:3: error: 'https://example.org\\nsecond\\x1b[2J' is not a web address (fix it)"
    )

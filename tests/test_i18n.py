"""Dates in the Buddhist era, and catalogues compiled in memory."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sitegen.config import Language, load_config
from sitegen.errors import Collector, SiteError
from sitegen.i18n import catalogue_status, era_pattern, era_year, format_page_date, load_translations
from sitegen.pipeline import build_site

from .conftest import REPO, MakeSite, copy_site

TH = Language("th", "ไทย", "th", "th_TH", "buddhist")
EN = Language("en", "English", "en", "en_US")


# Expected strings typed in from ../shared/REFERENCE.md ("Thai dates").
@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("long", "24 ธันวาคม พ.ศ. 2551"),
        ("full", "วันพุธที่ 24 ธันวาคม พ.ศ. 2551"),
        ("medium", "24 ธ.ค. 2551"),
        ("short", "24/12/51"),
    ],
)
def test_thai_dates_use_the_buddhist_era(form: str, expected: str) -> None:
    assert format_page_date(datetime.date(2008, 12, 24), TH, form) == expected  # type: ignore[arg-type]


def test_leap_day_keeps_its_weekday() -> None:
    assert format_page_date(datetime.date(2024, 2, 29), TH, "full") == "วันพฤหัสบดีที่ 29 กุมภาพันธ์ พ.ศ. 2567"


def test_english_dates_are_gregorian() -> None:
    assert format_page_date(datetime.date(2008, 12, 24), EN, "long") == "December 24, 2008"


def test_era_pattern_leaves_quoted_text_alone() -> None:
    assert era_pattern("'y G' d MMMM G y", 2008) == "'y G' d MMMM 'พ.ศ.' '2551'"
    assert era_pattern("d/M/yy", 2008) == "d/M/'51'"
    assert era_year(2004, TH) == 2547 and era_year(2004, EN) == 2004


def test_catalogue_is_compiled_in_memory_without_fuzzy_entries(make_site: MakeSite) -> None:
    root = make_site(
        {
            "locales/th/LC_MESSAGES/messages.po": (
                'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
                'msgid "Page not found"\nmsgstr "ไม่พบหน้านี้"\n\n'
                '#, fuzzy\nmsgid "This page has not been translated yet."\nmsgstr "ผิด"\n\n'
                'msgid "Menu"\nmsgstr ""\n'
            )
        }
    )
    config = load_config(root)
    problems = Collector()
    translations = load_translations(config, problems)
    assert problems.problems == []
    th = translations["th"]
    assert th.gettext("Page not found") == "ไม่พบหน้านี้"
    assert th.gettext("This page has not been translated yet.") == "This page has not been translated yet."
    assert not list(root.rglob("*.mo")), "nothing is written to disk"
    status = catalogue_status(config, "th")
    assert status is not None
    assert status.untranslated == ((12, "Menu"),)
    assert status.fuzzy == ((9, "This page has not been translated yet."),)


def test_missing_catalogue_is_a_warning(make_site: MakeSite) -> None:
    root = make_site({"locales/my/LC_MESSAGES/messages.po": None})
    problems = Collector()
    translations = load_translations(load_config(root), problems)
    assert translations["my"].gettext("Page not found") == "Page not found"
    assert [p.format() for p in problems.problems] == [
        "locales/my/LC_MESSAGES/messages.po: warning: no catalogue for language 'my': menus and labels will be in English "
        "(create it with: pybabel init -i locales/messages.pot -d locales -l my)"
    ]


# --- a catalogue's header: mistakes are errors at their line, never a traceback --------------------

PO = "locales/th/LC_MESSAGES/messages.po"


def catalogue(header: str) -> str:
    return f'# Thai\nmsgid ""\nmsgstr ""\n{header}\nmsgid "Page not found"\nmsgstr "ไม่พบหน้านี้"\n'


HEADER = '"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: th\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n'


@pytest.mark.parametrize(
    ("old", "new", "line", "message", "hint"),
    [
        ("charset=UTF-8", "charset=klingon-8", 4, "unknown charset 'klingon-8'", "charset=UTF-8"),
        ("charset=UTF-8", "charset=ISO-8859-1", 4, "charset 'iso-8859-1'", "charset=UTF-8"),
        ("charset=UTF-8", "charset=utf-16", 4, "charset 'utf-16'", "charset=UTF-8"),
        ("plural=0;", "plural=n +;", 6, "Plural-Forms", "plural=(n != 1)"),
        ("plural=0;", "plural=__import__('os');", 6, "Plural-Forms", "plural=(n != 1)"),
        ("plural=0;", "plural=n%0;", 6, "Plural-Forms", "plural=(n != 1)"),
        ("plural=0;", "plural=" + "(" * 300 + "n" + ")" * 300 + ";", 6, "Plural-Forms", "plural=(n != 1)"),
        ("nplurals=1;", "nplurals=one;", 6, "Plural-Forms", "nplurals=2"),
        ("nplurals=1;", "nplurals=0;", 6, "Plural-Forms", "nplurals=2"),
        ("nplurals=1;", "nplurals=99999999999999999999;", 6, "Plural-Forms", "nplurals=2"),  # not a MemoryError
        ("Language: th", "Language: not a locale", 5, "Language", "Language: th"),
    ],
)
def test_a_bad_header_is_an_error_at_its_line(
    make_site: MakeSite, old: str, new: str, line: int, message: str, hint: str
) -> None:
    assert old in HEADER
    root = make_site({PO: catalogue(HEADER.replace(old, new))})
    problems = Collector()
    load_translations(load_config(root), problems)
    [problem] = problems.errors
    assert (problem.path, problem.line) == (PO, line), problem.format()
    assert message in problem.message, problem.format()
    assert hint in problem.hint, problem.format()


def test_a_good_header_in_other_spellings_is_accepted(make_site: MakeSite) -> None:
    header = HEADER.replace("charset=UTF-8", "charset=utf8").replace("plural=0;", "plural=(n==1 ? 0 : 0);")
    root = make_site({PO: catalogue(header)})
    problems = Collector()
    translations = load_translations(load_config(root), problems)
    assert problems.errors == []
    assert translations["th"].gettext("Page not found") == "ไม่พบหน้านี้"


# --- property: whatever a catalogue holds, the build reads it or reports a clean error ------------

THAI = "กขคงจฉชซญฎดตถทนบปผพฟภมยรลวสหอฮะัาำิีึืุูเแโใไ่้๊๋็์"
po_text = st.text(
    alphabet=st.sampled_from([*'\\"%{}()#:;=\n\t\r ', *"nrtx0u7aZ", *THAI, "\x00", "\x1b", "\u200b", "\ufeff", "😀"]),
    max_size=12,
)
# Text between quotes as a catalogue holds it: escapes (valid or not), Unicode, format markers.
escaped = st.lists(
    st.sampled_from(
        ["\\n", '\\"', "\\\\", "\\t", "\\x41", "\\u0e01", "\\0", "\\", "%s", "%(n)s", "{0}", *THAI[:8], "a", " "]
    ),
    max_size=8,
).map("".join)
message_text = st.one_of(escaped, escaped, po_text)
charsets = st.one_of(
    st.sampled_from(["UTF-8", "utf8", "CHARSET", "", "latin-1", "ISO-8859-11", "klingon", "utf-16", "ascii", "cp874"]),
    po_text,
)
nplurals = st.one_of(st.sampled_from(["1", "2", "0", "-1", "x", "", "99999999999999999999"]), po_text)
plurals = st.one_of(
    st.sampled_from(["0", "(n != 1)", "n%0", "n/0", "n +", "(((", "n?1:0", "n==1 ? 0 : 1", "5", "-1", "n>1", "import"]),
    st.text(alphabet=st.sampled_from(list("n0123456789()?:!=<>&|%+-*/ ;_a")), max_size=20),
)
header_lines = st.lists(
    st.one_of(
        st.builds("Content-Type: text/plain; charset={}".format, charsets),
        st.builds("Plural-Forms: nplurals={}; plural={};".format, nplurals, plurals),
        st.builds("Language: {}".format, st.one_of(st.sampled_from(["th", "en", "xx", "th_TH", "", "th-TH"]), po_text)),
        st.builds("POT-Creation-Date: {}".format, st.one_of(st.just("2026-11-26 13:36+0000"), po_text)),
        st.builds("{}: {}".format, po_text, po_text),
    ),
    max_size=4,
)


def quoted(value: str) -> str:
    return '"' + value.replace("\n", "\\n") + '"'


@st.composite
def entries(draw: st.DrawFn) -> str:
    msgid = draw(st.one_of(st.sampled_from(["Page not found", "Menu", "%(n)s pages", ""]), message_text))
    lines = []
    if draw(st.booleans()):
        lines.append("#, fuzzy")
    if draw(st.integers(0, 5)) == 0:
        lines.append(f"msgctxt {quoted(draw(message_text))}")
    lines.append(f"msgid {quoted(msgid)}")
    if draw(st.booleans()):
        lines.append(f"msgid_plural {quoted(draw(message_text))}")
        for index in range(draw(st.sampled_from([1, 1, 2, 3, 0]))):
            lines.append(f"msgstr[{draw(st.sampled_from([index, index, 7, -1]))}] {quoted(draw(message_text))}")
    else:
        lines.append(f"msgstr {quoted(draw(message_text))}")
    return "\n".join(lines)


@st.composite
def catalogues(draw: st.DrawFn) -> bytes:
    header = "".join(quoted(line + "\n") + "\n" for line in draw(header_lines))
    text = f'msgid ""\nmsgstr ""\n{header}\n' + "\n\n".join(draw(st.lists(entries(), max_size=4))) + "\n"
    lines = text.split("\n")
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # broken syntax: a line lost, doubled or replaced
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "double", "replace"]))
        if action == "drop":
            del lines[at]
        elif action == "double":
            lines.insert(at, lines[at])
        else:
            lines[at] = draw(po_text)
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    encoding = draw(st.sampled_from(["utf-8"] * 8 + ["utf-8-sig", "utf-16", "tis-620"]))
    return text.encode(encoding, errors="replace")


@pytest.fixture(scope="module")
def po_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_site(tmp_path_factory.mktemp("po") / "site")


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=catalogues())
def test_any_catalogue_is_read_or_refused_cleanly(po_site: Path, data: bytes) -> None:
    (po_site / PO).write_bytes(data)
    config = load_config(po_site)
    problems = Collector()
    translations = load_translations(config, problems)  # collects errors; must raise nothing
    if problems.errors:
        assert all(p.path == PO and p.message for p in problems.errors)
        event("refused: " + problems.errors[0].message.removeprefix("broken catalogue: ")[:24])
        return
    event("read")
    th = translations["th"]
    for n in range(3):  # what templates may ask of it
        th.gettext("Page not found")
        th.ngettext("%(n)s page", "%(n)s pages", n)
    try:
        catalogue_status(config, "th")
    except SiteError:
        pytest.fail("the build read the catalogue but the report refuses it")


@pytest.mark.parametrize("line", ['msgid_plural "pages"', 'msgstr[0] "หน้า"', 'msgctxt "menu"'])
def test_a_line_given_twice_in_one_entry_is_an_error_at_it(make_site: MakeSite, line: str) -> None:
    entry = ['msgctxt "menu"', 'msgid "page"', 'msgid_plural "pages"', 'msgstr[0] "หน้า"']
    at = entry.index(line)
    entry.insert(at + 1, line)
    root = make_site({PO: catalogue(HEADER) + "\n" + "\n".join(entry) + "\n"})
    problems = Collector()
    load_translations(load_config(root), problems)
    [problem] = problems.errors
    assert (problem.path, problem.line) == (PO, 12 + at)  # the second of the two
    assert problem.message == f"broken catalogue: a second {line.split()[0]} in one entry"


def test_a_translation_is_text_never_markup(make_site: MakeSite, tmp_path: Path) -> None:
    """A catalogue's msgstr went into the page as HTML (Jinja's newstyle gettext marks it safe)."""
    hostile = '<script>alert(1)</script><a href=\\"javascript:alert(2)\\">x</a> & more'
    catalogue = "tests/sites/basic/locales/my/LC_MESSAGES/messages.po"
    text = (REPO / catalogue).read_text(encoding="utf-8")
    text = text.replace('msgstr "ဤစာမျက်နှာကို မဘာသာပြန်ရသေးပါ။"', f'msgstr "{hostile}"')
    config = (REPO / "tests/sites/basic/site.yaml").read_text(encoding="utf-8")
    assert config.count("missing: skip") == 1  # my: made to fall back, so that its pages show the notice
    config = config.replace("missing: skip", "missing: fallback")
    root = make_site({"locales/my/LC_MESSAGES/messages.po": text, "site.yaml": config})
    out = tmp_path / "out"
    build_site(root, out)
    pages = [path.read_text(encoding="utf-8") for path in (out / "my").rglob("*.html")]
    notices = [page for page in pages if "alert(1)" in page]
    assert notices, "the fallback notice is on the my pages"
    for page in notices:
        assert "<script>alert(1)" not in page and 'href="javascript:' not in page
        assert (
            "&lt;script&gt;alert(1)&lt;/script&gt;&lt;a href=&#34;javascript:alert(2)&#34;&gt;x&lt;/a&gt; &amp; more"
            in page
        )

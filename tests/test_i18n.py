"""Dates in the Buddhist era, and catalogues compiled in memory."""

from __future__ import annotations

import datetime

import pytest

from sitegen.config import Language, load_config
from sitegen.errors import Collector
from sitegen.i18n import catalogue_status, era_pattern, era_year, format_page_date, load_translations

from .conftest import MakeSite

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

"""The model: translations linked by path, fallbacks, switchers and duplicate URLs."""

from __future__ import annotations

import pytest

from sitegen.errors import BuildFailed
from sitegen.pipeline import load_site

from .conftest import MakeSite


def test_pages_are_linked_by_relative_path(make_site: MakeSite) -> None:
    site = load_site(make_site()).site
    about = site.get("about", "th")
    assert about is not None
    assert [p.lang for p in site.translations(about)] == ["th", "en"]
    assert about.url == "/th/about/" and about.output == "th/about/index.html"
    report = site.get("news/report", "th")
    assert report is not None and report.url == "/th/news/report/"


def test_fallback_copies_are_never_alternates(make_site: MakeSite) -> None:
    site = load_site(make_site()).site
    fallback = site.get("news/report", "en")
    assert fallback is not None and fallback.fallback and fallback.text_lang == "th"
    assert [p.lang for p in site.alternates(fallback)] == ["th"]
    assert site.get("news/report", "my") is None, "'my' is set to skip missing pages"


def test_menus_follow_site_yaml_in_each_language(make_site: MakeSite) -> None:
    site = load_site(make_site()).site
    assert [(m.title, m.url, m.text_lang) for m in site.menus["en"]] == [
        ("About us", "/en/about/", "en"),
        ("รายงาน", "/en/news/report/", "th"),
    ]
    assert site.menus["my"] == ()


def test_two_pages_with_one_url_are_refused(make_site: MakeSite) -> None:
    root = make_site({"content/th/about/index.md": "---\ntitle: ซ้ำ\n---\n"})
    with pytest.raises(BuildFailed) as info:
        load_site(root)
    assert [p.format() for p in info.value.problems] == [
        "content/th/about.md:1: error: this page and content/th/about/index.md both produce the URL /th/about/ (rename or remove one of them)"
    ]


def test_menu_entry_must_be_a_page(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/th/about.md": None,
            "content/en/about.md": None,
            "content/th/index.md": "---\ntitle: x\n---\n",
            "content/en/index.md": "---\ntitle: x\n---\n",
        }
    )
    with pytest.raises(BuildFailed) as info:
        load_site(root)
    assert [p.format() for p in info.value.problems] == [
        "site.yaml:23: error: menu entry 'about' is not a page (create content/th/about.md or remove it from the list)"
    ]

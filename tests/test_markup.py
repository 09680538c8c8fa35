"""Markdown: links to .md files become page URLs; Thai heading ids stay whole."""

from __future__ import annotations

from sitegen.markup import Converter, slugify, target_key


def resolve(key: str) -> str | None:
    return {"index": "/th/", "about": "/th/about/", "news/report": "/th/news/report/"}.get(key)


def test_thai_heading_ids_keep_vowels_and_tone_marks() -> None:
    # NFKC would turn the SARA AM in น้ำ into two characters; the id must keep the text as written.
    assert slugify("น้ำท่วม ปี 2554") == "น้ำท่วม-ปี-2554"
    assert slugify("ประวัติความเป็นมา") == "ประวัติความเป็นมา"
    assert slugify("Vision & Mission!") == "vision-mission"
    assert slugify("  ยุทธศาสตร์  ที่ ๑ ") == "ยุทธศาสตร์-ที่-๑"


def test_relative_md_links_become_urls_with_fragments() -> None:
    html, links, ids = Converter().convert(
        "## สรุป\n\n[a](about.md#x) [b](news/report.md) [c](https://example.org/a.md)", "", resolve
    )
    assert '<a href="/th/about/#x">a</a>' in html
    assert '<a href="/th/news/report/">b</a>' in html
    assert '<a href="https://example.org/a.md">c</a>' in html
    assert [(link.target_key, link.fragment) for link in links.links] == [("about", "x"), ("news/report", "")]
    assert ids == ["สรุป"]


def test_links_from_a_subfolder_resolve_relative_to_it() -> None:
    assert target_key("../index.md", "news") == "index"
    assert target_key("report.md", "news") == "news/report"
    assert target_key("../about.md", "news") == "about"
    assert target_key("sub/index.md", "") == "sub"


def test_unknown_target_is_left_as_written_and_reported() -> None:
    html, links, _ = Converter().convert("[x](missing.md)", "", resolve)
    assert '<a href="missing.md">x</a>' in html
    assert links.links[0].target_key == "missing"


def test_converter_is_reset_between_pages() -> None:
    converter = Converter()
    converter.convert("## One\n\n[a](about.md)\n\n![](pic.png)", "", resolve)
    _html, links, ids = converter.convert("## One", "", resolve)
    assert ids == ["one"], "the second page's ids do not continue the first page's (one_1)"
    assert links.links == [] and links.images == []

"""Markdown: links to .md files become page URLs; Thai heading ids stay whole; the speed patches change nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import lxml.html
import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import TocTreeprocessor
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.treeprocessors import InlineProcessor

from sitegen.errors import BuildFailed, Problem
from sitegen.markup import (
    _STOCK_NEEDLES,
    EXTENSIONS,
    MAX_NESTING,
    UNSAFE_ELEMENTS,
    URL_ATTRIBUTES,
    Converter,
    LinkContext,
    NestingTooDeep,
    Unsafe,
    _HeadingIds,
    _LinkExtension,
    _OnlyWith,
    _QuickInlineProcessor,
    place,
    slugify,
    strip_unsafe,
    target_key,
    unsafe_scheme,
)
from sitegen.pipeline import build_site

from .conftest import MakeSite


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


def test_a_backslash_escape_in_a_link_is_the_character_it_escapes() -> None:
    """[x](news/report\\.md) is a link to news/report.md, not to Python-Markdown's placeholder for "."."""
    html, links, _ = Converter().convert("[a](about\\.md) and [b](news/report\\.md)", "", resolve)
    assert '<a href="/th/about/">a</a>' in html and '<a href="/th/news/report/">b</a>' in html
    assert [link.href for link in links.links] == ["about.md", "news/report.md"]
    assert not any("\x02" in link.href or "\x03" in link.href for link in links.links)


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


# --- raw HTML that content may not carry, and nesting too deep to parse -------------------------

UNSAFE_PAGE = """\
Intro line.

<script>steal()</script>

`<script>` in a code span is shown, not run, and so is this:

```
<iframe src="https://evil.example/"></iframe>
```

[donate](javascript:alert(1)) and <img src="logo.png" alt="x" onerror="steal()">

## Heading {: onclick="steal()" }

<SCRIPT src="https://evil.example/x.js"></SCRIPT>

<meta http-equiv="refresh" content="0; url=https://evil.example/">
<iframe src="https://evil.example/"></iframe>
<object data="x.swf"></object><embed src="x.swf">
<a href=" VBScript:msgbox(1)">v</a> <a href="data:text/html,<b>x</b>">d</a> <a href="java&#x09;script:x()">t</a>

[again][ref] and [twice][ref]

[ref]: javascript:alert(2)
"""

UNSAFE_FOUND = [
    (3, "<script> element"),
    (11, "'javascript:' URL in 'href'"),
    (11, "event-handler attribute 'onerror'"),
    (13, "event-handler attribute 'onclick'"),
    (15, "<script> element"),  # the second one, further down, at its own line
    (17, "<meta http-equiv> element (a redirect or a page header)"),
    (18, "<iframe> element"),
    (19, "<object> element"),
    (19, "<embed> element"),
    (20, "'vbscript:' URL in 'href'"),
    (20, "'data:' URL in 'href'"),
    (20, "'javascript:' URL in 'href'"),  # written with an entity: placed at its attribute
    (24, "'javascript:' URL in 'href'"),  # a reference link: where the URL is written
    (24, "'javascript:' URL in 'href'"),
]


def test_unsafe_raw_html_is_found_at_its_line() -> None:
    _, context, _ = Converter().convert(UNSAFE_PAGE, "", resolve)
    assert [(u.line + 1, u.what) for u in context.unsafe] == UNSAFE_FOUND


def test_unsafe_raw_html_is_removed_and_the_rest_kept() -> None:
    html, _, _ = Converter().convert(UNSAFE_PAGE, "", resolve)
    lowered = html.lower()
    for gone in ("<script", "steal()", "javascript:", "vbscript:", "data:", "onerror", "onclick", "<meta", "<embed"):
        assert gone not in lowered, gone
    assert "<iframe" not in lowered.replace("&lt;iframe", "")  # only the one in the code block, as text
    assert "&lt;iframe" in html
    assert '<img src="logo.png" alt="x">' in html
    assert "<code>&lt;script&gt;</code>" in html
    assert ">donate</a>" in html and ">again</a>" in html
    assert '<h2 id="heading">Heading</h2>' in html


def test_safe_raw_html_is_left_byte_for_byte() -> None:
    text = 'A <abbr title="Labour Rights Promotion Network">LPN</abbr> page &amp; <b class=x>data</b>: on time.\n'
    html, context, _ = Converter().convert(text, "", resolve)
    assert context.unsafe == []
    assert html == f"<p>{text.strip()}</p>"


def test_leftover_script_tags_are_made_text() -> None:
    # Whatever the parser reads differently from a browser: no literal unsafe tag survives.
    html, context, _ = Converter().convert('<div title="<script>">x</div>\n\n<scr<script>ipt>y\n', "", resolve)
    assert "<script" not in html.lower()
    assert context.unsafe


def test_a_list_nested_beyond_reason_is_refused_at_its_line() -> None:
    text = "Intro\n\n" + "".join("    " * depth + "- item\n" for depth in range(300))
    with pytest.raises(NestingTooDeep) as caught:
        Converter().convert(text, "", resolve)
    assert caught.value.line == 2 + MAX_NESTING  # the first line deeper than the limit
    one_line = "Intro\n\n" + "- " * 2000 + "x\n"
    with pytest.raises(NestingTooDeep) as caught:
        Converter().convert(one_line, "", resolve)
    assert caught.value.line == 2


def test_ordinary_nesting_converts() -> None:
    text = "".join("    " * depth + "- item\n" for depth in range(20)) + "\n" + "> " * 20 + "quote\n"
    html, _, _ = Converter().convert(text, "", resolve)
    assert html.count("<ul>") == 20


# --- the same, in a build -------------------------------------------------------------------------

ABOUT = "content/en/about.md"
ABOUT_UNSAFE = """\
---
title: About us
---

## History

<script>steal()</script>

Founded in 2004. <img src="x.png" alt="logo" onerror="steal()">

<script>steal()</script>
"""
ABOUT_EXPECTED = [
    (ABOUT, 7, "<script> element"),
    (ABOUT, 9, "event-handler attribute 'onerror'"),
    (ABOUT, 11, "<script> element"),  # the second, at its own line
]


def raw_html_problems(problems: Sequence[Problem]) -> list[tuple[str, int, str]]:
    found = [(p.path, p.line, p.message.removesuffix(" in the page")) for p in problems if p.kind == "raw-html"]
    return sorted(found)


def test_a_plain_build_warns_at_each_line_and_publishes_none_of_it(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({ABOUT: ABOUT_UNSAFE})
    out = tmp_path / "out"
    built = build_site(root, out)
    assert raw_html_problems(built.problems) == ABOUT_EXPECTED
    assert {p.level for p in built.problems if p.kind == "raw-html"} == {"warning"}
    page = (out / "en/about/index.html").read_text(encoding="utf-8")
    assert "steal()" not in page and "<script>" not in page
    assert '<img src="x.png" alt="logo">' in page
    # A rebuild that does not render the page again still says so (the warning is in the cache).
    again = build_site(root, out)
    assert again.rendered == 0
    assert raw_html_problems(again.problems) == ABOUT_EXPECTED


def test_a_strict_build_refuses_it(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site({ABOUT: ABOUT_UNSAFE})
    with pytest.raises(BuildFailed) as caught:
        build_site(root, tmp_path / "out", strict=True)
    assert raw_html_problems(caught.value.problems) == ABOUT_EXPECTED
    assert {p.level for p in caught.value.problems if p.kind == "raw-html"} == {"error"}
    assert not (tmp_path / "out").exists()


def test_a_page_shown_in_place_of_a_missing_translation_is_reported_once(make_site: MakeSite, tmp_path: Path) -> None:
    # Without content/en/about.md, /en/about/ shows the Thai text, which is reported once, as Thai.
    thai = "content/th/about.md"
    root = make_site({thai: ABOUT_UNSAFE, ABOUT: None})
    out = tmp_path / "out"
    built = build_site(root, out)
    assert raw_html_problems(built.problems) == [(thai, line, what) for _, line, what in ABOUT_EXPECTED]
    assert "steal()" not in (out / "en/about/index.html").read_text(encoding="utf-8")


def test_a_deeply_nested_list_is_one_error_naming_file_and_line(make_site: MakeSite, tmp_path: Path) -> None:
    nested = "".join("    " * depth + "- item\n" for depth in range(400))
    root = make_site({ABOUT: "---\ntitle: About us\n---\n\nIntro\n\n" + nested})
    with pytest.raises(BuildFailed) as caught:
        build_site(root, tmp_path / "out")
    [problem] = caught.value.problems
    assert (problem.path, problem.line, problem.level) == (ABOUT, 7 + MAX_NESTING, "error")
    assert "nested more than 100 levels" in problem.message
    assert "indent" in problem.hint


@pytest.mark.parametrize(
    "smuggled",
    [
        "<!--><img src=x onerror=steal()>-->",  # a browser ends the comment at "<!-->"
        "<!-- x --!><img src=x onerror=steal()> -->",  # ... or at "--!>"
        "<![CDATA[ x > <img src=x onerror=steal()> ]]>",  # ... or a bogus comment at the first ">"
        '<noscript><p title="</noscript><img src=x onerror=steal()>"></noscript>',  # noscript is text
        '<div><img src="x"onerror=steal()></div>',  # no space before the attribute
        '<svg><animate attributeName="href" values="x;javascript:steal()"/></svg>',  # a list of URLs
        '<script\nsrc="steal()">',  # a newline after the name
        "<div><<script></script>img src=x onerror=steal()></div>",  # a removal joins "<" and "img ..."
        "<style></style x><img src=x onerror=steal()></style>",  # a browser ends the style sooner
        """<div><img src="x" src="x'><img src='x><b onerror="steal()" src='x" onerror="steal()"></div>""",
        '<div></p title=">"><img src=x onerror=steal()>"></div>',  # an end tag with a quoted ">"
        '<p><img title=">" onerror="steal()"',  # left open: it would take in the template's markup
        '<p><img src="steal()"onerror',  # the same, with nothing else suspect in it
    ],
)
def test_markup_a_browser_reads_differently_is_caught(smuggled: str) -> None:
    html, context, _ = Converter().convert(f"Text.\n\n{smuggled}\n", "", resolve)
    assert "steal()" not in html
    assert context.unsafe and {u.line for u in context.unsafe} == {2}


def test_a_kept_tag_is_never_opened_up() -> None:
    # Escaping the "<" of a <meta> the scan kept would make its attribute's value markup.
    html, _, _ = Converter().convert("""<meta src='x"><img src="javascript:steal()"><script src="x'>\n""", "", resolve)
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    assert [element.tag for element in tree.iter()] == ["div", "p", "meta"]


def test_a_plain_comment_is_left_alone() -> None:
    html, context, _ = Converter().convert("<!-- a note for editors -->\n\nText with javascript: in it.\n", "", resolve)
    assert context.unsafe == []
    assert html.startswith("<!-- a note for editors -->\n")


# Pieces of markup that smuggling tricks are made of, joined at random.
PIECES = [
    *["<", ">", "/", '"', "'", "=", " ", "\n", "\n\n", "\t", "<!--", "-->", "--!>", "<!-->", "<![CDATA[", "]]>", "<?"],
    *["script", "SCRIPT", "img", "a", "svg", "noscript", "textarea", "title", "style", "iframe", "p", "div", "xmp"],
    *["src", "href", "xlink:href", "onerror", "ONLOAD", "title", "values", "javascript:", "java&#x09;script:"],
    *["&#106;avascript:", "data:text/html,", "vbscript:", "alert(1)", "x", "`", "```", "    ", "- ", "> ", "[x](", ")"],
]


NAMES = ["script", "img", "a", "svg", "noscript", "iframe", "p", "div", "meta", "embed", "animate", "style", "title"]
ATTRIBUTES = ["src", "href", "xlink:href", "onerror", "ONLOAD", "title", "values", "http-equiv", "x"]
VALUES = [
    "x",
    "alert(1)",
    "javascript:alert(1)",
    " JaVa&#x09;script:x",
    "data:text/html,x",
    "refresh",
    "</noscript><img>",
]
attribute = st.builds(
    "{}{}={}{}{}".format,
    st.sampled_from([" ", "/", "\n", '"']),
    st.sampled_from(ATTRIBUTES),
    st.sampled_from(['"', "'", ""]),
    st.sampled_from(VALUES),
    st.sampled_from(['"', "'", ""]),
)
tag = st.builds(
    "<{}{}{}".format,
    st.sampled_from(NAMES),
    st.lists(attribute, max_size=3).map("".join),
    st.sampled_from([">", "/>", "", " >"]),
)
ONE_CONVERTER = Converter()  # made once: a converter takes longer to make than a page to convert
markup = st.lists(st.one_of(tag, tag, st.sampled_from(PIECES)), min_size=1, max_size=16).map("".join)


@settings(max_examples=400, deadline=None)
@given(markup)
def test_no_markup_survives_that_another_parser_finds_unsafe(text: str) -> None:
    html, _, _ = ONE_CONVERTER.convert(text, "", resolve)
    # As on the page: the template's markup follows (a tag left open would take it in).
    tree = lxml.html.fragment_fromstring(f'<div class="prose">\n{html}\n  </div>\n', create_parent="main")
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag.lower() not in UNSAFE_ELEMENTS, (text, html)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (text, html)
            assert not (name.lower() in URL_ATTRIBUTES and unsafe_scheme(value)), (text, html)


def test_the_preview_names_the_file_of_a_list_nested_too_deep(make_site: MakeSite, tmp_path: Path) -> None:
    from sitegen.serve import Preview

    nested = "".join("    " * depth + "- item\n" for depth in range(300))
    root = make_site({ABOUT: "---\ntitle: About us\n---\n\n" + nested})
    preview = Preview(root, tmp_path / "preview", log=lambda text: None)
    assert preview.rebuild() is False
    assert [(p.path, p.line) for p in preview.problems] == [(ABOUT, 5 + MAX_NESTING)]


# --- the speed patches: Python-Markdown's output, unchanged ---------------------------------------

SAMPLES = (
    "plain words only, and Thai: แรงงานข้ามชาติ",
    "*em* **strong** ***both*** _em_ __strong__ a * b _ c",
    "`code` ``co`de`` \\*escaped\\* \\\\",
    "[link](about.md) [ref][r] [r] ![alt](i.png) ![](no-alt.png) ![img][r]\n\n[r]: https://example.org",
    "<https://example.org> <ftp://example.org/f> <mail@example.org> <b>html</b> <!-- comment --> &amp; &#169; & <",
    "line  \nbreak, footnote[^1]\n\n[^1]: the note",
    "*[ABBR]: an abbreviation\n\nABBR in text",
    "## Heading {#custom}\n\n## ประวัติ\n\n## ประวัติ",
    "| a | b |\n|---|---|\n| *1* | `2` |",
    "term\n:   definition with [a link](x.md#part)",
    "- one\n- *two*\n\n1. three\n2. four",
    "```\n*not em*\n```",
    '<div markdown="1">*inside*</div>',
    "# One\n\n## Two *em* `code`\n\n## Two *em* `code`\n\n### two-em-code_1",
)


MARKUP = st.sampled_from(
    (
        *("*", "**", "_", "`", "\\", "[", "]", "(", ")", "!", "<", ">", "&", "#", ";", "  \n", "\n", "\n\n", "|", ":"),
        *("[^1]", "[a](b.md)", "<b>", "&amp;", "x@y.org", "http://e.org", "- ", "1. ", "## ", "    ", "{#id}"),
    )
)
WORDS = st.sampled_from(["word", "คำ", "แรงงาน", " ", "a1", "é", "ABBR"])


def stock_markdown(context: LinkContext) -> markdown.Markdown:
    """Python-Markdown with the stock inline processor, and toc giving the headings their ids."""
    return markdown.Markdown(
        extensions=[*(extension() for extension in EXTENSIONS), "toc", _LinkExtension(context)],
        extension_configs={"toc": {"slugify": slugify, "permalink": False}},
        output_format="html",
    )


def stock_html(text: str) -> str:
    context = LinkContext("news", lambda key: f"/th/{key}/")
    return stock_markdown(context).convert(text)


def test_the_quick_processors_take_the_stock_ones_places() -> None:
    ours = [p.processor if isinstance(p, _OnlyWith) else p for p in Converter().md.treeprocessors]
    stock = list(stock_markdown(LinkContext()).treeprocessors)
    replaced = {InlineProcessor: _QuickInlineProcessor, TocTreeprocessor: _HeadingIds}
    assert [type(p) for p in ours] == [replaced.get(type(p), type(p)) for p in stock], "same processors, same order"


def test_every_stock_inline_pattern_has_its_needles() -> None:
    """A pattern missing from the table still works (it is searched for), but slowly: a new
    Python-Markdown release that changes one shows up here."""
    patterns = list(Converter().md.inlinePatterns)
    assert [p.getCompiledRegExp().pattern in _STOCK_NEEDLES for p in patterns] == [True] * len(patterns)


def without(needles: tuple[str, ...], text: str) -> str:
    while any(needle in text for needle in needles):  # a removal can bring a needle's halves together
        for needle in needles:
            text = text.replace(needle, "")
    return text


NEEDLE_PARTS = sorted({char for needles in _STOCK_NEEDLES.values() for needle in needles for char in needle})


@pytest.mark.parametrize("pattern", sorted(_STOCK_NEEDLES))
@settings(max_examples=100, deadline=None)
@given(text=st.lists(st.one_of(MARKUP, WORDS, st.sampled_from(NEEDLE_PARTS), st.text(max_size=3))).map("".join))
def test_no_pattern_matches_a_text_without_its_needles(pattern: str, text: str) -> None:
    # What makes the quick inline processor's shortcut exact: without a needle, no match.
    assert re.search(pattern, without(_STOCK_NEEDLES[pattern], text), re.DOTALL) is None


@pytest.mark.parametrize("pattern", sorted(_STOCK_NEEDLES))
def test_no_pattern_matches_the_samples_without_its_needles(pattern: str) -> None:
    # Every sample together has text that each pattern matches; without the needles, none.
    text = "\n".join(SAMPLES)
    assert re.search(pattern, text, re.DOTALL)
    assert re.search(pattern, without(_STOCK_NEEDLES[pattern], text), re.DOTALL) is None


def test_a_pattern_the_table_does_not_know_is_searched_for() -> None:
    converter = Converter()
    converter.md.inlinePatterns.register(SimpleTagInlineProcessor(r"()\+\+(.+?)\+\+", "ins"), "ins", 65)
    converter.md.treeprocessors.register(_QuickInlineProcessor(converter.md), "inline", 20)  # sees the new one
    html, _, _ = converter.convert("a ++b++ c", "", lambda key: None)
    assert html == "<p>a <ins>b</ins> c</p>"


def test_converter_output_equals_stock_markdown() -> None:
    converter = Converter()
    for text in SAMPLES:
        html, _, _ = converter.convert(text, "news", lambda key: f"/th/{key}/")
        assert html == stock_html(text), text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MARKUP, WORDS), max_size=40).map("".join))
def test_converter_output_equals_stock_markdown_for_any_text(text: str) -> None:
    html, _, _ = Converter().convert(text, "news", lambda key: f"/th/{key}/")
    assert html == stock_html(text)


@pytest.mark.parametrize("before", ["", "İstanbul ǅ ß ﬁ\n", "ภาษาไทย\n"])
def test_unsafe_html_is_placed_whatever_the_letters_before_it(before: str) -> None:
    # Case is ignored; a letter whose lower case is longer ("İ") must not move what follows.
    text = f"{before}<SCRIPT>\n`<script>` in code\n<script>\n"
    first = before.count("\n")
    found = [
        Unsafe("a", ("<script",)),
        Unsafe("b", ("<script",)),
        Unsafe("c", ("<nowhere",)),
        Unsafe("d", ("<script",)),
    ]
    assert [unsafe.line for unsafe in place(found, text)] == [first, first + 2, 0, first + 2]


def test_an_empty_page_has_no_headings_of_the_page_before() -> None:
    # Python-Markdown returns at once for a blank text, without running the tree processors.
    converter = Converter()
    _, _, ids = converter.convert("## ประวัติ\n\n[a](about.md) ![](x.png)\n", "", resolve)
    assert ids == ["ประวัติ"]
    for blank in ("", "\n\n", "   \n"):
        html, context, ids = converter.convert(blank, "", resolve)
        assert (html, ids, context.links, context.images) == ("", [], [], [])


# --- where each link is written: the line comes from the parse, not from a search of the text -----


def written(text: str) -> list[tuple[str, int]]:
    """Each link's and image's URL, with its line (from 1) in ``text``, in the order of the page."""
    _, context, _ = Converter().convert(text, "", resolve)
    found = [(link.href, link.line) for link in context.links] + [(image.src, image.line) for image in context.images]
    return sorted(((url, line + 1) for url, line in found), key=lambda item: item[1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The URL written before the link, where it is no link: in prose, in code, in a comment.
        ("See (gone.md) in prose.\n\n[a](gone.md)\n", [("gone.md", 3)]),
        ("    [a](gone.md) indented code\n\nText.\n\n[b](gone.md)\n", [("gone.md", 5)]),
        ("<!-- [a](gone.md) -->\n\n[b](gone.md)\n", [("gone.md", 3)]),
        ("Text <!-- [a](gone.md) --> and\n[b](gone.md)\n", [("gone.md", 2)]),
        ("```\n[a](gone.md)\n\n\n```\n\n\n[b](gone.md)\n", [("gone.md", 8)]),  # blank lines in the fence
        ("`[a](gone.md)`\n\n[b](gone.md)\n", [("gone.md", 3)]),
        # A reference link is where it is used, not where its URL is defined.
        ("[use][r]\n\n[r]: gone.md\n", [("gone.md", 1)]),
        ("[r]: gone.md\n\nText.\n\nFirst [use][r], then\n[r] again.\n", [("gone.md", 5), ("gone.md", 6)]),
        # Images, and the same target twice on one line and on two.
        ("![](x.png) ![](x.png)\n\n![](x.png)\n", [("x.png", 1), ("x.png", 1), ("x.png", 3)]),
        # A "[" after "]" is not marked (it may be a reference's name): the link is counted from the mark before.
        ("See [note]\n[b](gone.md)\n", [("gone.md", 2)]),
        # An escaped backslash escapes no "[" after it; "<" is not the start of a tag.
        ("a\n\nb \\\\[b](b.md)\n", [("b.md", 3)]),
        ("a\n\n<[b](b.md)\n\n\\\\![](x.png)\n", [("b.md", 3), ("x.png", 5)]),
        # After "]" and a line break, not marked: counted from the link before, line breaks included.
        ("intro\n\nSee the [Act]\n[form](dead.md)\n\n[Act]: act.md\n", [("act.md", 3), ("dead.md", 4)]),
        # "[name]:" in the middle of a sentence is no definition: the link is marked.
        ("a\n\nRead [the Act]: it first.\n\n[the Act]: act.md\n", [("act.md", 3)]),
    ],
)
def test_each_link_is_at_the_line_the_parser_found_it_on(text: str, expected: list[tuple[str, int]]) -> None:
    assert written(text) == expected


NESTED = """\
<!-- Old links, no longer shown: [a](gone.md) [b](gone.md) [c](gone.md) [d](gone.md) [e](gone.md) -->

- an item
- an item with a [link](gone.md)

| name | page |
|------|------|
| one  | [link](gone.md) |

> a quote
> with a [link](gone.md)

## A heading with a [link](gone.md)

1. a list

    > a quote in it, with
    > a [link](gone.md)
"""


def test_a_link_in_a_list_table_quote_or_heading_is_at_its_own_line() -> None:
    assert written(NESTED) == [("gone.md", 4), ("gone.md", 8), ("gone.md", 11), ("gone.md", 13), ("gone.md", 18)]


@pytest.mark.parametrize(
    "text",
    [
        "[a](x.md)\n\n    [b](y.md) code\n\n```\n[c](z.md)\n```\n\n<!-- [d](w.md) -->\n\n`[e](v.md)`\n",
        "## [Heading](x.md) [two][r]\n\n| [a](x.md) | b |\n|---|---|\n| `[c]` | [d] [r] |\n\n[r]: y.md\n",
        '<div title="[x](y.md)">[z](w.md)</div>\n\n<![CDATA[ [x] ]]>\n\n\\[not](a.md) \\\\[link](b.md)\n',
        '[a] [r] [b][r] ![c][r] [d][] [[e](x.md)] [f](x.md?a[1]=2 "t [g]"){: title="[h]" }\n\n[r]: y.md\n',
        "A page's own STX \x02\ue001[a](x.md) and private-use digits \ue001\ue002 stay what they were.\n",
        "Write to <a[b]@c.de> or <[x]@y.org>, see <http://a.org/[b]> and <[c](d.md)>.\n",
        "An address no URL parser reads: [x](http://[zz) <ahttp://]]> <http://[x>\n",
        "Nine backslashes escape: " + "\\" * 9 + "[a](b.md), ten do not: " + "\\" * 10 + "[c](d.md)\n",
        "> [q]: quoted.md\n\n- [l]: listed.md\n\n1. [n]: numbered.md\n\n[q] [l] [n]\n",
    ],
)
def test_what_marks_a_link_never_reaches_the_page(text: str) -> None:
    html, _, ids = Converter().convert(text, "", resolve)
    assert html == stock_html_here(text)
    assert "&#2;" not in html
    assert "\x02" not in html and "\x03" not in html and all("\x02" not in i and "\x03" not in i for i in ids)


BRACKETS = st.sampled_from(
    (
        *("[", "]", "![", "](", "]:", "]: ", "(", ")", "\\", "\\\\", "`", "<!--", "-->", "<![CDATA[", "]]>", "<!"),
        *("\n", "\n\n", "    ", "> ", "- ", "1. ", "## ", "|", "|---|\n", '{: title="', '" }', "x.md", "r", " ", "a"),
        *("<", ">", "@", "c.de", "http://", "<a", "&"),
    )
)


@settings(max_examples=400, deadline=None)
@given(st.lists(BRACKETS, max_size=30).map("".join))
def test_marks_change_nothing_whatever_the_brackets(text: str) -> None:
    html, _, ids = ONE_CONVERTER.convert(text, "", lambda key: None)
    assert html == strip_unsafe(stock_html_here(text))[0]
    assert not any(mark in part for part in (html, *ids) for mark in ("\x02", "\x03", "&#2;", "\ue000", "&#57344;"))


def stock_html_here(text: str) -> str:
    """The same page through plain Python-Markdown: nothing of the link lines may change it."""
    return markdown.Markdown(
        extensions=[*(extension() for extension in EXTENSIONS), "toc"],
        extension_configs={"toc": {"slugify": slugify, "permalink": False}},
        output_format="html",
    ).convert(text)


def test_a_page_of_brackets_beyond_the_limit_is_not_marked() -> None:
    """Marks lengthen the text that Python-Markdown's quadratic bracket matching reads: a page of
    20,000 brackets took 110 s instead of 39. Past the limit its links are placed at its first line."""
    from sitegen.markup import MARKED_BRACKETS

    page = "[x] " * MARKED_BRACKETS + "\n\n[a](gone.md)\n"
    assert written(page) == [("gone.md", 1)]
    assert written("[x] " * (MARKED_BRACKETS - 1) + "\n\n[a](gone.md)\n") == [("gone.md", 3)]


@pytest.mark.parametrize(
    "text", ["<div>\n<![r]\n", "<div>\n<![r]>x\n", "<p>a <![if x]> b</p>\n", "<p>a <![r]<script>x</script>> b</p>\n"]
)
def test_a_marked_section_the_parser_does_not_know_is_no_traceback(text: str) -> None:
    """``<![r]``: Python's HTML parser raised AssertionError, and no page of the site could be built."""
    html, _, _ = Converter().convert(text, "", resolve)
    assert "<script" not in html

"""What the speed work must not change: Markdown output, the build's results, its layout on disk."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import TocTreeprocessor
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.treeprocessors import InlineProcessor

from sitegen.markup import (
    _STOCK_NEEDLES,
    EXTENSIONS,
    Converter,
    LinkContext,
    _HeadingIds,
    _LinkExtension,
    _OnlyWith,
    _QuickInlineProcessor,
    slugify,
)
from sitegen.pipeline import build_site

from .conftest import SITES, tree_digest

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


def test_built_outputs_are_the_files_of_the_output(tmp_path: Path) -> None:
    built = build_site(SITES / "basic", tmp_path / "out", jobs=1)
    assert list(built.outputs) == sorted(tree_digest(tmp_path / "out"))
    assert {"index.html", "404.html", "robots.txt", "sitemap.xml", "th/index.html"} <= set(built.outputs)

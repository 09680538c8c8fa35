"""What the speed work must not change: Markdown output, the build's results, its layout on disk."""

from __future__ import annotations

from pathlib import Path

import markdown
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.extensions.toc import TocTreeprocessor
from markdown.treeprocessors import InlineProcessor

from sitegen import incremental, render
from sitegen.markup import (
    EXTENSIONS,
    Converter,
    LinkContext,
    _HeadingIds,
    _LinkExtension,
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
    "<https://example.org> <mail@example.org> <b>html</b> <!-- comment --> &amp; &#169; & <",
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


def stock_markdown(context: LinkContext) -> markdown.Markdown:
    """Python-Markdown with the stock inline processor, and toc giving the headings their ids."""
    return markdown.Markdown(
        extensions=[*EXTENSIONS, "toc", _LinkExtension(context)],
        extension_configs={"toc": {"slugify": slugify, "permalink": False}},
        output_format="html",
    )


def stock_html(text: str) -> str:
    context = LinkContext("news", lambda key: f"/th/{key}/")
    return stock_markdown(context).convert(text)


def test_the_quick_inline_processor_takes_the_stock_ones_place() -> None:
    ours = list(Converter().md.treeprocessors)
    stock = list(stock_markdown(LinkContext()).treeprocessors)
    replaced = {InlineProcessor: _QuickInlineProcessor, TocTreeprocessor: _HeadingIds}
    assert [type(p) for p in ours] == [replaced.get(type(p), type(p)) for p in stock], "same processors, same order"


def test_converter_output_equals_stock_markdown() -> None:
    converter = Converter()
    for text in SAMPLES:
        html, _, _ = converter.convert(text, "news", lambda key: f"/th/{key}/")
        assert html == stock_html(text), text


MARKUP = st.sampled_from(
    (
        *("*", "**", "_", "`", "\\", "[", "]", "(", ")", "!", "<", ">", "&", "#", ";", "  \n", "\n", "\n\n", "|", ":"),
        *("[^1]", "[a](b.md)", "<b>", "&amp;", "x@y.org", "http://e.org", "- ", "1. ", "## ", "    ", "{#id}"),
    )
)
WORDS = st.sampled_from(["word", "คำ", "แรงงาน", " ", "a1", "é", "ABBR"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(MARKUP, WORDS), max_size=40).map("".join))
def test_converter_output_equals_stock_markdown_for_any_text(text: str) -> None:
    html, _, _ = Converter().convert(text, "news", lambda key: f"/th/{key}/")
    assert html == stock_html(text)


def test_incremental_names_the_templates_folder_as_render_does() -> None:
    assert incremental.TEMPLATES_DIR == render.TEMPLATES_DIR


def test_built_files_reads_the_output(tmp_path: Path) -> None:
    built = build_site(SITES / "basic", tmp_path / "out", jobs=1)
    assert sorted(built.files) == sorted(tree_digest(tmp_path / "out"))
    assert built.files["robots.txt"] == (tmp_path / "out" / "robots.txt").read_bytes()
    assert "nothing.html" not in built.files

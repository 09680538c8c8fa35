"""Markdown → HTML: links to ``.md`` files become page URLs; heading ids keep Thai whole."""

from __future__ import annotations

import html
import posixpath
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension, toc
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import AtomicString

from .content import page_key


def slugify(value: str, separator: str = "-") -> str:
    """A heading id: letters, combining marks and digits of any script kept, NFC, no NFKC."""
    value = unicodedata.normalize("NFC", value).strip().lower()
    out: list[str] = []
    for char in value:
        category = unicodedata.category(char)
        if category[0] in "LMN" or char in "_-":
            out.append(char)
        elif char.isspace() and out and out[-1] != separator:
            out.append(separator)
    return "".join(out).strip(separator)


@dataclass(frozen=True)
class Link:
    """An internal link found in a page's Markdown."""

    href: str  # as written
    target_key: str  # the page it points to
    fragment: str


@dataclass
class LinkContext:
    """What the link rewriter needs to know about the page being converted."""

    source_dir: str = ""
    resolve: Callable[[str], str | None] = lambda key: None
    links: list[Link] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # src of images without alt text


def target_key(href_path: str, source_dir: str) -> str:
    """The page key a relative ``.md`` path points to, from a page in folder ``source_dir``."""
    return page_key(posixpath.normpath(posixpath.join(source_dir, unquote(href_path))))


class _LinkRewriter(Treeprocessor):
    def __init__(self, md: markdown.Markdown, context: LinkContext) -> None:
        super().__init__(md)
        self.context = context

    def run(self, root: Element) -> None:
        for element in root.iter():
            if element.tag == "a":
                self._rewrite(element)
            elif element.tag == "img" and not (element.get("alt") or "").strip():
                self.context.images.append(element.get("src", ""))

    def _rewrite(self, element: Element) -> None:
        href = element.get("href", "")
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or href.startswith(("/", "#")) or not parts.path.endswith(".md"):
            return
        key = target_key(parts.path, self.context.source_dir)
        self.context.links.append(Link(href, key, parts.fragment))
        url = self.context.resolve(key)
        if url is not None:
            element.set("href", url + (f"#{parts.fragment}" if parts.fragment else ""))


class _LinkExtension(Extension):
    def __init__(self, context: LinkContext) -> None:
        super().__init__()
        self.context = context

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        md.treeprocessors.register(_LinkRewriter(md, self.context), "sitegen_links", 5)


class _QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor with the same output, a fifth faster on a page of prose.

    Profiling showed two costs in the stock one. It fetches every pattern from its registry by
    index, each time checking the registry's order and looking the pattern up by name; here the
    patterns are a plain list, in the same order, taken once the extensions have registered
    theirs. And it runs each pattern's whole machinery over every piece of text, though in prose
    most text matches no pattern at all; such text is returned as it is here, which is exactly
    what the stock loop returns when no pattern's regular expression finds anything.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.patterns = list(md.inlinePatterns)
        self.inlinePatterns = self.patterns  # type: ignore[assignment]  # a list indexes like the registry
        expressions = [pattern.getCompiledRegExp() for pattern in self.patterns]
        # For each starting pattern, the expressions of it and the patterns after it, each once
        # (three link patterns, for one, share one expression).
        self.expressions = [list(dict.fromkeys(expressions[start:])) for start in range(len(expressions) + 1)]

    # The stock method's private (name-mangled) name: should a new Python-Markdown rename it,
    # this is simply never called, and the output stays the same.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString) or not any(rx.search(data) for rx in self.expressions[patternIndex]):
            return data  # what the stock method returns when no pattern matches
        handle: Callable[[str, int], str] = getattr(super(), "_InlineProcessor__handleInline")  # noqa: B009
        return handle(data, patternIndex)


class _HeadingIds(Treeprocessor):
    """Give every heading an id from its text (``slugify``), unique within the page.

    The toc extension does this too, but also builds a table of contents and scans every
    element for a [TOC] marker; that cost a seventh of all Markdown time, for nothing used.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.ids: list[str] = []

    def run(self, root: Element) -> None:
        self.ids = []
        used = {str(element.get("id")) for element in root.iter() if element.get("id")}
        counters: dict[str, int] = {}
        for element in root.iter():
            if element.tag not in _HEADINGS:
                continue
            if not element.get("id"):
                # The heading's text exactly as toc reads it: inline HTML rendered, tags stripped.
                name = html.unescape(toc.strip_tags(toc.render_inner_html(element, self.md)))
                element.set("id", toc.unique(slugify(name), used, counters))
            self.ids.append(str(element.get("id")))


_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
# Markdown that staff may use: tables, {: lang="en" } attributes on blocks, fenced code, and lists
# that start at their own number. Footnotes, abbreviations, definition lists and Markdown inside
# HTML ("extra") are left out: no page uses them, and they slowed every page down.
EXTENSIONS = ("tables", "attr_list", "fenced_code", "sane_lists")


class Converter:
    """One reusable Markdown instance; ``convert`` resets it for every page."""

    def __init__(self) -> None:
        self.context = LinkContext()
        self.md = markdown.Markdown(extensions=[*EXTENSIONS, _LinkExtension(self.context)], output_format="html")
        self.headings = _HeadingIds(self.md)
        # Where toc ran: after the inline patterns (20) and attr_list (8), before the link rewriter (5).
        self.md.treeprocessors.register(self.headings, "sitegen_heading_ids", 5.5)
        # Same name and priority as the stock inline processor, which it replaces.
        self.md.treeprocessors.register(_QuickInlineProcessor(self.md), "inline", 20)

    def convert(
        self, text: str, source_dir: str, resolve: Callable[[str], str | None]
    ) -> tuple[str, LinkContext, list[str]]:
        """HTML, the links found, and the ids of its headings."""
        self.md.reset()
        self.context.source_dir = source_dir
        self.context.resolve = resolve
        self.context.links = []
        self.context.images = []
        html = self.md.convert(text)
        ids = list(self.headings.ids)
        context = LinkContext(source_dir, resolve, list(self.context.links), list(self.context.images))
        return html, context, ids

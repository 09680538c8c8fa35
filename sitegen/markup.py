"""Markdown → HTML: links to ``.md`` files become page URLs; heading ids keep Thai whole."""

from __future__ import annotations

import posixpath
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import InlineProcessor, Treeprocessor
from markdown.util import AtomicString


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
    joined = posixpath.normpath(posixpath.join(source_dir, unquote(href_path))).lstrip("/")
    joined = joined.removesuffix(".md")
    if joined in ("index", "."):
        return "index"
    return joined.removesuffix("/index")


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


class Converter:
    """One reusable Markdown instance; ``convert`` resets it for every page."""

    def __init__(self) -> None:
        self.context = LinkContext()
        self.md = markdown.Markdown(
            extensions=["extra", "sane_lists", "toc", _LinkExtension(self.context)],
            extension_configs={"toc": {"slugify": slugify, "permalink": False}},
            output_format="html",
        )
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
        ids = _toc_ids(getattr(self.md, "toc_tokens", []))
        context = LinkContext(source_dir, resolve, list(self.context.links), list(self.context.images))
        return html, context, ids


def _toc_ids(tokens: list[dict[str, object]]) -> list[str]:
    ids: list[str] = []
    for token in tokens:
        ids.append(str(token["id"]))
        children = token.get("children")
        if isinstance(children, list):
            ids.extend(_toc_ids(children))
    return ids

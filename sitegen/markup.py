"""Markdown → HTML: links to ``.md`` files become page URLs; heading ids keep Thai whole; unsafe raw HTML is removed."""

from __future__ import annotations

import dataclasses
import html
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import markdown
from markdown import util
from markdown.extensions import Extension, toc
from markdown.extensions.attr_list import AttrListExtension
from markdown.extensions.fenced_code import FencedCodeExtension
from markdown.extensions.sane_lists import SaneListExtension
from markdown.extensions.tables import TableExtension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
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
    line: int = 0  # of the Markdown text, counted from 0


@dataclass(frozen=True)
class Image:
    """An image without alt text, and its line in the Markdown text (from 0)."""

    src: str
    line: int = 0


@dataclass
class LinkContext:
    """What the link rewriter needs to know about the page being converted."""

    source_dir: str = ""
    resolve: Callable[[str], str | None] = lambda key: None
    links: list[Link] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)  # images without alt text
    unsafe: list[Unsafe] = field(default_factory=list)  # what was removed, with its line


def target_key(href_path: str, source_dir: str) -> str:
    """The page key a relative ``.md`` path points to, from a page in folder ``source_dir``."""
    return page_key(posixpath.normpath(posixpath.join(source_dir, unquote(href_path))))


# --- where each link is written ---------------------------------------------------------------
#
# Python-Markdown keeps no line numbers. So before it parses, every "[" that may open a link or an
# image gets a mark in front of it holding its line (``_MARKS``; a page has no STX of its own). The parser carries the mark like any other text, to just before the link it makes of
# the "[" -- or into code, a comment or plain text, where it is merely removed. Not marked, as a mark
# would change what they are: a "[" escaped (after an odd run of backslashes), after "]" ("[text][ref]"),
# in "<![CDATA[", or of a reference's definition; such a link (rare) takes the line of the last mark
# before it in the same text, else that of the link before it.
_NOT_AFTER = re.compile(r"(?:\]\s?|<!\[CDATA)\Z")  # before the "[" (or the "!" of "![")
_DEFINITION = re.compile(r"[^\[\]]*\]:")  # after the "[" of "[name]: url"
_LINE_START = re.compile(r"[ \t>*+\-0-9.)]*")  # what may come before a definition on its line: quotes, list marks


# A mark: STX, then the line's digits as private-use characters; short, as Python-Markdown's bracket
# matching is quadratic on a page of "[[[[...]" and a mark lengthens it.
_DIGITS = str.maketrans("0123456789", "".join(map(chr, range(0xE000, 0xE00A))))
_NUMBER = {value: key for key, value in _DIGITS.items()}
_MARKS = re.compile(f"{util.STX}([\ue000-\ue009]+)")
# A mark in an e-mail autolink (<a[b]@c.org>), which Python-Markdown writes a character reference each.
_ENCODED_MARKS = re.compile(r"&#2;(?:&#5734[4-9];|&#5735[0-3];)+")


def _unmarked(text: str) -> str:
    """The text without line marks (code stays code)."""
    if util.STX not in text:
        return text
    cleaned = _MARKS.sub("", text)
    return AtomicString(cleaned) if isinstance(text, AtomicString) else cleaned


# Past this many "[", a page is not marked: Python-Markdown's bracket matching is quadratic, and marks
# made a page of 20,000 brackets take 110 s instead of 39. Its links are then placed at its first line.
MARKED_BRACKETS = 5000


class _MarkLines(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)  # whole: a reference's definition may break its line before "]:"
        if text.count("[") > MARKED_BRACKETS:
            return lines
        pieces: list[str] = []  # the text, cut at each mark
        done = line = 0
        end = text.rfind("]")  # a "[" with no "]" after it opens nothing
        at = text.find("[", 0, end) if end > 0 else -1
        while at >= 0:
            start = at - 1 if at and text[at - 1] == "!" else at
            declaration = start < at and text.endswith("<", 0, start)  # "<![CDATA[", "<![if ...]>"
            backslashes = 0
            while backslashes < start and text[start - backslashes - 1] == "\\":
                backslashes += 1
            if not (
                declaration
                or backslashes % 2  # an odd run of backslashes escapes the "["
                or _NOT_AFTER.search(text, max(start - 8, 0), start)
                or (_DEFINITION.match(text, at + 1) and _LINE_START.fullmatch(text, text.rfind("\n", 0, at) + 1, at))
            ):
                line += text.count("\n", done, start)
                pieces += (text[done:start], util.STX + str(line).translate(_DIGITS))
                done = start
            at = text.find("[", at + 1, end)
        return "".join((*pieces, text[done:])).split("\n") if pieces else lines


class _ReadLines(Treeprocessor):
    """Each link's and image's line: that of the mark just before it in the same text (plus the lines
    in between), else that of the link before it; the marks removed from the tree's text (``_Unmark``
    removes those in raw HTML, code and attributes, from the finished HTML)."""

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.lines: dict[Element, int] = {}

    def run(self, root: Element) -> None:
        self.lines.clear()
        line = 0
        for parent in root.iter():
            before = parent.text
            if before:
                parent.text = _unmarked(before)
            after_link = False  # a link before this one in the same text
            for child in parent:
                if child.tag in ("a", "img"):
                    if before and util.STX in before and (marks := list(_MARKS.finditer(before))):
                        line = int(marks[-1][1].translate(_NUMBER)) + before.count("\n", marks[-1].end())
                    elif before and after_link:  # not marked: as many lines after that link as it is
                        line += before.count("\n")
                    self.lines[child] = line
                    after_link = True
                before = child.tail
                if before:
                    child.tail = _unmarked(before)


class _Unmark(Postprocessor):
    """Marks in what the parser keeps aside as it is (raw HTML, fenced code) or put in an attribute."""

    def run(self, text: str) -> str:
        return _ENCODED_MARKS.sub("", _unmarked(text)) if "&#2;" in text else _unmarked(text)


# A backslash escape (my\-page.md), as Python-Markdown's placeholder for the character it escapes.
_ESCAPED = re.compile(f"{util.STX}([0-9]+){util.ETX}")


class _LinkRewriter(Treeprocessor):
    def __init__(self, md: markdown.Markdown, context: LinkContext, lines: _ReadLines) -> None:
        super().__init__(md)
        self.context = context
        self.lines = lines.lines

    def run(self, root: Element) -> None:
        for element in root.iter():
            if element.tag == "a":
                self._rewrite(element)
            elif element.tag == "img" and not (element.get("alt") or "").strip():
                self.context.images.append(Image(_unmarked(element.get("src", "")), self.lines.get(element, 0)))

    def _rewrite(self, element: Element) -> None:
        href = _ESCAPED.sub(lambda match: chr(int(match[1])), _unmarked(element.get("href", "")))
        try:
            parts = urlsplit(href)
        except ValueError:  # "http://[zz": not an address of this site, and not one any browser follows
            return
        if parts.scheme or parts.netloc or href.startswith(("/", "#")) or not parts.path.endswith(".md"):
            return
        key = target_key(parts.path, self.context.source_dir)
        self.context.links.append(Link(href, key, parts.fragment, self.lines.get(element, 0)))
        url = self.context.resolve(key)
        if url is not None:
            element.set("href", url + (f"#{parts.fragment}" if parts.fragment else ""))


class _LinkExtension(Extension):
    def __init__(self, context: LinkContext) -> None:
        super().__init__()
        self.context = context

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's API)
        lines = _ReadLines(md)
        md.preprocessors.register(_MarkLines(md), "sitegen_mark_lines", 27)  # after normalize_whitespace
        md.treeprocessors.register(lines, "sitegen_read_lines", 19)  # after the inline patterns (20)
        md.treeprocessors.register(_LinkRewriter(md, self.context, lines), "sitegen_links", 5)
        md.postprocessors.register(_Unmark(md), "sitegen_unmark", 10)  # after raw HTML is put back (30)


# What each of Python-Markdown's inline patterns cannot match without: a text holding none of a
# pattern's needles is one it leaves alone. Keyed by the regular expression itself, as written in
# Python-Markdown 3.11, so that a pattern another release changes (or an extension's pattern) is
# not trusted to a needle but searched for with its own expression, as before.
_STOCK_NEEDLES: dict[str, tuple[str, ...]] = {
    r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)": ("\\", "`"),  # backtick
    r"\\(.)": ("\\",),  # escape
    r"(?<!\!)\[": ("[",),  # reference, link, short_reference
    r"\!\[": ("![",),  # image_link, image_reference, short_image_ref
    r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>": ("<",),  # autolink
    r"<([^<> !]+@[^@<> ]+)>": ("<",),  # automail
    r"  \n": ("  \n",),  # linebreak
    r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)": ("&",),  # entity
    r"\*|_": ("*", "_"),  # em_strong
    # html: every tag, comment, processing instruction and CDATA section starts with "<"
    r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+"""
    r"""\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""": (
        "<",
    ),
}


class _QuickInlineProcessor(InlineProcessor):
    """Python-Markdown's inline processor with the same output, faster on a page of prose.

    Profiling showed two costs in the stock one. It fetches every pattern from its registry by
    index, each time checking the registry's order and looking the pattern up by name; here the
    patterns are a plain list, in the same order, taken once the extensions have registered
    theirs. And it runs each pattern's whole machinery over every piece of text, though in prose
    most text matches no pattern at all; such text is returned as it is here, which is exactly
    what the stock loop returns when no pattern's regular expression finds anything. Whether any
    can is asked with one search for the patterns' needles (``_STOCK_NEEDLES``), not one search
    per pattern.
    """

    def __init__(self, md: markdown.Markdown) -> None:
        super().__init__(md)
        self.patterns = list(md.inlinePatterns)
        self.inlinePatterns = self.patterns  # type: ignore[assignment]  # a list indexes like the registry
        # For each starting pattern, a test of whether it or a pattern after it could match.
        self.could_match = [self._tester(self.patterns[start:]) for start in range(len(self.patterns) + 1)]

    @staticmethod
    def _tester(patterns: list[Any]) -> Callable[[str], bool]:
        needles: set[str] = set()
        others: dict[re.Pattern[str], None] = {}  # each expression once, in order
        for pattern in patterns:
            expression = pattern.getCompiledRegExp()
            found = _STOCK_NEEDLES.get(expression.pattern)
            if found is None:
                others[expression] = None
            else:
                needles.update(found)
        search = re.compile("|".join(re.escape(n) for n in sorted(needles))).search if needles else None

        def could_match(data: str) -> bool:
            return (search is not None and search(data) is not None) or any(rx.search(data) for rx in others)

        return could_match

    # The stock method's private (name-mangled) name: should a new Python-Markdown rename it,
    # this is simply never called, and the output stays the same.
    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString) or not self.could_match[patternIndex](data):
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
                element.set("id", toc.unique(slugify(self._name(element)), used, counters))
            self.ids.append(str(element.get("id")))

    def _name(self, element: Element) -> str:
        """The heading's text exactly as toc reads it: inline HTML rendered, tags stripped."""
        text = element.text or ""
        if len(element) == 0 and not _MARKED.search(text):
            # Plain text: rendering, unescaping and stripping tags would only collapse its spaces.
            return " ".join(text.split())
        return html.unescape(toc.strip_tags(toc.render_inner_html(element, self.md)))


_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_MARKED = re.compile("[&<>\x02\x03]")  # what serialising, Markdown's placeholders or unescaping would change


class _Markdown(markdown.Markdown):
    """Python-Markdown, remembering which tags are block-level.

    The stock test lowercases and strips the tag and searches a list of fifty names, about two
    hundred times a page; a page has a dozen distinct tags. The list is complete once the
    extensions are loaded, before the first page.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._block_level: dict[str, bool] = {}

    def is_block_level(self, tag: Any) -> bool:
        if not isinstance(tag, str):
            return False  # as the stock test says of ElementTree's comment and processing-instruction tags
        known = self._block_level.get(tag)
        if known is None:
            known = self._block_level[tag] = super().is_block_level(tag)
        return known


class _OnlyWith(Treeprocessor):
    """Run ``processor`` only on pages whose text holds ``needle``; on others it would change nothing.

    For attr_list, whose every expression starts with "{": most pages have none.
    """

    def __init__(self, md: markdown.Markdown, processor: Treeprocessor, needle: str) -> None:
        super().__init__(md)
        self.processor = processor
        self.needle = needle
        self.active = True

    def run(self, root: Element) -> None:
        if self.active:
            self.processor.run(root)


# Markdown that staff may use: tables, {: lang="en" } attributes on blocks, fenced code, and lists
# that start at their own number. Footnotes, abbreviations, definition lists and Markdown inside
# HTML ("extra") are left out: no page uses them, and they slowed every page down.
# Classes, not names: Python-Markdown looks a name up among every installed package's entry
# points, which cost 25 ms a converter, more than converting a page.
EXTENSIONS: tuple[type[Extension], ...] = (TableExtension, AttrListExtension, FencedCodeExtension, SaneListExtension)


class Converter:
    """One reusable Markdown instance; ``convert`` resets it for every page."""

    def __init__(self) -> None:
        self.context = LinkContext()
        extensions = [extension() for extension in EXTENSIONS]
        self.md = _Markdown(extensions=[*extensions, _LinkExtension(self.context)], output_format="html")
        self.attr_list = _OnlyWith(self.md, self.md.treeprocessors["attr_list"], "{")
        self.md.treeprocessors.register(self.attr_list, "attr_list", 8)  # its own name and place
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
        self.context.links, self.context.images = [], []
        self.headings.ids = []  # a blank text returns before any tree processor runs
        self.attr_list.active = self.attr_list.needle in text
        check_nesting(text)
        try:
            html = self.md.convert(text)
        except RecursionError:  # a shape of nesting check_nesting does not measure: still no traceback
            raise NestingTooDeep(deepest_line(text)) from None
        html, unsafe = strip_unsafe(html)
        context = dataclasses.replace(self.context, unsafe=place(unsafe, text) if unsafe else [])
        return html, context, list(self.headings.ids)


# --- nesting ------------------------------------------------------------------------------------
#
# Python-Markdown parses nested lists by recursion: some 250 levels exhaust Python's stack, with a
# traceback of thousands of lines. No page needs more than a few levels, so a line nested deeper
# than MAX_NESTING is refused, at its line, before conversion.

MAX_NESTING = 100
_DEEP_CANDIDATE = re.compile(r"^[ \t>*+\-.)0-9]{100,}", re.MULTILINE)  # cheap: no line of a normal page matches
_LEVEL = re.compile(r" {1,4}|\t|> ?|[-*+](?:[ \t]+|$)|[0-9]{1,9}[.)](?:[ \t]+|$)")


class NestingTooDeep(ValueError):
    """A line of Markdown nested deeper than Python-Markdown can parse; ``line`` counts from 0."""

    def __init__(self, line: int) -> None:
        super().__init__(f"the text is nested more than {MAX_NESTING} levels deep")
        self.line = line


def nesting(line: str) -> int:
    """How deep a line's lists and quotes go: one level per 4 spaces of indent, '>' and list marker."""
    levels = 0
    at = 0
    while (match := _LEVEL.match(line, at)) is not None:
        levels += 1
        at = match.end()
    return levels


def check_nesting(text: str) -> None:
    for match in _DEEP_CANDIDATE.finditer(text):
        end = text.find("\n", match.start())
        if nesting(text[match.start() : end if end >= 0 else len(text)]) > MAX_NESTING:
            raise NestingTooDeep(text.count("\n", 0, match.start()))


def deepest_line(text: str) -> int:
    lines = text.split("\n")
    return max(range(len(lines)), key=lambda i: nesting(lines[i]))


# --- raw HTML that content may not carry ----------------------------------------------------------
#
# Staff write Markdown, and Markdown lets raw HTML through. On a site read by trafficking victims, a
# script, a frame or a redirect in a page is how an attacker who got hold of one editor's account
# (or of one pull request) would reach every reader. So each of these is reported at its line (a
# warning in a plain build, an error under --strict and in ``check``) and removed from the page:
# a plain build, the preview and a hurried deploy publish what they build, the meta CSP does not
# stop a redirect, and old browsers on cheap phones ignore CSP altogether.

# Elements that run code, load another document into the page, or change where its links lead; and
# elements whose content a browser reads as plain text where this parser reads markup (a way to
# smuggle a tag past it). Removed with their content.
UNSAFE_ELEMENTS = frozenset(
    {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form", "portal"}
    | {"noscript", "noembed", "noframes", "xmp", "plaintext", "style"}
)
_VOID = frozenset({"embed", "base", "frame", "meta"})
# Attributes whose value is a URL (or, in SVG animation, becomes one).
URL_ATTRIBUTES = frozenset(
    {
        "href",
        "src",
        "action",
        "formaction",
        "xlink:href",
        "poster",
        "background",
        "cite",
        "data",
        "codebase",
        "longdesc",
        "ping",
        "srcset",
        "to",
        "from",
        "values",
    }
)
UNSAFE_SCHEMES = ("javascript", "vbscript", "data")
RAW_HTML_KIND = "raw-html"
RAW_HTML_HINT = (
    "the site allows no scripts, event handlers, script or data links, frames, forms or redirects in pages; "
    "it was removed from the page: delete it from the file"
)
# A page's HTML in which none of these is found, once lower-cased and without any whitespace (as
# browsers read URLs, without tabs and newlines), holds nothing unsafe: most pages are never parsed.
# Separate expressions, each with a literal start, are three times faster than one alternation.
_SUSPECTS = (
    re.compile("<(?:" + "|".join(sorted(UNSAFE_ELEMENTS | {"meta"})) + ")"),
    re.compile("on[a-z]*="),  # also "action=" in a query string: that page is merely scanned
    re.compile("script:|data:"),
    re.compile("&(?!amp;|lt;|gt;|quot;)"),  # a character written as an entity may spell any of the above
)


def suspect(fragment: str) -> bool:
    """Whether a fragment of HTML may hold something unsafe (if not, it surely holds nothing)."""
    squeezed = "".join(fragment.lower().split())
    left_open = squeezed.rfind("<") > squeezed.rfind(">")  # would run on into the template's markup
    return left_open or any(pattern.search(squeezed) for pattern in _SUSPECTS)


# After the scan no unsafe element is left as a tag; this text is where the parser saw none (in an
# attribute's value, a comment). Not <meta>: one without http-equiv is kept, and escaping its "<"
# would turn its attributes' values into markup.
_TAGS_LEFT = re.compile(r"<(?=(?:" + "|".join(sorted(UNSAFE_ELEMENTS)) + r")\b)", re.IGNORECASE)
_URL_SPACE = str.maketrans("", "", "\t\n\r")
# Tags whose end every parser finds at the same place: no quote, "<" or "=" where a browser would
# start or end a value differently. Others, on a page that is scanned, are removed.
_WELL_FORMED_START = re.compile(
    r"""<[a-zA-Z][^\s/>]*(?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*\s*/?>"""
)
_WELL_FORMED_END = re.compile(r"</[a-zA-Z][^\s/>]*\s*>")
_C0_SPACE = "".join(chr(c) for c in range(0x21))


@dataclass(frozen=True)
class Unsafe:
    """Something unsafe found in a page's HTML, and the text to look for in the Markdown to place it."""

    what: str  # for the message: "<script> element", "event-handler attribute 'onerror'", ...
    needles: tuple[str, ...]  # searched for in the Markdown, first to last
    line: int = 0  # line in the Markdown text, counted from 0; set by ``place``


def unsafe_scheme(value: str) -> str | None:
    """The scheme of a URL a browser would run or open as a document (``javascript``...), or None.

    Each item of a list (SVG animation ``values``, ``srcset``) counts as a URL of its own.
    """
    for item in re.split("[;,]", value):
        url = item.translate(_URL_SPACE).lstrip(_C0_SPACE).lower()
        scheme, colon, _ = url.partition(":")
        if colon and scheme in UNSAFE_SCHEMES:
            return scheme
    return None


class _Scanner(HTMLParser):
    """Finds what is unsafe in a fragment of HTML and the spans of text that remove it."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.starts = [0]
        for match in re.finditer("\n", text):
            self.starts.append(match.end())
        self.found: list[Unsafe] = []
        self.cuts: list[tuple[int, int, str]] = []  # (start, end, replacement)
        self.open: list[tuple[str, int]] = []  # unsafe elements being removed: (tag, start)

    def position(self) -> int:
        line, column = self.getpos()
        return self.starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, void=tag in _VOID)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, void=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], void: bool) -> None:
        start = self.position()
        raw = self.get_starttag_text() or ""
        end = start + len(raw)
        if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
            self.found.append(Unsafe("<meta http-equiv> element (a redirect or a page header)", (raw, "<meta")))
            self._cut(start, end, "")
            return
        if tag in UNSAFE_ELEMENTS:
            self.found.append(Unsafe(f"<{tag}> element", (raw, f"<{tag}")))
            if void:
                self._cut(start, end, "")
            else:
                self.open.append((tag, start))
            return
        if not _WELL_FORMED_START.fullmatch(raw):  # where it ends, a browser may not agree
            self.found.append(Unsafe(f"malformed <{tag}> tag", (raw, f"<{tag}")))
            self._cut(start, end, "")
            return
        kept: list[tuple[str, str | None]] = []
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(Unsafe(f"event-handler attribute '{name}'", (raw, name)))
            elif name in URL_ATTRIBUTES and value is not None and (scheme := unsafe_scheme(value)):
                self.found.append(Unsafe(f"'{scheme}:' URL in '{name}'", (raw, f"{scheme}:", name)))
            else:
                kept.append((name, value))
        if len(kept) < len(attrs):
            text = "".join(f" {n}" if v is None else f' {n}="{html.escape(v)}"' for n, v in kept)
            self._cut(start, end, f"<{tag}{text}{' /' if raw.endswith('/>') else ''}>")

    # Comments and <![...]> sections end where a browser ends them sooner (at "<!-->", "--!>" or the
    # first ">"): markup in one may be read as a tag. Such a section is removed whole, as this parser saw it.
    def parse_comment(self, i: int, report: bool = True) -> int:
        return self._section(i, super().parse_comment(i, report), "HTML comment holding markup")

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            k = super().parse_marked_section(i, report)
        except AssertionError:  # "<![r]": a keyword Python's parser does not know; a browser's comment up to ">"
            end = self.rawdata.find(">", i + 3)
            k = -1 if end < 0 else end + 1
        return self._section(i, k, "<![...]> section holding markup")

    def parse_bogus_comment(self, i: int, report: bool = True) -> int:
        return self._section(i, super().parse_bogus_comment(i, report), "HTML comment holding markup")

    def _section(self, i: int, k: int, what: str) -> int:
        if k > i:
            start = self.position()
            text = self.text[start : start + k - i]
            if "<" in text[2:] or ">" in text[:-1]:
                self.found.append(Unsafe(what, (text, text[:12])))
                self._cut(start, start + k - i, "")
        return k

    def handle_endtag(self, tag: str) -> None:
        start = self.position()
        close = self.text.find(">", start)
        raw = self.text[start : len(self.text) if close < 0 else close + 1]
        if not _WELL_FORMED_END.fullmatch(raw):
            self.found.append(Unsafe(f"malformed </{tag}> tag", (raw, f"</{tag}")))
            self._cut(start, start + len(raw), "")
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                start = self.open[i][1]
                del self.open[i:]
                close = self.text.find(">", self.position())
                self._cut(start, len(self.text) if close < 0 else close + 1, "")
                return

    def _cut(self, start: int, end: int, replacement: str) -> None:
        if not self.open:  # inside an element being removed, everything goes with it
            self.cuts.append((start, end, replacement))

    def result(self) -> str:
        leftover = self.rawdata  # what the parser could not finish: text, or an unclosed tag or comment
        if leftover.startswith("<"):  # on the page, it would run on into the template's own markup
            self.found.append(Unsafe("tag or comment left open at the end of the page", (leftover, leftover[:12])))
            self._cut(len(self.text) - len(leftover), len(self.text), "")
            self.rawdata = ""
        self.close()
        for _, start in self.open[:1]:  # never closed: the browser would take the rest of the page
            self.open = []
            self._cut(start, len(self.text), "")
        parts: list[str] = []
        done = 0
        for start, end, replacement in sorted(self.cuts):
            if start < done:
                continue
            parts.append(self.text[done:start])
            parts.append(replacement)
            done = end
        parts.append(self.text[done:])
        # What the parser may have read differently from a browser, made text whatever it was.
        cleaned = "".join(parts)
        for match in _TAGS_LEFT.finditer(cleaned):
            tag = re.match(r"[a-z]+", cleaned[match.end() :], re.IGNORECASE)
            name = tag.group(0).lower() if tag else ""
            self.found.append(Unsafe(f"<{name}> element", (f"<{name}",)))
        return _TAGS_LEFT.sub("&lt;", cleaned)


def strip_unsafe(fragment: str) -> tuple[str, list[Unsafe]]:
    """The HTML without what content may not carry, and what was removed, in the order of the page.

    Scanned again after each removal until nothing is found: what was cut out may have joined the
    text around it into a new tag ("<" + "<script></script>" + "img onerror=...>").
    """
    found: list[Unsafe] = []
    for _ in range(MAX_SCANS):
        fragment, more = _strip_once(fragment)
        if not more:
            return fragment, found
        found.extend(more)
    return html.escape(fragment, quote=False), found  # never seen on a real page: all of it as text


MAX_SCANS = 8


def _strip_once(fragment: str) -> tuple[str, list[Unsafe]]:
    if not suspect(fragment):
        return fragment, []
    scanner = _Scanner(fragment)
    scanner.feed(fragment)
    cleaned = scanner.result()
    return cleaned, scanner.found


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_FENCE_END = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")


def _code_masked(text: str) -> str:
    """The text with fenced code blocks and code spans blanked out (newlines kept), in linear time."""
    if "`" not in text and "~" not in text:
        return text  # no fence, no span: most pages
    lines = text.split("\n")
    fence = ""
    for number, line in enumerate(lines):
        if fence:
            closing = _FENCE_END.fullmatch(line)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence):
                fence = ""
            lines[number] = " " * len(line)
        elif opened := _FENCE.match(line):
            fence = opened.group(1)
            lines[number] = " " * len(line)
    masked = "\n".join(lines)
    # A code span runs from a run of backticks to the next run of the same length.
    runs = [(m.start(), m.end()) for m in re.finditer("`+", masked)]
    following: list[int] = [-1] * len(runs)
    seen: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        following[index] = seen.get(length, -1)
        seen[length] = index
    parts: list[str] = []
    done = index = 0
    while index < len(runs):
        close = following[index]
        if close < 0:
            index += 1
            continue
        start, end = runs[index][0], runs[close][1]
        parts.append(masked[done:start])
        parts.append(re.sub(r"[^\n]", " ", masked[start:end]))
        done, index = end, close + 1
    parts.append(masked[done:])
    return "".join(parts)


def place(found: list[Unsafe], text: str) -> list[Unsafe]:
    """Each finding with its line in the Markdown. Unsafe HTML is found in the page's HTML, not by the
    parser, so each is placed where the first of its needles is written (outside code, regardless of
    case) after the previous one's place; else where that needle was found last; else anywhere; else line 0."""
    masked = _code_masked(text).lower()  # lower case keeps every newline: lines are counted in it
    placed: list[Unsafe] = []
    floor = -1
    last: dict[str, int] = {}
    for unsafe in found:
        at = -1
        for needle in (needle.lower() for needle in unsafe.needles):
            at = masked.find(needle, floor + 1)
            if at < 0:  # none after the last one placed: where it was placed before, else its first place
                at = last[needle] if needle in last else masked.find(needle)
            if at >= 0:
                last[needle], floor = at, max(floor, at)
                break
        placed.append(dataclasses.replace(unsafe, line=masked.count("\n", 0, at) if at >= 0 else 0))
    return placed

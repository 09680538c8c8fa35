"""The site as a whole: pages linked to their translations, URLs, output paths and menus."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import NamedTuple

from .config import Language, SiteConfig, config_line
from .content import CONTENT_DIR, PageSource
from .errors import Collector


@dataclass(frozen=True)
class Page:
    """One page in one language. A fallback shows another language's text."""

    key: str
    lang: str
    source: PageSource
    fallback: bool = False

    @property
    def url(self) -> str:
        return page_url(self.lang, self.key)

    @property
    def output(self) -> str:
        return page_output(self.lang, self.key)

    @property
    def text_lang(self) -> str:
        """The language the page's text is written in."""
        return self.source.lang

    @property
    def source_dir(self) -> str:
        """The folder of the source file, relative to ``content/<lang>/``."""
        relative = self.source.path.split("/", 2)[2]
        return posixpath.dirname(relative)


@dataclass(frozen=True)
class MenuItem:
    key: str
    title: str
    url: str
    text_lang: str  # differs from the menu's language when the page is a fallback


class Alternate(NamedTuple):
    """One ``<link rel="alternate">`` of a page: a language (or ``x-default``) and its absolute URL."""

    hreflang: str
    href: str


@dataclass(frozen=True)
class Versions:
    """What a page's head, language switcher and sitemap entry say of its languages (``Site.versions``)."""

    langs: tuple[str, ...]  # the languages the page is really written in, in the site's order
    alternates: tuple[Alternate, ...]  # one for each of ``langs``, then x-default
    switcher: tuple[tuple[Language, str], ...]  # each language, and where its link leads: the page or its home


def page_url(lang: str, key: str) -> str:
    return f"/{lang}/" if key == "index" else f"/{lang}/{key}/"


def page_output(lang: str, key: str) -> str:
    return f"{lang}/index.html" if key == "index" else f"{lang}/{key}/index.html"


@dataclass(frozen=True)
class Site:
    """Every page of the site, indexed by (key, lang)."""

    config: SiteConfig
    pages: tuple[Page, ...]

    @cached_property
    def index(self) -> dict[tuple[str, str], Page]:
        return {(page.key, page.lang): page for page in self.pages}

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(sorted({page.key for page in self.pages}))

    @cached_property
    def menus(self) -> dict[str, tuple[MenuItem, ...]]:
        """The main menu of each language, computed once for all pages."""
        return self._menu(self.config.menu)

    @cached_property
    def footer_menus(self) -> dict[str, tuple[MenuItem, ...]]:
        return self._menu(self.config.footer_menu)

    def _menu(self, keys: tuple[str, ...]) -> dict[str, tuple[MenuItem, ...]]:
        return {
            lang: tuple(
                MenuItem(key, page.source.meta.title, page.url, page.text_lang)
                for key in keys
                if (page := self.index.get((key, lang))) is not None
            )
            for lang in self.config.codes
        }

    def get(self, key: str, lang: str) -> Page | None:
        return self.index.get((key, lang))

    def versions(self, key: str) -> Versions:
        """The one rule for a page's languages, read by its head, its switcher, the sitemap and the chooser.

        Alternates are real translations only, never fallbacks. x-default is the chooser for the home
        page, else the default language's real page, else the first real one in the site's order.
        """
        config = self.config
        pages = [self.index.get((key, lang)) for lang in config.codes]
        real = [page for page in pages if page is not None and not page.fallback]
        default = "/" if key == "index" else next((p for p in real if p.lang == config.default_lang), real[0]).url
        hreflang = [Alternate(page.lang, config.absolute(page.url)) for page in real]
        return Versions(
            tuple(page.lang for page in real),
            (*hreflang, Alternate("x-default", config.absolute(default))),
            tuple(
                (lang, page_url(lang.code, "index") if page is None else page.url)
                for lang, page in zip(config.languages, pages, strict=True)
            ),
        )

    def url_for(self, key: str, lang: str) -> str | None:
        page = self.index.get((key, lang))
        return page.url if page else None


def build_model(config: SiteConfig, sources: list[PageSource], problems: Collector) -> Site:
    """Link translations by key, add fallbacks, and report duplicate URLs and bad menu entries."""
    seen: dict[tuple[str, str], PageSource] = {}
    pages: list[Page] = []
    for source in sources:
        slot = (source.key, source.lang)
        if slot in seen:
            other = seen[slot]
            problems.error(
                f"this page and {other.path} both produce the URL {page_url(source.lang, source.key)}",
                source.path,
                1,
                "rename or remove one of them",
            )
            continue
        seen[slot] = source
        pages.append(Page(source.key, source.lang, source))

    default = config.default_lang
    keys = sorted({key for key, _ in seen})
    for key in keys:
        original = seen.get((key, default)) or next(seen[(key, code)] for code in config.codes if (key, code) in seen)
        for lang in config.languages:
            if (key, lang.code) in seen:
                continue
            where = f"{CONTENT_DIR}/{lang.code}/{original.path.split('/', 2)[2]}"
            if lang.missing == "fallback":
                pages.append(Page(key, lang.code, original, fallback=True))
                problems.warn(
                    f"no translation: showing the {original.lang} text of {original.path}",
                    where,
                    0,
                    "translate the page, then run: python build.py translated " + f"{lang.code}/{key}",
                    kind="missing",
                    lang=lang.code,
                )
            else:
                problems.warn(
                    f"no translation of {original.path}",
                    where,
                    0,
                    f"until it is translated, the language switcher leads to the {lang.code} home page",
                    kind="missing",
                    lang=lang.code,
                )

    for menu, entries in (("menu", config.menu), ("footer_menu", config.footer_menu)):
        for index, key in enumerate(entries):
            if key not in keys:
                problems.error(
                    f"{menu} entry '{key}' is not a page",
                    "site.yaml",
                    config_line(config.root, menu, index),
                    f"create {CONTENT_DIR}/{default}/{key}.md or remove it from the list",
                )
    pages.sort(key=attrgetter("lang", "key"))  # in C: this runs for every page of every build
    return Site(config, tuple(pages))

"""Jinja rendering: one environment per language, and the context every template sees."""

from __future__ import annotations

import datetime
import gettext
import json
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .config import Language, SiteConfig, load_config
from .content import TEMPLATES_DIR
from .data import SiteData
from .errors import Problem, SiteError, did_you_mean
from .i18n import DateForm, era_year, format_page_date
from .markup import RAW_HTML_HINT, RAW_HTML_KIND, Converter, Image, Link, NestingTooDeep
from .model import Page, Site, page_url
from .output import CONTENT_SECURITY_POLICY, csp_meta
from .source import inside_project, load_template, walk_files

DEFAULT_TEMPLATE = "page.html"

# Every page carries the site's policy itself, for hosts that ignore ``_headers`` (GitHub Pages, a
# plain web server). It goes first in <head>: a policy covers only what comes after it.
CSP_META = csp_meta(CONTENT_SECURITY_POLICY)
_HEAD = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)


def with_policy(page: str) -> str:
    """The page with ``CSP_META`` right after its ``<head>`` tag (a page without one is left as it is)."""
    head = _HEAD.search(page)
    if head is None:
        return page
    if page.startswith("\n", head.end()):  # a line of its own
        return f"{page[: head.end() + 1]}{CSP_META}\n{page[head.end() + 1 :]}"
    return f"{page[: head.end()]}{CSP_META}{page[head.end() :]}"


class _SharedBytecode(jinja2.BytecodeCache):
    """Compiled templates shared by the environments of one process (one per language), in memory.

    Never on disk: Jinja's bytecode is marshal, code that a cache folder restored from elsewhere
    could replace. In memory, a template used in two languages is compiled once, not twice.
    """

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


class _AsText:
    """A catalogue whose translations are text: escaped, so that none can add markup to a page.

    Jinja's newstyle gettext marks what a catalogue returns as safe HTML, trusting translators as it
    trusts templates; a ``<script>`` or a quote in a ``msgstr`` then went into the page as it was.
    """

    def __init__(self, translations: gettext.NullTranslations) -> None:
        self.translations = translations

    def gettext(self, message: str) -> Markup:
        return escape(self.translations.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> Markup:
        return escape(self.translations.ngettext(singular, plural, n))

    def pgettext(self, context: str, message: str) -> Markup:
        return escape(self.translations.pgettext(context, message))

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> Markup:
        return escape(self.translations.npgettext(context, singular, plural, n))


@dataclass(frozen=True)
class Rendered:
    """One written page, what the checks need to know about it, and what it was made from."""

    output: str
    html: str
    source: str
    links: tuple[Link, ...] = ()
    ids: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    # What the render read besides the page and its language's globals, for incremental builds:
    templates: tuple[str, ...] = ()  # every template loaded, extended or included
    lookups: tuple[tuple[tuple[str, str], str | None], ...] = ()  # ((key, lang), url) asked of url_for
    catalogues: tuple[str, ...] = ()  # languages whose UI strings translate() read
    problems: tuple[Problem, ...] = ()  # what the page's own text does wrong (raw HTML removed from it)


@dataclass
class Uses:
    """What the page being rendered has read so far (see ``Rendered``)."""

    templates: set[str] = field(default_factory=set)
    lookups: dict[tuple[str, str], str | None] = field(default_factory=dict)
    catalogues: set[str] = field(default_factory=set)

    def clear(self) -> None:
        self.templates.clear()
        self.lookups.clear()
        self.catalogues.clear()


class RecordingEnvironment(jinja2.Environment):
    """A Jinja environment that notes each template it hands out, at run time, as Lektor does."""

    def __init__(self, uses: Uses, **options: Any) -> None:
        super().__init__(**options)
        self.uses = uses

    def get_template(
        self,
        name: str | jinja2.Template,
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        template = super().get_template(name, parent, globals)
        self.uses.templates.add(template.name or "")
        return template

    def select_template(
        self,
        names: Iterable[str | jinja2.Template],
        parent: str | None = None,
        globals: MutableMapping[str, Any] | None = None,
    ) -> jinja2.Template:
        template = super().select_template(names, parent, globals)
        self.uses.templates.add(template.name or "")
        return template


def template_names(root: Path) -> list[str]:
    """The templates in ``templates/`` (not in linked folders), sorted; none if it leads outside."""
    try:
        folder = inside_project(root, TEMPLATES_DIR)
    except SiteError:
        return []
    return sorted(name for name, _ in walk_files(folder) if name.endswith(".html"))


def json_script(value: Any) -> Markup:
    """The ``json_script`` filter: JSON safe to place inside a <script> element. A key whose value is
    ``none`` is left out (a template writes ``"email": org.email or none``); a phone or a date is its text."""
    text = json.dumps(_without_none(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _without_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_none(item) for key, item in value.items() if item is not None}
    return [_without_none(item) for item in value] if isinstance(value, list | tuple) else value


def _environment(
    lang: Language,
    translations: gettext.NullTranslations,
    uses: Uses,
    loader: jinja2.BaseLoader,
    bytecode: _SharedBytecode,
) -> RecordingEnvironment:
    """An environment with everything that decides how a template compiles (its options, extensions
    and filters), so that code compiled in one is right for every other: see ``compile_templates``."""
    env = RecordingEnvironment(
        uses,
        loader=loader,
        auto_reload=False,  # templates cannot change during a build: no stat() per include
        bytecode_cache=bytecode,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(_AsText(translations), newstyle=True)  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True
    env.filters["format_date"] = _date_filter(lang)
    env.filters["json_script"] = json_script
    env.filters["format_year"] = lambda year: str(era_year(int(year), lang))
    return env


def _template_loader(root: Path) -> jinja2.BaseLoader:
    """Templates are read like every input: never from outside the project."""
    return jinja2.FunctionLoader(lambda name: load_template(root, TEMPLATES_DIR, name))


def compile_templates(root: Path) -> dict[str, bytes]:
    """Every template of the site, compiled: a head start that a build computes on another core while
    it reads its inputs (``workers.InBackground``), for the ``Renderer`` that it makes later.

    Jinja keys each compiled template by its name and file and checks it against the hash of the
    source: an environment that reads a template different from the one compiled here compiles it
    again. A template that does not compile is left out (its render reports the mistake)."""
    try:
        config = load_config(root)
    except SiteError:
        return {}
    bytecode = _SharedBytecode()
    env = _environment(config.languages[0], gettext.NullTranslations(), Uses(), _template_loader(root), bytecode)
    for name in template_names(root):
        try:
            env.get_template(name)
        except Exception:  # a head start only: a page that uses the template reports it
            continue
    return bytecode.compiled


class Renderer:
    """Renders pages of one site. Holds only values computed once and reused for every page."""

    def __init__(
        self,
        site: Site,
        data: SiteData,
        translations: dict[str, gettext.NullTranslations],
        assets: dict[str, str],
        compiled: Mapping[str, bytes] = MappingProxyType({}),
    ) -> None:
        """Templates are compiled in memory, never kept on disk: Jinja's bytecode cache is pickle and
        marshal, code that a cache folder restored from elsewhere could replace."""
        self.site = site
        self.config: SiteConfig = site.config
        self.data = data
        self.translations = translations
        self.assets = assets
        self.converter = Converter()
        self.root = self.config.root
        self.loader = _template_loader(self.root)
        self.uses = Uses()  # cleared at the start of every render
        self.bytecode = _SharedBytecode()
        self.bytecode.compiled.update(compiled)

    @cached_property
    def envs(self) -> dict[str, jinja2.Environment]:
        envs: dict[str, jinja2.Environment] = {}
        for lang in self.config.languages:
            env = _environment(lang, self.translations[lang.code], self.uses, self.loader, self.bytecode)
            env.globals.update(self._globals(lang))
            envs[lang.code] = env
        return envs

    def _globals(self, lang: Language) -> dict[str, Any]:
        site = self.site
        config = self.config
        data = self.data.for_lang(lang.code, config)
        return {
            "site": {
                "title": config.title.get(lang.code, ""),
                "base_url": config.base_url,
                "default_lang": config.default_lang,
                "languages": config.languages,
                "phone_region": config.phone_region,
            },
            "lang": lang,
            "data": data,
            "menu": site.menus[lang.code],
            "footer_menu": site.footer_menus[lang.code],
            "asset": self.asset,
            "url_for": lambda key, code=lang.code: self.url_for(key, code),
            "translate": self.translate,
            "home_url": page_url(lang.code, "index"),
        }

    def translate(self, lang: str, message: str, **values: Any) -> str:
        """A UI string in a given language: for pages that speak every language at once."""
        self.uses.catalogues.add(lang)
        text = self.translations[lang].gettext(message)
        return text % values if values else text

    def url_for(self, key: str, lang: str) -> str | None:
        """The URL of a page, noted as something the page being rendered depends on."""
        url = self.site.url_for(key, lang)
        self.uses.lookups[(key, lang)] = url
        return url

    def _made_from(self) -> dict[str, Any]:
        """The ``Rendered`` fields that say what the render read."""
        uses = self.uses
        return {
            "templates": tuple(sorted(uses.templates)),
            "lookups": tuple(sorted(uses.lookups.items())),
            "catalogues": tuple(sorted(uses.catalogues)),
        }

    def asset(self, name: str) -> str:
        try:
            return self.assets[name]
        except KeyError:
            raise SiteError(f"no asset named '{name}'", f"assets/{name}", 0, did_you_mean(name, self.assets)) from None

    def page_context(self, page: Page, content: Markup) -> dict[str, Any]:
        """What a page template sees besides the language's globals."""
        site = self.site
        config = self.config
        meta = page.source.meta
        versions = site.versions(page.key)
        canonical = page_url(page.text_lang, page.key) if page.fallback else page.url
        return {
            "page": {
                "key": page.key,
                "title": meta.title,
                "description": meta.description or config.title.get(page.lang, ""),
                "url": page.url,
                "content": content,
                "fallback": page.fallback,
                "text_lang": page.text_lang,
                "date": meta.date,
                "updated": meta.updated,
                "source": page.source.path,
            },
            "canonical": config.absolute(canonical),
            "alternates": [alt._asdict() for alt in versions.alternates],  # templates see the mappings they always saw
            "og_alternates": [config.language(code).og_locale for code in versions.langs if code != page.lang],
            "switcher": [
                {"lang": lang, "url": url, "current": lang.code == page.lang} for lang, url in versions.switcher
            ],
        }

    def render_page(self, page: Page) -> Rendered:
        """Markdown and template → the page's HTML. Template mistakes become ``SiteError``s."""
        lang = page.lang
        self.uses.clear()
        source = page.source
        try:
            html, links, ids = self.converter.convert(source.body, page.source_dir, lambda key: self.url_for(key, lang))
        except NestingTooDeep as exc:
            raise SiteError(
                str(exc),
                source.path,
                source.body_line + exc.line,
                "lists and quotes this deep cannot be read; indent this line less",
            ) from None
        problems = tuple(
            Problem(
                source.path,
                source.body_line + unsafe.line,
                f"{unsafe.what} in the page",
                RAW_HTML_HINT,
                "warning",
                RAW_HTML_KIND,
                page.lang,
            )
            for unsafe in links.unsafe
        )
        name = page.source.meta.template or (
            "home.html"
            if page.key == "index" and (self.root / TEMPLATES_DIR / "home.html").is_file()
            else DEFAULT_TEMPLATE
        )
        try:
            template = self.envs[lang].get_template(name)
        except (RecursionError, ValueError) as exc:  # Jinja's parser recurses; int() refuses 4,300 digits
            raise SiteError(
                f"template error: Jinja cannot read this template ({type(exc).__name__})",
                f"{TEMPLATES_DIR}/{name}",
                0,
                f"look for brackets nested very deep or a very long number; while rendering {page.source.path}",
            ) from None
        except jinja2.TemplateNotFound as exc:
            if exc.name == name:
                line = page.source.meta_lines.get("template", 1)
                raise SiteError(
                    f"template '{name}' does not exist",
                    page.source.path,
                    line,
                    did_you_mean(name, template_names(self.root)),
                ) from None
            raise self._template_error(exc, page.source.path) from None
        except jinja2.TemplateError as exc:
            raise self._template_error(exc, page.source.path) from None
        context = self.page_context(page, Markup(html))
        output = self._render(template, context, page.source.path)
        return Rendered(
            page.output,
            output,
            page.source.path,
            tuple(links.links),
            tuple(ids),
            tuple(links.images),
            **self._made_from(),
            problems=problems,
        )

    def render_special(self, name: str, output: str, context: dict[str, Any]) -> Rendered:
        """A page outside any one language (the chooser, the 404 page), in the default environment."""
        env = self.envs[self.config.default_lang]
        self.uses.clear()
        try:
            template = env.get_template(name)
        except jinja2.TemplateError as exc:
            raise self._template_error(exc, output) from None
        html = self._render(template, context, output)
        return Rendered(output, html, output, **self._made_from())

    def _render(self, template: jinja2.Template, context: dict[str, Any], shown: str) -> str:
        try:
            return with_policy(template.render(context))
        except SiteError:
            raise
        except Exception as exc:  # any template mistake; re-raised as a SiteError with the template's line
            raise self._template_error(exc, shown) from None

    def _template_error(self, exc: BaseException, shown: str) -> SiteError:
        folder = (self.root / TEMPLATES_DIR).resolve()
        path, line = "", 0
        if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
            path, line = exc.filename, exc.lineno or 0
        else:
            for frame in reversed(traceback.extract_tb(exc.__traceback__)):
                if frame.filename and Path(frame.filename).resolve().is_relative_to(folder):
                    path, line = frame.filename, frame.lineno or 0
                    break
        if path:
            path = Path(path).resolve().relative_to(self.root.resolve()).as_posix()
        message = getattr(exc, "message", None) or str(exc)
        hint = f"while rendering {shown}"
        if isinstance(exc, jinja2.TemplateNotFound):
            message = f"template '{exc.name}' does not exist"
            hint = f"{did_you_mean(str(exc.name), template_names(self.root))}; while rendering {shown}"
        elif isinstance(exc, jinja2.UndefinedError):
            hint = f"check the spelling of the name; while rendering {shown}"
            message = _undefined_message(message, self.root / path if path else None, line)
        if not path:
            return SiteError(f"template error: {message}", shown, 0, hint)
        return SiteError(f"template error: {message}", path, line, hint)


def _undefined_message(message: str, template: Path | None, line: int) -> str:
    """Jinja says "'dict object' has no attribute 'titel'"; name the expression instead: 'page.titel'."""
    match = re.fullmatch(r"'.+' has no attribute '(\w+)'", message)
    if match is None or template is None or not template.is_file():
        return message
    lines = template.read_text(encoding="utf-8", errors="replace").split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    found = re.search(r"([A-Za-z_][\w.]*)\." + re.escape(match.group(1)) + r"\b", text)
    return f"'{found.group(0)}' is undefined" if found else f"'{match.group(1)}' is undefined ({message})"


def _date_filter(lang: Language) -> Callable[..., str]:
    def format_filter(value: datetime.date, form: DateForm = "long") -> str:
        return format_page_date(value, lang, form)

    return format_filter

"""The build, stage by stage: load everything, render everything, then write once."""

from __future__ import annotations

import dataclasses
import gettext
from dataclasses import dataclass
from pathlib import Path

from .config import SiteConfig, load_config
from .content import PageSource, find_pages
from .data import SiteData, load_data
from .errors import BuildFailed, Collector, Problem, SiteError
from .i18n import load_translations
from .model import Site, build_model, page_url
from .output import Asset, check_unique, find_assets, headers_file, robots, sitemap, write_site
from .render import Rendered, Renderer


@dataclass(frozen=True)
class Loaded:
    """Everything read from the site's folder, validated, before any rendering."""

    config: SiteConfig
    sources: tuple[PageSource, ...]
    data: SiteData
    translations: dict[str, gettext.NullTranslations]
    site: Site
    assets: tuple[Asset, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Built:
    """A finished build: the bytes of every file, and the warnings it raised."""

    loaded: Loaded
    rendered: tuple[Rendered, ...]
    files: dict[str, bytes]
    problems: tuple[Problem, ...]


def load_site(root: Path, base_url: str | None = None) -> Loaded:
    """Read config, content, data, catalogues and assets; raise ``BuildFailed`` on any error."""
    problems = Collector()
    try:
        config = load_config(root)
    except SiteError as exc:
        raise BuildFailed([exc.problem]) from None
    if base_url:
        config = dataclasses.replace(config, base_url=base_url.rstrip("/"))
    sources = find_pages(config, problems)
    data = load_data(config, problems)
    translations = load_translations(config, problems)
    site = build_model(config, sources, problems)
    problems.raise_errors()
    assets = find_assets(root)
    return Loaded(config, tuple(sources), data, translations, site, tuple(assets), tuple(problems.problems))


def _line_of(source: PageSource, needle: str) -> int:
    index = source.body.find(needle)
    return source.body_line + source.body[:index].count("\n") if index >= 0 else source.body_line


def link_problems(loaded: Loaded, rendered: tuple[Rendered, ...]) -> list[Problem]:
    """Links to pages that do not exist, and #anchors that no heading has."""
    site = loaded.site
    ids = {r.output: set(r.ids) for r in rendered}
    sources = {page.output: page for page in site.pages}
    problems: list[Problem] = []
    for result in rendered:
        page = sources.get(result.output)
        if page is None or page.fallback:
            continue
        for link in result.links:
            line = _line_of(page.source, f"({link.href}")
            target = site.get(link.target_key, page.lang)
            if target is None:
                problems.append(
                    Problem(
                        page.source.path,
                        line,
                        f"link to a page that does not exist: '{link.href}'",
                        "check the file name; links point to .md files in the same language folder",
                        "warning",
                    )
                )
            elif link.fragment and link.fragment not in ids.get(target.output, set()):
                problems.append(
                    Problem(
                        page.source.path,
                        line,
                        f"link to a missing heading: '{link.href}'",
                        f"no heading in {target.source.path} has the id '{link.fragment}'",
                        "warning",
                    )
                )
        for src in result.images:
            problems.append(
                Problem(
                    page.source.path,
                    _line_of(page.source, f"({src}"),
                    f"image '{src}' has no alt text",
                    "describe the image inside the brackets: ![what it shows](file.jpg)",
                    "warning",
                )
            )
    return problems


def render_site(loaded: Loaded) -> tuple[tuple[Rendered, ...], list[Problem]]:
    """Render every page and the language-neutral pages; collect template errors."""
    problems = Collector()
    renderer = Renderer(loaded.site, loaded.data, loaded.translations, {a.name: a.url for a in loaded.assets})
    rendered: list[Rendered] = []
    for page in loaded.site.pages:
        try:
            rendered.append(renderer.render_page(page))
        except SiteError as exc:
            problems.catch(exc)
    config = loaded.config
    languages = [
        {
            "lang": lang,
            "title": config.title.get(lang.code, ""),
            "url": page_url(lang.code, "index"),
            "help_url": loaded.site.url_for("help", lang.code),
        }
        for lang in config.languages
    ]
    special = {
        "languages": languages,
        "canonical": config.absolute("/"),
        "alternates": [
            {"hreflang": lang.code, "href": config.absolute(page_url(lang.code, "index"))}
            for lang in config.languages
            if loaded.site.get("index", lang.code)
        ]
        + [{"hreflang": "x-default", "href": config.absolute("/")}],
    }
    for template, output in (("chooser.html", "index.html"), ("404.html", "404.html")):
        try:
            rendered.append(renderer.render_special(template, output, special))
        except SiteError as exc:
            problems.catch(exc)
    return tuple(rendered), problems.problems


def build_site(root: Path, out: Path, base_url: str | None = None, strict: bool = False) -> Built:
    """Build the site in ``root`` into ``out``; on any error raise ``BuildFailed`` and write nothing."""
    loaded = load_site(root, base_url)
    rendered, render_problems = render_site(loaded)
    problems = [*loaded.problems, *render_problems, *link_problems(loaded, rendered)]
    collector = Collector(problems)
    check_unique(((r.output, r.source) for r in rendered), collector)
    if strict:
        collector.problems = [p.as_error() for p in collector.problems]
    collector.raise_errors()
    files = {r.output: r.html.encode("utf-8") for r in rendered}
    files["sitemap.xml"] = sitemap(loaded.site).encode("utf-8")
    files["robots.txt"] = robots(loaded.site).encode("utf-8")
    files["_headers"] = headers_file().encode("utf-8")
    write_site(out, files, list(loaded.assets))
    return Built(loaded, rendered, files, tuple(sorted(collector.problems)))

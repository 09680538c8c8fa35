"""The build, stage by stage: load everything, render what is stale, check, then write once.

``build_site`` is the build that ``build`` and ``serve`` run. It keeps a cache beside the
output (see ``cache``) and renders only the outputs whose inputs changed (see ``incremental``),
on every core (see ``workers``). ``load_site`` and ``render_site`` are the plain, uncached
stages, for the editors' report (``check``).
"""

from __future__ import annotations

import dataclasses
import gc
import gettext
import shutil
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import (
    Manifest,
    build_lock,
    default_cache_dir,
    engine_fingerprint,
    folder_id,
    load_manifest,
    paused_gc,
    save_manifest,
)
from .config import SiteConfig, check_base_url, load_config
from .content import PageSource, find_pages
from .data import SiteData, data_files, load_data
from .errors import BuildFailed, Collector, Problem, SiteError
from .i18n import load_translations
from .incremental import Update, gather_inputs, plan_renders
from .inputs import FileIndex, PageScanner
from .links import found_links, page_link_problems
from .model import Site, build_model, page_url
from .output import (
    MARKER,
    Asset,
    check_output,
    find_assets,
    find_strays,
    headers_file,
    make_staging,
    publish_changes,
    publish_full,
    read_state,
    recover,
    remember_look,
    remove_leftovers,
    robots,
    sitemap,
)
from .workers import default_jobs, render_tasks

if TYPE_CHECKING:  # render imports Jinja and Markdown, which a build with nothing to render never needs
    from .render import Rendered

FindPages = Callable[[SiteConfig, Collector], list[PageSource]]


@dataclass(frozen=True)
class Loaded:
    """Everything read from the site's folder, validated, before any rendering.

    ``load_site`` gives each page source its body; ``build_site`` leaves bodies out (its
    renderers read each page's file as they render it), so its ``Loaded`` is for the model only.
    """

    config: SiteConfig
    data: SiteData
    translations: dict[str, gettext.NullTranslations]
    site: Site
    assets: tuple[Asset, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Built:
    """A finished build: what the site holds, what this build changed, and the warnings it raised."""

    loaded: Loaded
    out: Path
    outputs: tuple[str, ...]  # every file of the site, relative to ``out``, sorted
    written: tuple[str, ...]  # files this build wrote because they are new or changed
    removed: tuple[str, ...]  # files this build deleted because their source is gone
    rendered: int  # outputs rendered; the others were up to date
    full: bool  # True when the whole output was rebuilt from scratch (no usable cache)
    problems: tuple[Problem, ...]


def load_site(
    root: Path,
    base_url: str | None = None,
    find: FindPages = find_pages,
    digest: Callable[[str], str] | None = None,
) -> Loaded:
    """Read config, content, data, catalogues and assets; raise ``BuildFailed`` on any error.

    ``find`` and ``digest`` let the cached build find pages and hash assets without reading
    files that did not change.
    """
    problems = Collector()
    try:
        config = load_config(root)
    except SiteError as exc:
        raise BuildFailed([exc.problem]) from None
    if base_url is not None:
        try:
            config = dataclasses.replace(config, base_url=check_base_url(base_url, "--base-url", 0))
        except SiteError as exc:
            raise BuildFailed([exc.problem]) from None
    sources = find(config, problems)
    data = load_data(config, problems)
    translations = load_translations(config, problems)
    site = build_model(config, sources, problems)
    problems.raise_errors()
    assets = find_assets(root, digest)
    return Loaded(config, data, translations, site, tuple(assets), tuple(problems.problems))


def link_problems(loaded: Loaded, rendered: tuple[Rendered, ...]) -> list[Problem]:
    """Link and image problems of rendered pages (whose sources have their bodies)."""
    site = loaded.site
    found = {r.output: set(r.ids) for r in rendered}

    def ids(output: str) -> Collection[str]:
        return found.get(output, ())

    pages = {page.output: page for page in site.pages}
    problems: list[Problem] = []
    for result in rendered:
        page = pages.get(result.output)
        if page is None or page.fallback:
            continue
        links, images = found_links(page.source, result)
        problems.extend(page_link_problems(page, links, images, site, ids))
    return problems


def special_pages(loaded: Loaded) -> list[tuple[str, str, dict[str, Any]]]:
    """The pages outside any language: (template, output, context) of the chooser and the 404 page."""
    config = loaded.config
    site = loaded.site
    languages = [
        {
            "lang": lang,
            "title": config.title.get(lang.code, ""),
            "url": page_url(lang.code, "index"),
            "help_url": site.url_for("help", lang.code),
        }
        for lang in config.languages
    ]
    context = {
        "languages": languages,
        "canonical": config.absolute("/"),
        "alternates": [alt._asdict() for alt in site.versions("index").alternates],
    }
    return [("chooser.html", "index.html", context), ("404.html", "404.html", context)]


def render_site(loaded: Loaded) -> tuple[tuple[Rendered, ...], list[Problem]]:
    """Render every page and the language-neutral pages in this process; collect template errors."""
    from .render import Renderer

    problems = Collector()
    renderer = Renderer(loaded.site, loaded.data, loaded.translations, {a.name: a.url for a in loaded.assets})
    rendered: list[Rendered] = []
    for page in loaded.site.pages:
        try:
            rendered.append(renderer.render_page(page))
        except SiteError as exc:
            problems.catch(exc)
    for template, output, context in special_pages(loaded):
        try:
            rendered.append(renderer.render_special(template, output, context))
        except SiteError as exc:
            problems.catch(exc)
    return tuple(rendered), problems.problems


def build_site(
    root: Path,
    out: Path,
    base_url: str | None = None,
    strict: bool = False,
    *,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    incremental: bool = True,
    waiting: Callable[[], None] | None = None,
) -> Built:
    """Build the site in ``root`` into ``out``; on any error raise ``BuildFailed`` and change nothing.

    Only outputs whose inputs changed since the last build into ``out`` are rendered, and only
    files whose bytes changed are written. ``jobs`` is the number of processes (default: the
    cores); ``cache_dir`` defaults to ``.sitegen-cache/<name of out>`` beside ``out``;
    ``incremental=False`` ignores the cache and rebuilds everything. A build into an output that
    another build is writing waits for it, calling ``waiting`` first.
    """
    check_output(root, out, cache_dir)
    out = out.resolve()
    # The lock is the output's, wherever this build keeps its cache.
    with build_lock(default_cache_dir(out), waiting):
        recover(out)
        try:
            built = _build(root, out, base_url, strict, jobs, cache_dir or default_cache_dir(out), incremental)
            remove_leftovers(out)
            return built
        finally:
            gc.unfreeze()  # what paused_gc froze is the collector's again


def _build(
    root: Path,
    out: Path,
    base_url: str | None,
    strict: bool,
    jobs: int | None,
    cache_dir: Path,
    incremental: bool,
) -> Built:
    scanned_ns = time.time_ns()
    jobs = max(1, jobs or default_jobs())
    engine = engine_fingerprint()
    with paused_gc():
        notices: list[Problem] = []  # a damaged cache: said in one line, then built from scratch
        previous = load_manifest(cache_dir, engine, root, out, notices=notices) if incremental else None
        state = read_state(out)
        index = FileIndex(root, previous)
        scanner = PageScanner(index, previous, jobs)
        loaded = load_site(root, base_url, scanner.find, index.digest)
        site = loaded.site
        data_names = [p.name for p in data_files(root)]
        inputs = gather_inputs(site, index, data_names, loaded.assets, previous.site if previous else "")
        plan = plan_renders(site, inputs, special_pages(loaded), previous, out)

    staging = make_staging(out)
    try:
        assets = {a.name: a.url for a in loaded.assets}
        results = render_tasks(plan.tasks, jobs, site, loaded.data, loaded.translations, assets, staging)
        with paused_gc():
            problems = Collector([*notices, *loaded.problems])
            update = Update(out, staging, previous)
            update.add_renders(results, plan, inputs, problems)
            _check(site, update, problems, strict)
            update.add_extras({"sitemap.xml": lambda: sitemap(site), "robots.txt": lambda: robots(site)}, inputs.site)
            update.add_extras({"_headers": headers_file, MARKER: str}, "")
            update.add_assets(loaded.assets)
            written, removed = update.changes()
        published = True
        if previous is None:
            publish_full(staging, out)
        else:
            # Strays in the output matter only to a build that would otherwise leave it as it is: one
            # that changes something publishes the back tree instead, which gets a look of its own.
            strays = (
                None if written or removed else find_strays(out, previous.outputs, state.checked_ns if state else 0)
            )
            if strays is None or strays.paths or strays.odd:
                fresh = set(written)
                kept = {name: previous.outputs[name].stat for name in update.records if name not in fresh}
                clean_since = state.checked_ns if state else 0  # when the output was last known to hold no stray
                looked = (strays.paths, strays.started_ns) if strays else ((), clean_since)
                publish_changes(out, staging, None if strays and strays.odd else state, kept, written, removed, *looked)
            else:
                published = False
                shutil.rmtree(staging)
                remember_look(out, state, strays)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise

    with paused_gc():
        records = update.settled()
        if published or plan.tasks or (previous is not None and index.changed(previous)):
            manifest = Manifest(
                engine,
                str(root.resolve()),
                folder_id(out),
                scanned_ns,
                inputs.site,
                index.files,
                scanner.sources,
                records,
            )
            save_manifest(cache_dir, manifest, previous)
    return Built(
        loaded,
        out,
        tuple(sorted(records)),
        tuple(written),
        tuple(removed),
        len(plan.tasks),
        previous is None,
        tuple(sorted(problems.problems)),
    )


def _check(site: Site, update: Update, problems: Collector, strict: bool) -> None:
    """Link problems over the whole site (cached pages included); raise on errors.

    Two pages with one URL are refused earlier, by ``build_model``.
    """
    problems.problems.extend(update.link_problems(site))
    if strict:
        problems.problems = [p.as_error() for p in problems.problems]
    problems.raise_errors()

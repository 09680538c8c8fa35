"""The build, stage by stage: load → model → render → check → write.

The plain pipeline is ``_build_plain`` (``build --no-cache``): ``load_site``, then ``render_and_check``
of every output, then the whole site written and published. ``check`` runs ``check_build``, the same
stages up to the check, which publishes nothing. ``_build`` (``build``, ``serve``) runs the same
stages with a cache beside the output (see ``cache``) layered over them: a planner in front
(``incremental.plan_renders``: of every render, the ones whose output is not up to date) and a
recorder behind (``incremental.SiteOutputs``: what each output used). Renders run on every core
(see ``workers``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import gettext
import shutil
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from .cache import (
    Manifest,
    Output,
    build_lock,
    default_cache_dir,
    engine_fingerprint,
    folder_id,
    load_manifest,
    paused_gc,
    save_manifest,
)
from .config import SiteConfig, check_base_url, load_config
from .data import SiteData, data_files, load_data
from .errors import BuildFailed, Collector, Problem, SiteError
from .i18n import load_translations
from .incremental import SiteOutputs, gather_inputs, plan_renders
from .inputs import FileIndex, PageScanner
from .links import page_link_problems
from .model import Site, build_model, page_url
from .output import (
    MARKER,
    Asset,
    check_output,
    copy_asset,
    find_assets,
    find_strays,
    headers_file,
    look_at_output,
    make_staging,
    output_folders,
    publish_changes,
    publish_full,
    read_state,
    recover,
    remember_look,
    robots,
    sitemap,
    write_file,
)
from .workers import (
    Bodies,
    InBackground,
    PageFindings,
    PageTask,
    RenderedOutput,
    SpecialTask,
    Task,
    compile_templates,
    default_jobs,
    render_tasks,
)


@dataclass(frozen=True)
class Loaded:
    """Everything read from the site's folder, validated, before any rendering: the load and model stages.

    The model's page sources carry no body: ``bodies`` holds those of the page files this build
    read, and a renderer reads the others (whose front matter came from the cache) from their files.
    """

    config: SiteConfig
    data: SiteData
    translations: dict[str, gettext.NullTranslations]
    site: Site
    assets: tuple[Asset, ...]
    problems: tuple[Problem, ...]
    bodies: Bodies | None


@dataclass(frozen=True)
class Checked:
    """The stages up to the check: what ``check`` reports of the build (errors, warnings, notices)."""

    loaded: Loaded
    renders: tuple[RenderedOutput, ...]
    problems: tuple[Problem, ...]  # sorted, as ``Built.problems``


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


def load_site(root: Path, base_url: str | None = None, scanner: PageScanner | None = None) -> Loaded:
    """Read config, content, data, catalogues and assets, and make the model; raise ``BuildFailed`` on
    any error. ``scanner`` finds pages and hashes files, and with a cache skips what did not change."""
    scanner = scanner or PageScanner(FileIndex(root, None), None, 1)
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
    sources = scanner.find(config, problems)
    data = load_data(config, problems)
    translations = load_translations(config, problems)
    site = build_model(config, sources, problems)
    problems.raise_errors()
    assets = find_assets(root, scanner.index.digest)
    return Loaded(config, data, translations, site, tuple(assets), tuple(problems.problems), scanner.bodies)


def special_pages(loaded: Loaded) -> list[SpecialTask]:
    """The pages outside any language: the chooser and the 404 page."""
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
    return [SpecialTask("chooser.html", "index.html", context), SpecialTask("404.html", "404.html", context)]


def all_tasks(loaded: Loaded) -> list[Task]:
    """Every render of the site: each page, then the pages outside any language."""
    return [*map(PageTask, range(len(loaded.site.pages))), *special_pages(loaded)]


def render(
    loaded: Loaded,
    tasks: Sequence[Task],
    jobs: int,
    staging: Path | None,
    problems: Collector,
    compiled: Mapping[str, bytes] = MappingProxyType({}),
) -> list[RenderedOutput]:
    """The render stage: each task's output, written into ``staging`` if there is one; its errors
    (a template mistake) go to ``problems``. Pages are rendered in the order of their files, so that
    a fallback page follows the page whose text it shows, in the same process (see ``with_body``)."""
    pages = loaded.site.pages
    tasks = sorted(tasks, key=lambda task: pages[task.page].source.path if isinstance(task, PageTask) else "")
    assets = {a.name: a.url for a in loaded.assets}
    results = render_tasks(
        tasks, jobs, loaded.site, loaded.data, loaded.translations, assets, loaded.bodies, staging, compiled
    )
    problems.problems.extend(result for result in results if isinstance(result, Problem))
    return [result for result in results if not isinstance(result, Problem)]


def check_links(site: Site, findings: Mapping[str, PageFindings | Output]) -> list[Problem]:
    """The check stage: each page's own problems, and its links to #anchors checked against the
    headings of the page they point to. ``findings``: for each output, what its render found (or,
    for an output kept from the last build, what the cache recorded it found)."""

    def ids(output: str) -> Collection[str]:
        found = findings.get(output)
        return found.ids.split("\n") if found is not None else ()

    problems: list[Problem] = []
    for page in site.pages:
        found = findings.get(page.output)
        if found is None or page.fallback:
            continue
        problems.extend(found.problems)
        problems.extend(page_link_problems(page, found.anchors, (), site, ids))
    return problems


def render_and_check(
    loaded: Loaded, jobs: int, staging: Path | None, compiled: Mapping[str, bytes] = MappingProxyType({})
) -> Checked:
    """The render and check stages of every output, with no cache: each written into ``staging`` if
    there is one, and every problem of the site (the load's, the renders', the links')."""
    problems = Collector(list(loaded.problems))
    renders = render(loaded, all_tasks(loaded), jobs, staging, problems, compiled)
    problems.problems.extend(check_links(loaded.site, {made.output: made.findings for made in renders}))
    return Checked(loaded, tuple(renders), tuple(sorted(problems.problems)))


def verdict(problems: Sequence[Problem], strict: bool) -> tuple[Problem, ...]:
    """The problems as a build reports them (with ``strict``, each warning an error), sorted; raise
    ``BuildFailed`` if any is an error: then nothing is written."""
    said = Collector([p.as_error() for p in problems] if strict else list(problems))
    said.raise_errors()
    return tuple(sorted(said.problems))


def whole_site_files(site: Site) -> dict[str, Callable[[], str]]:
    """The files made from the whole site, beside its pages (each made only when it is written)."""
    return {"sitemap.xml": lambda: sitemap(site), "robots.txt": lambda: robots(site)}


ENGINE_FILES: dict[str, Callable[[], str]] = {"_headers": headers_file, MARKER: str}  # the same for every site


@contextlib.contextmanager
def staged(out: Path) -> Iterator[Path]:
    """A staging folder beside ``out`` for the site being written, removed if the build fails."""
    staging = make_staging(out)
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_build(root: Path, base_url: str | None = None, jobs: int | None = None) -> Checked:
    """What a build of the site would report, from the same stages, publishing nothing and using
    no cache. Raise ``BuildFailed`` if the site does not load."""
    jobs = max(1, jobs or default_jobs())
    loaded = load_site(root, base_url, PageScanner(FileIndex(root, None), None, jobs))
    return render_and_check(loaded, jobs, None)


def build_site(
    root: Path,
    out: Path,
    base_url: str | None = None,
    strict: bool = False,
    *,
    jobs: int | None = None,
    cache_dir: Path | None = None,
    cache: bool = True,
    waiting: Callable[[], None] | None = None,
) -> Built:
    """Build the site in ``root`` into ``out``; on any error raise ``BuildFailed`` and change nothing.

    Only outputs whose inputs changed since the last build into ``out`` are rendered, and only
    files whose bytes changed are written. ``jobs`` is the number of processes (default: the
    cores); ``cache_dir`` defaults to ``.sitegen-cache/<name of out>`` beside ``out``;
    ``cache=False`` runs the plain pipeline (``_build_plain``), which reads and writes no cache. A
    build into an output that another build is writing waits for it, calling ``waiting`` first.
    """
    check_output(root, out, cache_dir)
    out = out.resolve()
    jobs = max(1, jobs or default_jobs())
    # The lock is the output's, wherever this build keeps its cache.
    with build_lock(default_cache_dir(out), waiting):
        recover(out)
        ahead = InBackground(compile_templates, root, fork=jobs > 1)  # on another core, while the inputs are read
        try:
            if cache:
                return _build(root, out, base_url, strict, jobs, cache_dir or default_cache_dir(out), ahead)
            return _build_plain(root, out, base_url, strict, jobs, ahead)
        finally:
            ahead.close()
            gc.unfreeze()  # what paused_gc froze is the collector's again


def _build_plain(
    root: Path, out: Path, base_url: str | None, strict: bool, jobs: int, ahead: InBackground[dict[str, bytes]]
) -> Built:
    """The plain pipeline: load, render and check every output, write the whole site into a staging
    folder, and put it in the place of the output at once. No cache is read or written."""
    loaded = load_site(root, base_url, PageScanner(FileIndex(root, None), None, jobs))  # load → model
    files = {**whole_site_files(loaded.site), **ENGINE_FILES}
    with staged(out) as staging:
        checked = render_and_check(loaded, jobs, staging, ahead.result_if_done() or {})  # render → check
        problems = verdict(checked.problems, strict)
        for name, make in files.items():  # write
            write_file(staging, name, make().encode("utf-8"))
        for asset in loaded.assets:
            copy_asset(staging, asset)
        publish_full(staging, out)
    outputs = tuple(sorted([*(made.output for made in checked.renders), *files, *(a.output for a in loaded.assets)]))
    return Built(loaded, out, outputs, outputs, (), len(checked.renders), True, problems)


def _build(
    root: Path,
    out: Path,
    base_url: str | None,
    strict: bool,
    jobs: int,
    cache_dir: Path,
    ahead: InBackground[dict[str, bytes]],
) -> Built:
    """The same stages as ``_build_plain``, with the cache's planner in front and its recorder behind."""
    scanned_ns = time.time_ns()
    engine = engine_fingerprint()
    with paused_gc():
        notices: list[Problem] = []  # a damaged cache: said in one line, then built from scratch
        previous = load_manifest(cache_dir, engine, root, out, notices=notices)
        swap = read_state(out)
        # The look at the output (which files are as recorded, which folders changed) needs no input:
        # on another core, it is done by the time the inputs are read.
        folders = output_folders(previous.outputs, swap) if previous else set()
        recorded = {name: output.stat for name, output in previous.outputs.items()} if previous else {}
        look = InBackground(look_at_output, out, recorded, swap, folders, fork=jobs > 1 and bool(recorded))
        try:
            index = FileIndex(root, previous)
            scanner = PageScanner(index, previous, jobs)
            loaded = load_site(root, base_url, scanner)  # load → model
            site = loaded.site
            data_names = [p.name for p in data_files(root)]
            inputs = gather_inputs(site, index, data_names, loaded.assets, previous.site if previous else "")
            seen = look.result()
        finally:
            look.close()
        plan = plan_renders(site, inputs, all_tasks(loaded), previous, seen.moved)  # the planner

    with staged(out) as staging:
        problems = Collector([*notices, *loaded.problems])
        compiled = (ahead.result_if_done() if plan.tasks else None) or {}  # what is not compiled yet is, here
        renders = render(loaded, plan.tasks, jobs, staging, problems, compiled)  # render
        with paused_gc():
            outputs = SiteOutputs(out, staging, previous)
            outputs.add_renders(renders, plan, inputs)  # the recorder
            problems.problems.extend(check_links(site, outputs.records))  # check
            said = verdict(problems.problems, strict)
            outputs.add_extras(whole_site_files(site), inputs.site)
            outputs.add_extras(ENGINE_FILES, "")
            outputs.add_assets(loaded.assets)
            written, removed = outputs.changes()
        published = True  # write
        if previous is None:
            publish_full(staging, out)
        else:
            # Strays in the output matter only to a build that would otherwise leave it as it is: one
            # that changes something publishes the back tree instead, which gets a look of its own.
            strays = (
                None
                if written or removed
                else find_strays(out, previous.outputs, swap.checked_ns if swap else 0, looked=(seen.site, folders))
            )
            if strays is None or strays.paths or strays.odd:
                fresh = set(written)
                kept = {name: previous.outputs[name].stat for name in outputs.records if name not in fresh}
                clean_since = swap.checked_ns if swap else 0  # when the output was last known to hold no stray
                stray_paths, looked_ns = (strays.paths, strays.started_ns) if strays else ([], clean_since)
                usable = None if strays and strays.odd else swap
                back = (seen.back, folders) if seen.back else None
                publish_changes(out, staging, usable, kept, written, removed, stray_paths, looked_ns, back)
            else:
                published = False
                shutil.rmtree(staging)
                remember_look(out, swap, strays)

    with paused_gc():
        records = outputs.settled()
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
        said,
    )

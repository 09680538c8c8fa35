"""What a build must redo: the outputs whose inputs changed, and nothing else.

An output is up to date when its file is as the last build left it and every input recorded in
its ``Deps`` is unchanged: its language's shared inputs (config, data, assets, menus, its
catalogue, the list of templates), its page's text and which translations exist, the templates
its render loaded, the answers ``url_for`` gave it, and the catalogues ``translate()`` read. So an
edit to one page re-renders that page, its translations (their language switchers and hreflang
links), and the pages that link to it only if the page appeared or disappeared; a title in a
menu re-renders every page of its language; a template re-renders the pages that used it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cache import Deps, Manifest, Output, digest_bytes, output_stat
from .content import CONTENT_DIR, TEMPLATES_DIR
from .data import DATA_DIR
from .errors import Collector, Problem
from .i18n import catalogue_path
from .inputs import FileIndex
from .links import page_link_problems
from .model import Site
from .output import Asset, copy_asset, write_file
from .source import inside_project, walk_files
from .workers import Made, PageTask, Result, SpecialTask, Task

UNKNOWN = (0, 0, 0)  # the stat of an output not written yet


def _hash(*parts: object) -> str:
    """A digest of plain values (frozen dataclasses, tuples, strings): of their repr."""
    return digest_bytes(repr(parts).encode("utf-8"))


@dataclass(frozen=True)
class Inputs:
    """The digests a build compares with each output's ``Deps``."""

    states: dict[str, str]  # lang → digest of that language's shared inputs
    templates: dict[str, str]  # template name → digest
    catalogues: dict[str, str]  # lang → digest of its catalogue ("" if it has none)
    sources: dict[str, str]  # page file → digest
    site: str  # digest of the config and of every page's key, language and kind: what the sitemap shows
    same_site: bool  # the same pages as in the last build: every url_for answers as it did
    url_for: Callable[[str, str], str | None] = lambda key, lang: None  # what url_for answers now: Site.url_for

    shared: dict[Any, Any] = field(default_factory=dict)  # one copy of each value many outputs share
    checked: dict[tuple[tuple[str, str], ...], bool] = field(default_factory=dict)

    def unchanged(self, deps: Deps, state: str, page: str) -> bool:
        """Whether every input an output was made from is still the same."""
        return (
            deps.state == state
            and deps.page == page
            and self._same(deps.templates, self.templates)
            and (self.same_site or all(self.url_for(*slot) == url for slot, url in deps.lookups))
            and self._same(deps.catalogues, self.catalogues)
        )

    def _same(self, used: tuple[tuple[str, str], ...], now: dict[str, str]) -> bool:
        """Whether each (name, digest) is current; answers are remembered, as most pages share one set."""
        same = self.checked.get(used)
        if same is None:
            same = self.checked[used] = all(now.get(name) == digest for name, digest in used)
        return same

    def deps(self, made: Made, state: str, page: str) -> Deps:
        rendered = made.rendered
        templates = tuple((name, self.templates.get(name, "")) for name in rendered.templates)
        catalogues = tuple((lang, self.catalogues.get(lang, "")) for lang in rendered.catalogues)
        share = self.shared.setdefault  # the cache stores a shared value once
        return Deps(state, page, share(templates, templates), rendered.lookups, share(catalogues, catalogues))


def gather_inputs(
    site: Site, index: FileIndex, data_names: Sequence[str], assets: Sequence[Asset], previous_site: str
) -> Inputs:
    """Digest every input once: templates, data, catalogues, and each language's shared state."""
    config = site.config
    root = config.root
    templates = {
        relative: index.digest(f"{TEMPLATES_DIR}/{relative}")
        for relative, _ in walk_files(inside_project(root, TEMPLATES_DIR))  # templates → / is not walked
    }
    catalogues = {code: index.digest(catalogue_path(code)) for code in config.codes}
    data = tuple((name, index.digest(f"{DATA_DIR}/{name}")) for name in data_names)
    shared = (config, data, tuple((a.name, a.output) for a in assets), tuple(sorted(templates)))
    states = {code: _hash(shared, site.menus[code], site.footer_menus[code], catalogues[code]) for code in config.codes}
    sources = {path: entry.digest for path, entry in index.files.items() if path.startswith(CONTENT_DIR + "/")}
    whole = _hash(config, "\n".join(f"{page.lang}/{page.key}:{int(page.fallback)}" for page in site.pages))
    return Inputs(states, templates, catalogues, sources, whole, whole == previous_site, site.url_for)


def page_parts(site: Site, inputs: Inputs) -> list[str]:
    """For each page: its own text, and which of its translations exist (switcher, hreflang, canonical)."""
    codes = site.config.codes
    presence: dict[str, str] = {}  # the same for every language of a key
    parts: list[str] = []
    for page in site.pages:
        found = presence.get(page.key)
        if found is None:
            others = [site.index.get((page.key, code)) for code in codes]
            found = presence[page.key] = " ".join(
                f"{code}:{'-' if other is None else int(other.fallback)}"
                for code, other in zip(codes, others, strict=True)
            )
        path = page.source.path
        parts.append(f"{path}\0{inputs.sources.get(path, '')}\0{int(page.fallback)}\0{found}")
    return parts


@dataclass
class Plan:
    """The renders a build must do, and the outputs it keeps from the last one."""

    tasks: list[Task] = field(default_factory=list)
    parts: dict[str, tuple[str, str]] = field(default_factory=dict)  # output → (state, page) of its Deps
    kept: dict[str, Output] = field(default_factory=dict)


def plan_renders(
    site: Site,
    inputs: Inputs,
    specials: Sequence[tuple[str, str, dict[str, Any]]],
    previous: Manifest | None,
    out: Path,
) -> Plan:
    """Compare every page and special page with what the cache says it was made from."""
    plan = Plan()
    old_outputs = previous.outputs if previous else {}
    folder = str(out)

    def stale(output: str, state: str, part: str) -> tuple[bool, str | None]:
        """Whether the output must be rendered, and the digest of its file in the output if intact."""
        old = old_outputs.get(output)
        if old is None:
            return True, None
        intact = output_stat(f"{folder}/{output}") == old.stat
        if intact and old.deps is not None and inputs.unchanged(old.deps, state, part):
            plan.kept[output] = old
            return False, None
        return True, old.digest if intact else None

    for i, (page, part) in enumerate(zip(site.pages, page_parts(site, inputs), strict=True)):
        state = inputs.states[page.lang]
        must, digest = stale(page.output, state, part)
        if must:
            plan.tasks.append(PageTask(i, digest))
            plan.parts[page.output] = (state, part)
    for template, output, context in specials:
        state, part = inputs.states[site.config.default_lang], _hash(template, context)
        must, digest = stale(output, state, part)
        if must:
            plan.tasks.append(SpecialTask(template, output, context, digest))
            plan.parts[output] = (state, part)
    return plan


class Update:
    """The outputs of a build as it goes: the cache's record of each, and the files written to staging."""

    def __init__(self, out: Path, staging: Path, previous: Manifest | None) -> None:
        self.out = out
        self.staging = staging
        self.old = previous.outputs if previous else {}
        self.records: dict[str, Output] = {}
        self.made: dict[str, Made] = {}  # what this build rendered
        self.written: list[str] = []

    def add_renders(self, results: Sequence[Result], plan: Plan, inputs: Inputs, problems: Collector) -> None:
        """The outputs kept from the last build, and the rendered ones; render errors go to ``problems``."""
        self.records.update(plan.kept)
        for result in results:
            if isinstance(result, Problem):
                problems.add(result)
                continue
            state, part = plan.parts[result.output]
            deps = inputs.deps(result, state, part)
            anchors = tuple(link for link in result.links if link[2])
            self.records[result.output] = Output(
                result.digest, UNKNOWN, deps, anchors=anchors, ids="\n".join(result.rendered.ids)
            )
            self.made[result.output] = result
            if result.written:
                self.written.append(result.output)

    def add_extras(self, extras: dict[str, Callable[[], str]], key: str) -> None:
        """Files made from the whole site; not even generated when ``key`` (what they show) is unchanged."""
        for name, make in extras.items():
            old = self.old.get(name)
            if old is not None and old.deps == Deps(key, "") and output_stat(self.out / name) == old.stat:
                self.records[name] = old
                continue
            content = make().encode("utf-8")
            digest = digest_bytes(content)
            self.records[name] = Output(digest, UNKNOWN, Deps(key, ""))
            if not self._intact(name, digest):
                write_file(self.staging, name, content)
                self.written.append(name)

    def add_assets(self, assets: Sequence[Asset]) -> None:
        """Assets are copied when their (content-hashed) name is new, or their copy was changed by hand."""
        for asset in assets:
            old = self.old.get(asset.output)
            if old is not None and self._intact(asset.output, asset.output):
                self.records[asset.output] = old
                continue
            self.records[asset.output] = Output(asset.output, UNKNOWN)  # its name holds its digest
            copy_asset(self.staging, asset)
            self.written.append(asset.output)

    def _intact(self, name: str, digest: str) -> bool:
        old = self.old.get(name)
        return old is not None and old.digest == digest and output_stat(self.out / name) == old.stat

    def link_problems(self, site: Site) -> list[Problem]:
        """Link problems of every page: checked now for a page rendered now, from the cache for the others.

        A rendered page's warnings that only its own inputs can change (dead links, images without
        alt text, raw HTML removed from it) are kept in its record. A page kept from the cache reuses them; its links to
        #anchors are checked again, as the headings of the page they point to may have changed.
        """
        records = self.records

        def ids(output: str) -> Collection[str]:
            record = records.get(output)
            return record.ids.split("\n") if record is not None else ()

        problems: list[Problem] = []
        for page in site.pages:
            record = records.get(page.output)
            if record is None or page.fallback:
                continue
            made = self.made.get(page.output)
            if made is not None:
                plain = [link for link in made.links if not link[2]]
                found = [*made.rendered.problems, *page_link_problems(page, plain, made.images, site, ids)]
                record = records[page.output] = record._replace(problems=tuple(found))
            problems.extend(record.problems)
            problems.extend(page_link_problems(page, record.anchors, (), site, ids))
        return problems

    def changes(self) -> tuple[list[str], list[str]]:
        """The files written to staging, and the outputs of the last build that this one does not make."""
        return sorted(self.written), sorted(set(self.old) - set(self.records))

    def settled(self) -> dict[str, Output]:
        """The records with the stat of each file as it now is in the output."""
        written = set(self.written)
        records = {}
        for name, record in self.records.items():
            if name in written:
                record = record._replace(stat=output_stat(self.out / name) or UNKNOWN)
            elif record.stat == UNKNOWN:  # rendered again to the same bytes: the file is the old one
                record = record._replace(stat=self.old[name].stat)
            records[name] = record
        return records

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
from typing import Any, NamedTuple

from .cache import Deps, Manifest, Output, digest_bytes, output_stat
from .content import CONTENT_DIR, TEMPLATES_DIR
from .data import DATA_DIR
from .i18n import catalogue_path
from .inputs import FileIndex
from .model import Site
from .output import Asset, copy_asset, write_file
from .source import inside_project, is_hidden, walk_files
from .workers import PageTask, RenderedOutput, Task

UNKNOWN = (0, 0, 0)  # the stat of an output not written yet


def _hash(*parts: object) -> str:
    """A digest of plain values (frozen dataclasses, tuples, strings): of their repr."""
    return digest_bytes(repr(parts).encode("utf-8"))


@dataclass(frozen=True)
class Inputs:
    """The digests of this build's inputs, which a build compares with each output's ``Deps``."""

    shared: dict[str, str]  # lang → digest of that language's shared inputs
    templates: dict[str, str]  # template name → digest
    catalogues: dict[str, str]  # lang → digest of its catalogue ("" if it has none)
    sources: dict[str, str]  # page file → digest
    site: str  # digest of the config and of every page's key, language and kind: what the sitemap shows
    same_site: bool  # the same pages as in the last build: every url_for answers as it did
    url_for: Callable[[str, str], str | None]  # what url_for answers now: Site.url_for


class InputDigests(NamedTuple):
    """The first two parts of an output's ``Deps``, known before it is rendered."""

    shared: str  # its language's shared inputs
    page: str  # its page's text and which translations exist (for a special page: its context)


def gather_inputs(
    site: Site, index: FileIndex, data_names: Sequence[str], assets: Sequence[Asset], previous_site: str
) -> Inputs:
    """Digest every input once: templates, data, catalogues, and each language's shared inputs."""
    config = site.config
    root = config.root
    templates = {
        relative: index.digest(f"{TEMPLATES_DIR}/{relative}")
        for relative, _ in walk_files(inside_project(root, TEMPLATES_DIR))  # templates → / is not walked
        if not is_hidden(relative)
    }
    catalogues = {code: index.digest(catalogue_path(code)) for code in config.codes}
    data = tuple((name, index.digest(f"{DATA_DIR}/{name}")) for name in data_names)
    common = (config, data, tuple((a.name, a.output) for a in assets), tuple(sorted(templates)))
    shared = {code: _hash(common, site.menus[code], site.footer_menus[code], catalogues[code]) for code in config.codes}
    sources = {path: entry.digest for path, entry in index.files.items() if path.startswith(CONTENT_DIR + "/")}
    whole = _hash(config, "\n".join(f"{page.lang}/{page.key}:{int(page.fallback)}" for page in site.pages))
    return Inputs(shared, templates, catalogues, sources, whole, whole == previous_site, site.url_for)


def page_inputs(site: Site, inputs: Inputs) -> list[str]:
    """For each page: its own text, and which of its translations exist (switcher, hreflang, canonical)."""
    codes = site.config.codes
    presence: dict[str, str] = {}  # the same for every language of a key
    digests: list[str] = []
    for page in site.pages:
        found = presence.get(page.key)
        if found is None:
            others = [site.index.get((page.key, code)) for code in codes]
            found = presence[page.key] = " ".join(
                f"{code}:{'-' if other is None else int(other.fallback)}"
                for code, other in zip(codes, others, strict=True)
            )
        path = page.source.path
        digests.append(f"{path}\0{inputs.sources.get(path, '')}\0{int(page.fallback)}\0{found}")
    return digests


@dataclass
class Plan:
    """The renders a build must do, and the outputs it keeps from the last one."""

    tasks: list[Task] = field(default_factory=list)
    inputs_of: dict[str, InputDigests] = field(default_factory=dict)  # output → what its render starts from
    kept: dict[str, Output] = field(default_factory=dict)


def plan_renders(
    site: Site, inputs: Inputs, tasks: Sequence[Task], previous: Manifest | None, moved: Collection[str]
) -> Plan:
    """The planner: of every render the stages would do, those whose output is not up to date.

    An output is up to date when its file is as the last build left it (it is not among the ``moved``
    that ``output.look_at_output`` found) and every input its ``Deps`` recorded is unchanged."""
    plan = Plan()
    old_outputs = previous.outputs if previous else {}
    same: dict[tuple[tuple[str, str], ...], bool] = {}  # most outputs share one set of templates, one of catalogues

    def current(used: tuple[tuple[str, str], ...], now: dict[str, str]) -> bool:
        """Whether each (name, digest) is current."""
        answer = same.get(used)
        if answer is None:
            answer = same[used] = all(now.get(name) == digest for name, digest in used)
        return answer

    def unchanged(deps: Deps, shared: str, page: str) -> bool:
        return (
            deps.shared == shared
            and deps.page == page
            and current(deps.templates, inputs.templates)
            and (inputs.same_site or all(inputs.url_for(*slot) == url for slot, url in deps.lookups))
            and current(deps.catalogues, inputs.catalogues)
        )

    pages = page_inputs(site, inputs)
    default = site.config.default_lang
    for task in tasks:
        if isinstance(task, PageTask):
            page = site.pages[task.page]
            output, shared, page_digest = page.output, inputs.shared[page.lang], pages[task.page]
        else:
            output, shared, page_digest = task.output, inputs.shared[default], _hash(task.template, task.context)
        old = old_outputs.get(output)
        intact = old is not None and output not in moved
        if old is not None and intact and old.deps is not None and unchanged(old.deps, shared, page_digest):
            plan.kept[output] = old
            continue
        plan.tasks.append(task._replace(previous=old.digest if old is not None and intact else None))
        plan.inputs_of[output] = InputDigests(shared, page_digest)
    return plan


class SiteOutputs:
    """The outputs of a build as it goes: the record of each (what it was made from, what the check
    stage needs of it), and the files written to staging."""

    def __init__(self, out: Path, staging: Path, previous: Manifest | None) -> None:
        self.out = out
        self.staging = staging
        self.old = previous.outputs if previous else {}
        self.records: dict[str, Output] = {}
        self.written: list[str] = []
        self.interned: dict[Any, Any] = {}  # one copy of each value many records share

    def add_renders(self, renders: Sequence[RenderedOutput], plan: Plan, inputs: Inputs) -> None:
        """The outputs kept from the last build, and the rendered ones with what each used: the recorder."""
        self.records.update(plan.kept)
        intern = self.interned.setdefault
        for made in renders:
            used = made.rendered
            templates = tuple((name, inputs.templates.get(name, "")) for name in used.templates)
            catalogues = tuple((lang, inputs.catalogues.get(lang, "")) for lang in used.catalogues)
            shared, page = plan.inputs_of[made.output]
            deps = Deps(shared, page, intern(templates, templates), used.lookups, intern(catalogues, catalogues))
            self.records[made.output] = Output(made.digest, UNKNOWN, deps, *made.findings)
            if made.written:
                self.written.append(made.output)

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

    def changes(self) -> tuple[list[str], list[str]]:
        """The files written to staging, and the outputs of the last build that this one does not make."""
        return sorted(self.written), sorted(set(self.old) - set(self.records))

    def settled(self) -> dict[str, Output]:
        """The records with the stat of each file as it now is in the output."""
        written = set(self.written)
        records = {}
        prefix = f"{self.out}/"
        for name, record in self.records.items():
            if name in written:
                record = record._replace(stat=output_stat(prefix + name) or UNKNOWN)
            elif record.stat == UNKNOWN:  # rendered again to the same bytes: the file is the old one
                record = record._replace(stat=self.old[name].stat)
            records[name] = record
        return records

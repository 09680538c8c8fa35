"""The editors' report: what is missing, stale, untranslated or broken, per language.

A translation records the hash of its source page (``source_hash`` in its front
matter) when it is marked up to date; it is stale as soon as the source's hash
differs. The hash lives in the files, so it survives a fresh clone and needs no git.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import SiteConfig, load_config
from .content import CONTENT_DIR, file_digest, page_key, split_front_matter
from .errors import BuildFailed, Level, Problem, SiteError, counted, did_you_mean, merge_repeats
from .i18n import catalogue_status
from .markup import RAW_HTML_KIND
from .pipeline import Checked, Loaded, check_build
from .source import decode_text, inside_project, plain_relative, read_file, read_source, replace_file

ALL = "*"  # findings that belong to no one language (data files, templates)

KINDS = (
    ("error", "error that stops the build"),
    ("raw-html", "unsafe HTML in a page (removed from the site)"),
    ("missing", "missing translation"),
    ("stale", "stale translation"),
    ("ui-untranslated", "untranslated UI string"),
    ("ui-fuzzy", "fuzzy UI string"),
    ("broken-link", "broken link or #anchor"),
    ("no-alt", "image without alt text"),
    ("no-description", "page without description"),
    ("empty-data", "empty data field"),
    ("warning", "other warning"),
)
LEVELS: tuple[Level, ...] = ("error", "warning", "notice")


@dataclass(frozen=True, order=True)
class Finding:
    """One line of the report."""

    lang: str
    kind: str
    path: str
    line: int
    message: str
    level: Level
    hint: str = ""

    def format(self) -> str:
        return Problem(self.path, self.line, self.message, self.hint, self.level).format()


@dataclass(frozen=True)
class Report:
    """Every finding, and the languages to group them by."""

    languages: tuple[str, ...]
    findings: tuple[Finding, ...]

    def count(self, lang: str, kind: str) -> int:
        return sum(1 for f in self.findings if f.lang == lang and f.kind == kind)

    def totals(self) -> dict[str, int]:
        return {level: sum(1 for f in self.findings if f.level == level) for level in LEVELS}

    def failed(self, strict: bool) -> bool:
        """Errors always fail; warnings fail under ``--strict``; notices never do."""
        levels = {f.level for f in self.findings}
        return "error" in levels or (strict and "warning" in levels)

    def as_json(self) -> str:
        summary = {lang: {kind: self.count(lang, kind) for kind, _ in KINDS} for lang in (*self.languages, ALL)}
        return (
            json.dumps(
                {
                    "languages": list(self.languages),
                    "findings": [asdict(f) for f in self.findings],
                    "summary": summary,
                    "totals": self.totals(),
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n"
        )

    def as_text(self) -> str:
        lines: list[str] = []
        for lang in (*self.languages, ALL):
            found = [f for f in self.findings if f.lang == lang]
            if not found:
                continue
            lines.append("all languages" if lang == ALL else f"language {lang}")
            for kind, label in KINDS:
                of_kind = [f for f in found if f.kind == kind]
                if of_kind:
                    lines.append(f"  {label} ({len(of_kind)})")
                    lines.extend(f"    {f.format()}" for f in of_kind)
            lines.append("")
        widths = [max(len(kind), 2) for kind, _ in KINDS]
        lines.append("summary")
        lines.append("language  " + "  ".join(kind.rjust(w) for (kind, _), w in zip(KINDS, widths, strict=True)))
        for lang in (*self.languages, ALL):
            cells = "  ".join(str(self.count(lang, k)).rjust(w) for (k, _), w in zip(KINDS, widths, strict=True))
            lines.append(f"{('all' if lang == ALL else lang):<8}  {cells}")
        lines.append("")
        totals = self.totals()
        if not self.findings:
            lines.append("nothing to do")
        else:
            lines.append(", ".join(counted(n, level) for level, n in totals.items()))
        return "\n".join(lines) + "\n"


def _lang_of(path: str, codes: tuple[str, ...]) -> str:
    parts = path.split("/")
    if len(parts) > 2 and parts[0] == CONTENT_DIR and parts[1] in codes:
        return parts[1]
    return ALL


def check_site(root: Path, base_url: str | None = None) -> Report:
    """The report for the site in ``root``; a site that does not load is reported as its errors."""
    try:
        checked = check_build(root, base_url)
    except BuildFailed as exc:
        try:
            codes = load_config(root).codes
        except (BuildFailed, SiteError):
            codes = ()
        return Report(codes, tuple(sorted({_finding(p, codes) for p in exc.problems})))
    return run_checks(checked)


def _finding(problem: Problem, codes: tuple[str, ...]) -> Finding:
    """A problem the build reports, filed under its kind and language (by level and path if it has none)."""
    kind = problem.kind or ("error" if problem.level == "error" else "warning")
    lang = problem.lang or _lang_of(problem.path, codes)
    return Finding(lang, kind, problem.path, problem.line, problem.message, problem.level, problem.hint)


def run_checks(checked: Checked) -> Report:
    """Every problem the build reports, and what only the editors need to know; see ``check_build``."""
    loaded = checked.loaded
    codes = loaded.config.codes
    findings = [*_translation_findings(loaded), *_catalogue_findings(loaded.config)]
    errors = merge_repeats(p for p in checked.problems if p.level == "error")  # a template mistake hits every page
    # Raw HTML that the build removes from a page is an error here: the editors must delete it.
    others = (p.as_error() if p.kind == RAW_HTML_KIND else p for p in checked.problems if p.level != "error")
    findings.extend(_finding(p, codes) for p in (*errors, *others, *loaded.data.empty))
    return Report(codes, tuple(sorted(findings)))  # a warning said twice by the build is counted twice


def _translation_findings(loaded: Loaded) -> list[Finding]:
    """Stale translations, and pages without a description."""
    config = loaded.config
    site = loaded.site
    default = config.default_lang
    findings: list[Finding] = []
    for page in site.pages:
        source = page.source
        if page.fallback:  # the build's own warning says it is missing
            continue
        if not source.meta.description:
            message = "no description: search engines and link previews show nothing"
            hint = "add a line 'description: ...' to the front matter"
            findings.append(Finding(page.lang, "no-description", source.path, 1, message, "warning", hint))
        original = site.get(page.key, default)
        if page.lang == default or original is None or original.fallback:
            continue
        if source.meta.source_hash != original.source.digest:
            why = (
                "never marked up to date with its source"
                if not source.meta.source_hash
                else f"{original.source.path} changed after this translation was marked up to date"
            )
            line = source.meta_lines.get("source_hash", 1)
            hint = f"once revised, run: python build.py translated {page.lang}/{page.key}"
            findings.append(Finding(page.lang, "stale", source.path, line, why, "warning", hint))
    return findings


def _catalogue_findings(config: SiteConfig) -> list[Finding]:
    """UI strings that are untranslated or fuzzy (a language with no catalogue: the build says so)."""
    findings: list[Finding] = []
    for lang in config.languages:
        status = catalogue_status(config, lang.code)
        if status is None:  # no catalogue: the build's own warning says so (English needs none)
            continue
        for line, msgid in status.untranslated:
            message = f"untranslated: {msgid!r}"
            hint = "write the translation between the quotes after msgstr"
            findings.append(Finding(lang.code, "ui-untranslated", status.path, line, message, "warning", hint))
        for line, msgid in status.fuzzy:
            message = f"fuzzy (needs review): {msgid!r}"
            hint = "check the translation, then delete the '#, fuzzy' line above it"
            findings.append(Finding(lang.code, "ui-fuzzy", status.path, line, message, "warning", hint))
    return findings


# --- marking a translation up to date -----------------------------------------------------------


def _find_page(root: Path, lang: str, key: str) -> str | None:
    """The page file of ``key`` in ``lang`` relative to ``root``, if there is one."""
    names = (f"{CONTENT_DIR}/{lang}/{key}.md", f"{CONTENT_DIR}/{lang}/{key}/index.md")
    return next((name for name in names if (root / name).is_file()), None)


def parse_target(target: str) -> tuple[str, str]:
    """``en/about``, ``en/about.md``, ``content/en/about.md`` or ``en\\about`` → ``("en", "about")``."""
    cleaned = target.replace("\\", "/").strip().strip("/")
    cleaned = cleaned.removeprefix("./").removeprefix(CONTENT_DIR + "/")
    lang, _, key = cleaned.partition("/")
    return lang, page_key(key)


def mark_translated(root: Path, target: str, config: SiteConfig) -> str:
    """Record in a translation's front matter the hash of its source as it is now; return the file's path."""
    lang, key = parse_target(target)
    shown = f"{CONTENT_DIR}/{lang}/{key}.md"
    example = "name it as <language>/<page>, for example en/about"
    if lang not in config.codes:
        raise SiteError(f"'{target}' does not start with a language of the site", "", 0, example)
    if not plain_relative(key):  # the page must be under content/<lang>/
        raise SiteError(f"'{target}' is not the name of a page", "", 0, example)
    if lang == config.default_lang:
        raise SiteError(
            f"'{target}' is in the source language; only translations are marked", shown, 0, "for example en/about"
        )
    page = _find_page(root, lang, key)
    if page is None:
        pages = [
            f"{lang}/{p.relative_to(root / CONTENT_DIR / lang).with_suffix('').as_posix()}"
            for p in (root / CONTENT_DIR / lang).rglob("*.md")
        ]
        hint = did_you_mean(f"{lang}/{key}", pages)
        raise SiteError(f"there is no page '{target}'", shown, 0, hint if hint.startswith("did") else example)
    source = _find_page(root, config.default_lang, key)
    if source is None:
        raise SiteError(
            f"'{target}' has no {config.default_lang} source page",
            shown,
            0,
            f"create {CONTENT_DIR}/{config.default_lang}/{key}.md first",
        )
    digest = file_digest(read_source(root, source))  # both read as a build reads them: inside the project
    shown = page
    data = read_file(root, page)
    newline = "\r\n" if b"\r\n" in data else "\n"
    text = decode_text(data, shown)
    _, _, body_line = split_front_matter(text, shown)  # the same checks, and messages, as a build
    lines = text.split("\n")
    end = body_line - 2  # the index of the closing '---'
    entry = f"source_hash: {digest}"
    for i in range(1, end):
        if lines[i].startswith("source_hash:"):
            lines[i] = entry
            break
    else:
        lines.insert(end, entry)
    replace_file(inside_project(root, page), newline.join(lines).encode("utf-8"))
    return shown

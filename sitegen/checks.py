"""The editors' report: what is missing, stale, untranslated or broken, per language."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from .content import CONTENT_DIR, FENCE, file_digest
from .errors import Level, SiteError
from .i18n import catalogue_status
from .pipeline import Loaded, link_problems, render_site
from .source import read_text

KINDS = (
    ("missing", "missing translation"),
    ("stale", "stale translation"),
    ("ui-untranslated", "untranslated UI string"),
    ("ui-fuzzy", "fuzzy UI string"),
    ("broken-link", "broken link or #anchor"),
    ("no-alt", "image without alt text"),
    ("no-description", "page without description"),
    ("empty-data", "empty data field"),
)


@dataclass(frozen=True, order=True)
class Finding:
    """One line of the report."""

    lang: str
    kind: str
    path: str
    line: int
    message: str
    level: Level

    def format(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


@dataclass(frozen=True)
class Report:
    languages: tuple[str, ...]
    findings: tuple[Finding, ...]

    def count(self, lang: str, kind: str) -> int:
        return sum(1 for f in self.findings if f.lang == lang and f.kind == kind)

    def failed(self, strict: bool) -> bool:
        levels = {f.level for f in self.findings}
        return "error" in levels or (strict and "warning" in levels)

    def as_json(self) -> str:
        summary = {lang: {kind: self.count(lang, kind) for kind, _ in KINDS} for lang in (*self.languages, "*")}
        return json.dumps(
            {"findings": [asdict(f) for f in self.findings], "summary": summary}, ensure_ascii=False, indent=2
        )

    def as_text(self) -> str:
        lines: list[str] = []
        for lang in (*self.languages, "*"):
            found = [f for f in self.findings if f.lang == lang]
            if not found:
                continue
            lines.append("all languages" if lang == "*" else f"language {lang}")
            lines.extend(f"  {f.format()}" for f in found)
            lines.append("")
        widths = [max(len(k), 2) for k, _ in KINDS]
        header = "language  " + "  ".join(k.rjust(w) for (k, _), w in zip(KINDS, widths, strict=True))
        lines.append("summary")
        lines.append(header)
        for lang in (*self.languages, "*"):
            cells = "  ".join(str(self.count(lang, k)).rjust(w) for (k, _), w in zip(KINDS, widths, strict=True))
            lines.append(f"{('all' if lang == '*' else lang):<8}  {cells}")
        total = len(self.findings)
        lines.append("")
        lines.append("nothing to do" if not total else f"{total} item(s) to look at")
        return "\n".join(lines) + "\n"


def run_checks(loaded: Loaded) -> Report:
    """Collect every finding for the editors; the site must already load without errors."""
    config = loaded.config
    site = loaded.site
    default = config.default_lang
    findings: list[Finding] = []
    for page in site.pages:
        source = page.source
        if page.fallback:
            findings.append(
                Finding(
                    page.lang,
                    "missing",
                    f"{CONTENT_DIR}/{page.lang}/{source.path.split('/', 2)[2]}",
                    0,
                    f"no translation of {source.path} (showing the {source.lang} text)",
                    "warning",
                )
            )
            continue
        if not source.meta.description:
            findings.append(
                Finding(
                    page.lang,
                    "no-description",
                    source.path,
                    1,
                    "no description: search engines and link previews show nothing",
                    "warning",
                )
            )
        original = site.get(page.key, default)
        translated = page.lang != default and original is not None and not original.fallback
        if translated and original is not None and source.meta.source_hash != original.source.digest:
            why = (
                "was never marked up to date"
                if not source.meta.source_hash
                else f"{original.source.path} changed after this translation was marked up to date"
            )
            line = source.meta_lines.get("source_hash", 1)
            findings.append(
                Finding(
                    page.lang,
                    "stale",
                    source.path,
                    line,
                    f"{why}; when revised, run: python build.py translated {page.lang}/{page.key}",
                    "warning",
                )
            )
    for code in config.codes:
        for key in site.keys:
            if site.get(key, code) is None:
                original = site.get(key, default) or next(p for p in site.pages if p.key == key)
                findings.append(
                    Finding(
                        code,
                        "missing",
                        f"{CONTENT_DIR}/{code}/{original.source.path.split('/', 2)[2]}",
                        0,
                        f"no translation of {original.source.path}",
                        "warning",
                    )
                )
        status = catalogue_status(config, code)
        if status is not None:
            for line, msgid in status.untranslated:
                findings.append(
                    Finding(code, "ui-untranslated", status.path, line, f"untranslated: {msgid!r}", "warning")
                )
            for line, msgid in status.fuzzy:
                findings.append(
                    Finding(code, "ui-fuzzy", status.path, line, f"fuzzy (needs review): {msgid!r}", "warning")
                )
    rendered, render_problems = render_site(loaded)
    for problem in render_problems:
        findings.append(Finding("*", "broken-link", problem.path, problem.line, problem.message, "error"))
    for problem in link_problems(loaded, rendered):
        lang = problem.path.split("/")[1] if problem.path.startswith(CONTENT_DIR + "/") else "*"
        kind = "no-alt" if "alt text" in problem.message else "broken-link"
        findings.append(Finding(lang, kind, problem.path, problem.line, problem.message, problem.level))
    for problem in loaded.data.empty:
        match = re.search(r"\.([a-z]{2,3})' is empty$", problem.message)
        where = match.group(1) if match and match.group(1) in config.codes else "*"
        findings.append(Finding(where, "empty-data", problem.path, problem.line, problem.message, "notice"))
    return Report(config.codes, tuple(sorted(set(findings))))


def mark_translated(root: Path, target: str, default_lang: str) -> str:
    """Record in a translation's front matter the hash of its source, as it is now."""
    lang, _, key = target.strip("/").partition("/")
    key = key.removesuffix(".md") or "index"
    candidates = [f"{key}.md", f"{key}/index.md"]
    page = next((root / CONTENT_DIR / lang / c for c in candidates if (root / CONTENT_DIR / lang / c).is_file()), None)
    source = next(
        (
            root / CONTENT_DIR / default_lang / c
            for c in candidates
            if (root / CONTENT_DIR / default_lang / c).is_file()
        ),
        None,
    )
    shown = f"{CONTENT_DIR}/{lang}/{key}.md"
    if lang == default_lang:
        raise SiteError(
            f"'{target}' is in the source language; only translations are marked",
            shown,
            0,
            "name the translation, for example en/about",
        )
    if page is None:
        raise SiteError(f"no page '{target}'", shown, 0, "name it as <language>/<page>, for example en/about")
    if source is None:
        raise SiteError(
            f"'{target}' has no {default_lang} source page",
            shown,
            0,
            f"create {CONTENT_DIR}/{default_lang}/{key}.md first",
        )
    digest = file_digest(read_text(source, source.relative_to(root).as_posix()))
    shown = page.relative_to(root).as_posix()
    text = read_text(page, shown)
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        raise SiteError("the page has no front matter", shown, 1, "start the file with a line '---'")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == FENCE), None)
    if end is None:
        raise SiteError("the front matter is not closed", shown, 1, "add a line '---' after the last front-matter line")
    entry = f"source_hash: {digest}"
    for i in range(1, end):
        if lines[i].startswith("source_hash:"):
            lines[i] = entry
            break
    else:
        lines.insert(end, entry)
    page.write_text("\n".join(lines), encoding="utf-8")
    return shown

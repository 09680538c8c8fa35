"""Finding Markdown pages under ``content/<lang>/`` and splitting off their front matter."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .config import SiteConfig
from .errors import Collector, SiteError, did_you_mean
from .source import check_links, inside_project, is_hidden, load_yaml, plain_relative, walk_files

CONTENT_DIR = "content"
TEMPLATES_DIR = "templates"  # here, not in render: the cache needs it without loading Jinja
FENCE = "---"


@dataclass(frozen=True)
class PageMeta:
    """The front matter of one page, validated."""

    title: str
    description: str = ""
    template: str = ""
    date: datetime.date | None = None
    updated: datetime.date | None = None
    source_hash: str = ""
    draft: bool = False


@dataclass(frozen=True)
class PageSource:
    """One Markdown file: where it is, its front matter, and its body."""

    lang: str
    key: str  # path under content/<lang>/ without ".md"; "index" is the home page
    path: str  # shown to users, relative to the site root
    meta: PageMeta
    meta_lines: dict[str, int]
    body: str
    body_line: int  # the file's line on which the body starts
    digest: str  # hash of the whole file, for stale-translation checks


_FIELDS: dict[str, tuple[type | tuple[type, ...], str]] = {
    "title": (str, "text"),
    "description": (str, "text"),
    "template": (str, "a template file name such as page.html"),
    "date": (datetime.date, "a date written YYYY-MM-DD"),
    "updated": (datetime.date, "a date written YYYY-MM-DD"),
    "source_hash": (str, "text written by 'build.py translated'"),
    "draft": (bool, "true or false"),
}


def page_key(relative: str) -> str:
    """The key of a page file, from its path under ``content/<lang>/``: ``news/index.md`` → ``news``.

    The one rule for it: the build, the incremental scanner, link targets and ``translated``
    all name pages this way.
    """
    key = relative.strip("/").removesuffix(".md")
    if key in ("", ".", "index"):
        return "index"
    return key.removesuffix("/index")


def file_digest(text: str) -> str:
    """A short, stable hash of a page's text, ignoring its own ``source_hash`` line."""
    kept = text
    if "source_hash:" in text:  # a translation's: most pages' text is hashed as it is
        kept = "\n".join(line for line in text.split("\n") if not line.startswith("source_hash:"))
    return hashlib.sha256(kept.encode("utf-8")).hexdigest()[:12]


def split_front_matter(text: str, shown: str) -> tuple[str, str, int]:
    """Return (front matter, body, first body line); the front matter starts on line 2."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != FENCE:
        first = lines[0] if lines else ""
        if re.match(r"^\s*[A-Za-z_]+\s*:", first):
            hint = "did you forget the --- line before the front matter?"
        else:
            hint = "start the file with a line '---', then 'title: ...', then another '---'"
        raise SiteError("the page has no front matter", shown, 1, hint)
    for index in range(1, len(lines)):
        if lines[index].strip() == FENCE:
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]), index + 2
    raise SiteError(
        "the front matter is not closed",
        shown,
        1,
        "add a line '---' after the last front-matter line",
    )


def parse_meta(raw: Any, lines: dict[str, int], shown: str, problems: Collector) -> PageMeta | None:
    """Validate front matter values; report every mistake; return None if any."""
    before = len(problems.errors)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.error("the front matter must be lines of 'key: value'", shown, 2)
        return None
    values: dict[str, Any] = {}
    for key, value in raw.items():
        line = lines.get(str(key), 2)
        if key not in _FIELDS:
            problems.error(f"unknown front-matter key '{key}'", shown, line, did_you_mean(str(key), _FIELDS))
            continue
        kind, described = _FIELDS[key]
        if isinstance(value, datetime.datetime) and kind is datetime.date:
            value = value.date()
        if value is None or (kind is not bool and isinstance(value, bool)) or not isinstance(value, kind):
            hint = "for example 2024-02-29" if kind is datetime.date else ""
            problems.error(f"'{key}' must be {described}, not {_describe(value)}", shown, line, hint)
            continue
        values[key] = value.strip() if isinstance(value, str) else value
    misspelt_title = any(
        key not in _FIELDS and did_you_mean(str(key), _FIELDS) == "did you mean 'title'?" for key in raw
    )
    if "title" not in raw and not misspelt_title:
        problems.error("the page has no title", shown, 2, "add a line 'title: ...' to the front matter")
    elif "title" in values and not values["title"]:
        problems.error("the title is empty", shown, lines.get("title", 2), "write the page's title after 'title:'")
    template = values.get("template", "")
    if template and not (template.endswith(".html") and plain_relative(template)):
        problems.error(
            f"template '{template}' must be an .html file in templates/",
            shown,
            lines.get("template", 2),
            "write its name as it is under templates/, such as page.html",
        )
    if len(problems.errors) > before:
        return None
    return PageMeta(**values)


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"'{str(value).lower()}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a group of keys"
    return f"'{value}'"


def parse_page_text(text: str, shown: str, lang: str, key: str, problems: Collector) -> PageSource | None:
    """Split and check a page's text; report its mistakes to ``problems``."""
    try:
        front, body, body_line = split_front_matter(text, shown)
        doc = load_yaml(front, shown, first_line=2)
    except SiteError as exc:
        problems.catch(exc)
        return None
    lines = {str(k[0]): v for k, v in doc.lines.items() if len(k) == 1}
    meta = parse_meta(doc.value, lines, shown, problems)
    if meta is None:
        return None
    return PageSource(lang, key, shown, meta, lines, body, body_line, file_digest(text))


class PageFile(NamedTuple):
    """A Markdown file found under ``content/<lang>/``."""

    path: str  # relative to the site's root, as users see it
    lang: str
    key: str
    stat: os.stat_result


def page_files(config: SiteConfig, problems: Collector) -> list[PageFile]:
    """Every page file under ``content/<lang>/``, sorted as paths sort (part by part), hidden files
    and folders left out. A file outside a language folder, an undeclared language folder, a page
    name against the staff guide's rule (``PAGE_NAME``) or two names that differ only in capitals
    are errors; a file that looks meant as a page but does not end in ``.md`` is a warning. Linked
    folders are not followed (one that leads outside the project is an error)."""
    base = config.root / CONTENT_DIR
    try:  # before walking: a link to / would have the whole disk walked
        inside_project(config.root, CONTENT_DIR)
    except SiteError as exc:
        problems.catch(exc)
        return []
    if not base.is_dir():
        problems.error(
            f"there is no {CONTENT_DIR}/ folder", CONTENT_DIR, 0, f"create {CONTENT_DIR}/<language>/index.md"
        )
        return []
    found: list[PageFile] = []
    for entry in sorted(os.scandir(base), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        shown = f"{CONTENT_DIR}/{entry.name}"
        if not entry.is_dir():
            problems.error(
                f"'{shown}' is not inside a language folder",
                shown,
                0,
                f"move it to {CONTENT_DIR}/{config.default_lang}/",
            )
            continue
        if entry.name not in config.codes:
            problems.error(
                f"language folder '{entry.name}' is not declared in site.yaml",
                shown,
                0,
                f"add it under 'languages:' in site.yaml, or rename the folder; {did_you_mean(entry.name, config.codes)}",
            )
            continue
        try:
            inside_project(config.root, shown)
        except SiteError as exc:
            problems.catch(exc)
            continue
        links: list[str] = []
        listed = walk_files(Path(entry.path), links)
        for error in check_links(config.root, shown, links):
            problems.catch(error)
        listed = [(relative, st) for relative, st in listed if not is_hidden(relative)]
        taken = {f"{shown}/{relative}" for relative, _ in listed}
        _case_twins([path for path in taken if path.endswith(".md")], problems)
        # A NUL sorts before any other character: "a/b" before "a-b", as the paths' parts sort.
        listed.sort(key=lambda item: item[0].replace("/", "\0"))
        found.extend(
            PageFile(f"{shown}/{relative}", entry.name, page_key(relative), st)
            for relative, st in listed
            if _GOOD_PATH.fullmatch(relative)
            or not _page_name_problem(f"{shown}/{relative}", relative, problems, taken)
        )
    return found


# The staff guide's rule for page files (docs/editing.en.md), for every folder and file name in the path.
PAGE_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
_GOOD_PATH = re.compile(rf"(?:{PAGE_NAME.pattern}/)*{PAGE_NAME.pattern}\.md")  # every part follows it: no problem
# Names that look meant as pages but are not read as pages: news.MD, news.md.txt, news.markdown, news.txt
NEAR_MISS = re.compile(r"\.(md|markdown|mdown|mdwn|mkdn?)(\.[^/]*|~)?$|\.txt$", re.IGNORECASE)


def _page_name_problem(path: str, relative: str, problems: Collector, taken: Collection[str] = ()) -> bool:
    """Report a file under content/<lang>/ that is no page, or is one with a name against the rule;
    return whether it is left out. ``taken``: the files beside it, which a suggested name must not be."""
    folders, _, name = relative.rpartition("/")
    if not name.endswith(".md"):
        near = NEAR_MISS.search(name)
        if near:
            good = _good_name(path, relative, name[: near.start()])
            problems.warn(
                "this file is not read: page files end in '.md'",
                path,
                0,
                f"rename it to {good}" if good else "rename it to end in .md",
            )
        return True
    parts = [*folders.split("/"), name[:-3]] if folders else [name[:-3]]
    if all(PAGE_NAME.fullmatch(part) for part in parts):
        return False
    good = _good_name(path, relative, re.sub(r"(\.md)+$", "", name[:-3], flags=re.IGNORECASE))
    if good in taken:
        hint = f"{good} exists already: keep one of the two pages, or give this one another name"
    elif good:
        hint = f"rename it to {good}"
    else:
        hint = "use a name such as news-2024.md; its address is made from it"
    problems.error("page file names may use only lower-case Latin letters, digits and '-'", path, 0, hint)
    return True


def _good_name(path: str, relative: str, stem: str) -> str:
    """The path with each name made to follow the rule (``About Us.md`` → ``about-us.md``), or ""."""
    folders = relative.rpartition("/")[0]
    fixed = [_slug(part) for part in [*(folders.split("/") if folders else []), stem]]
    if not all(fixed):
        return ""
    return path[: len(path) - len(relative)] + "/".join(fixed) + ".md"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _case_twins(paths: list[str], problems: Collector) -> None:
    """Two page files whose paths differ only in capitals: on Windows and macOS, they are one file."""
    first: dict[str, str] = {}
    for path in sorted(paths):
        other = first.setdefault(path.lower(), path)
        if other != path:
            problems.error(
                f"'{other}' and '{path}' differ only in capitals: on Windows and macOS they are one file",
                path,
                0,
                "rename or remove one of them",
            )

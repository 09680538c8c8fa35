"""``site.yaml`` → a frozen ``SiteConfig``. Every unknown or mistyped key is reported by name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError

from .data import Shapes, is_country, read_shapes, web_address
from .errors import Collector, SiteError, did_you_mean
from .source import Yaml, load_yaml, read_source

CONFIG_FILE = "site.yaml"
MISSING_POLICIES = ("skip", "fallback")
CALENDARS = ("gregorian", "buddhist")
_LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Language:
    """One language of the site, as declared in ``site.yaml``."""

    code: str
    name: str
    locale: str
    og_locale: str
    calendar: str = "gregorian"
    missing: str = "skip"


@dataclass(frozen=True)
class SiteConfig:
    """The whole site configuration, validated."""

    root: Path
    title: dict[str, str]
    base_url: str
    default_lang: str
    languages: tuple[Language, ...]
    menu: tuple[str, ...]
    footer_menu: tuple[str, ...]
    phone_region: str
    data: Shapes = ()  # what each data file holds (data.read_shapes)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(lang.code for lang in self.languages)

    def language(self, code: str) -> Language:
        for lang in self.languages:
            if lang.code == code:
                return lang
        raise KeyError(code)

    def absolute(self, url: str) -> str:
        """An absolute URL on this site for a root-relative one."""
        return self.base_url + url


# A web address (the host rule of data.web_address), then a path: nothing that could end an HTML attribute,
# start a query or smuggle a second address.
_is_base_url = web_address(r"(?:/[A-Za-z0-9._~%/-]*)?", local=True)


def check_base_url(value: str, shown: str, line: int) -> str:
    """The address the site is served from, without a final ``/``; a ``SiteError`` unless it is http(s)
    with a host. ``shown`` and ``line`` say where it was given (``site.yaml`` or ``--base-url``)."""
    url = value.rstrip("/")
    if not _is_base_url(url):
        raise SiteError(f"'{value}' is not an absolute URL", shown, line, "write it like https://www.example.org")
    return url


_TOP_KEYS = ("title", "base_url", "default_lang", "languages", "menu", "footer_menu", "phone_region", "data")
_LANG_KEYS = ("code", "name", "locale", "og_locale", "calendar", "missing")


def _check_keys(
    doc: Yaml, where: tuple[str | int, ...], value: dict[str, Any], allowed: tuple[str, ...], problems: Collector
) -> None:
    for key in value:
        if key not in allowed:
            problems.error(
                f"unknown key '{key}' in {CONFIG_FILE}",
                CONFIG_FILE,
                doc.line(*where, key),
                did_you_mean(str(key), allowed),
            )


def _string(
    doc: Yaml, value: dict[str, Any], key: str, where: tuple[str | int, ...], problems: Collector, required: bool = True
) -> str:
    raw = value.get(key)
    if raw is None:
        if required:
            problems.error(f"'{key}' is missing", CONFIG_FILE, doc.line(*where), f"add '{key}: ...'")
        return ""
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        problems.error(f"'{key}' must be text", CONFIG_FILE, doc.line(*where, key))
        return ""
    return str(raw).strip()


def _language(doc: Yaml, index: int, raw: Any, problems: Collector) -> Language | None:
    where: tuple[str | int, ...] = ("languages", index)
    if not isinstance(raw, dict):
        problems.error(
            "each language must be a mapping with 'code', 'name' and 'locale'", CONFIG_FILE, doc.line(*where)
        )
        return None
    _check_keys(doc, where, raw, _LANG_KEYS, problems)
    code = _string(doc, raw, "code", where, problems)
    if code and not _LANG_CODE.fullmatch(code):
        problems.error(
            f"'{code}' is not a language code",
            CONFIG_FILE,
            doc.line(*where, "code"),
            "use a BCP 47 code such as 'th' or 'en'",
        )
    name = _string(doc, raw, "name", where, problems)
    locale = _string(doc, raw, "locale", where, problems, required=False) or code
    try:
        Locale.parse(locale.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        problems.error(
            f"unknown locale '{locale}'",
            CONFIG_FILE,
            doc.line(*where, "locale"),
            "use a locale Babel knows, such as 'th' or 'en_GB'",
        )
    og_locale = _string(doc, raw, "og_locale", where, problems, required=False) or locale.replace("-", "_")
    calendar = _string(doc, raw, "calendar", where, problems, required=False) or "gregorian"
    if calendar not in CALENDARS:
        problems.error(
            f"unknown calendar '{calendar}'",
            CONFIG_FILE,
            doc.line(*where, "calendar"),
            did_you_mean(calendar, CALENDARS),
        )
    missing = _string(doc, raw, "missing", where, problems, required=False) or "skip"
    if missing not in MISSING_POLICIES:
        problems.error(
            f"unknown policy '{missing}' for missing translations",
            CONFIG_FILE,
            doc.line(*where, "missing"),
            did_you_mean(missing, MISSING_POLICIES),
        )
    return Language(code, name, locale.replace("-", "_"), og_locale, calendar, missing)


def load_config(root: Path) -> SiteConfig:
    """Read and validate ``site.yaml`` in ``root``; raise ``BuildFailed`` listing every mistake."""
    problems = Collector()
    path = root / CONFIG_FILE
    if not path.is_file():
        problems.error(
            f"no {CONFIG_FILE} in {root}", CONFIG_FILE, 0, "run the command from the site's folder, or pass --root"
        )
        problems.raise_errors()
    doc = load_yaml(read_source(root, CONFIG_FILE), CONFIG_FILE)
    raw = doc.value
    if not isinstance(raw, dict):
        problems.error(f"{CONFIG_FILE} must be a mapping of keys to values", CONFIG_FILE, 1)
        problems.raise_errors()
    _check_keys(doc, (), raw, _TOP_KEYS, problems)

    languages: list[Language] = []
    raw_languages = raw.get("languages")
    if not isinstance(raw_languages, list) or not raw_languages:
        problems.error("'languages' must list at least one language", CONFIG_FILE, doc.line("languages"))
    else:
        for index, item in enumerate(raw_languages):
            lang = _language(doc, index, item, problems)
            if lang is None:
                continue
            if lang.code in (seen.code for seen in languages):
                problems.error(f"language '{lang.code}' is declared twice", CONFIG_FILE, doc.line("languages", index))
            languages.append(lang)
    codes = tuple(lang.code for lang in languages)

    default_lang = _string(doc, raw, "default_lang", (), problems, required=False) or (codes[0] if codes else "")
    if codes and default_lang not in codes:
        problems.error(
            f"default_lang '{default_lang}' is not one of the languages",
            CONFIG_FILE,
            doc.line("default_lang"),
            did_you_mean(default_lang, codes),
        )

    title: dict[str, str] = {}
    raw_title = raw.get("title")
    if isinstance(raw_title, str):
        title = dict.fromkeys(codes, raw_title)
    elif isinstance(raw_title, dict):
        title = {str(k): str(v) for k, v in raw_title.items()}
        for code in codes:
            if not title.get(code):
                problems.error(
                    f"'title' has no text for language '{code}'",
                    CONFIG_FILE,
                    doc.line("title"),
                    f"add '{code}: ...' under title",
                )
    else:
        problems.error(
            "'title' is missing", CONFIG_FILE, doc.line(), "add 'title:' with the site's name in each language"
        )

    base_url = _string(doc, raw, "base_url", (), problems)
    if base_url:
        try:
            base_url = check_base_url(base_url, CONFIG_FILE, doc.line("base_url"))
        except SiteError as exc:
            problems.catch(exc)

    menu = _page_list(doc, raw, "menu", problems)
    footer_menu = _page_list(doc, raw, "footer_menu", problems)

    phone_region = _string(doc, raw, "phone_region", (), problems, required=False).upper()
    if phone_region and not is_country(phone_region):
        problems.error(
            "'phone_region' must be a two-letter country code such as TH", CONFIG_FILE, doc.line("phone_region")
        )

    shapes = read_shapes(doc, CONFIG_FILE, problems)
    problems.raise_errors()
    return SiteConfig(root, title, base_url, default_lang, tuple(languages), menu, footer_menu, phone_region, shapes)


def _page_list(doc: Yaml, raw: dict[str, Any], key: str, problems: Collector) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.error(
            f"'{key}' must be a list of page names", CONFIG_FILE, doc.line(key), f"for example: {key}: [about, contact]"
        )
        return ()
    return tuple(value)


def config_line(root: Path, *keys: str | int) -> int:
    """The line of a value in ``site.yaml`` (a menu entry, a data file's declaration), for reporting a
    mistake found after the configuration was read: only then is the file read again."""
    return load_yaml(read_source(root, CONFIG_FILE), CONFIG_FILE).line(*keys)

"""``data/*.yaml``: language-neutral facts, validated on load and resolved per language.

Any file is loaded as it is. A mapping whose keys are all language codes is text in
several languages. Four files have a schema, because a wrong value there costs a
donation or a call for help: ``bank``, ``organisation``, ``offices`` and ``hotlines``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import phonenumbers

from .config import SiteConfig
from .errors import Collector, Problem, SiteError, did_you_mean
from .source import Keys, Yaml, inside_project, load_yaml, read_source

DATA_DIR = "data"
# Each rule is matched against the whole value (fullmatch: "$" alone lets a trailing newline through),
# and a digit is an ASCII digit: "\d" takes Thai and full-width digits too.
SWIFT = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")  # ISO 9362
# Addresses are ASCII: a zero-width space, a right-to-left mark or a full-width letter makes one that
# looks right and leads elsewhere. A URL's host is followed by a port, a path, a query or nothing, so
# "https://lpn.org@evil.example" (a user name, then another host) is refused.
_HOST = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_HOST}")
URL = re.compile(rf"https?://{_HOST}(?::[0-9]{{1,5}})?(?:[/?#][!#$%&'()*+,/:;=?@\[\]A-Za-z0-9._~-]*)?")
DIGIT = "[0-9]"
ACCOUNT_NUMBER = re.compile(f"{DIGIT}[0-9 -]{{4,32}}{DIGIT}")  # when the bank file gives no account_format
PHONE = re.compile(r"\+?[0-9][0-9 -]*[0-9]")  # what phonenumbers then checks; it would read letters as digits
SHORT_CODE = re.compile(f"{DIGIT}{{3,5}}")


@dataclass(frozen=True)
class Localized:
    """Text given once per language."""

    texts: tuple[tuple[str, str], ...]

    def get(self, lang: str, default_lang: str) -> str:
        values = dict(self.texts)
        return values.get(lang) or values.get(default_lang) or ""

    def is_empty(self) -> bool:
        return not any(text.strip() for _, text in self.texts)


@dataclass(frozen=True)
class Phone:
    """A phone number as staff wrote it, checked and turned into a ``tel:`` target."""

    written: str
    e164: str  # "" for a short code such as 1300, which has no international form
    international: str

    @property
    def href(self) -> str:
        return "tel:" + (self.e164 or self.written)

    @property
    def short(self) -> bool:
        return not self.e164

    def shown(self, local: bool) -> str:
        """The local form for the site's own language, the international form otherwise."""
        return self.written if local or self.short else self.international


@dataclass(frozen=True)
class SiteData:
    """Every data file, by file stem, and the fields that are still empty."""

    values: dict[str, Any]
    empty: tuple[Problem, ...]

    def for_lang(self, lang: str, config: SiteConfig) -> dict[str, Any]:
        """The data with each ``Localized`` replaced by its text in ``lang``."""
        local = lang == config.default_lang
        return {name: _resolve(value, lang, config.default_lang, local) for name, value in self.values.items()}


@dataclass(frozen=True)
class PhoneText:
    """A phone as a page shows it: the text for this language, and the link."""

    text: str
    href: str
    e164: str
    short: bool

    def __str__(self) -> str:
        return self.text


def _resolve(value: Any, lang: str, default_lang: str, local: bool) -> Any:
    if isinstance(value, Localized):
        return value.get(lang, default_lang)
    if isinstance(value, Phone):
        return PhoneText(value.shown(local), value.href, value.e164, value.short)
    if isinstance(value, dict):
        return {k: _resolve(v, lang, default_lang, local) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, lang, default_lang, local) for v in value]
    return value


class _Reader:
    """Validates one data file, reporting mistakes at their lines."""

    def __init__(self, doc: Yaml, shown: str, config: SiteConfig, problems: Collector) -> None:
        self.doc = doc
        self.shown = shown
        self.config = config
        self.problems = problems
        self.empty: list[Problem] = []

    def error(self, keys: Keys, message: str, hint: str = "") -> None:
        self.problems.error(message, self.shown, self.doc.line(*keys), hint)

    def note_empty(self, keys: Keys) -> None:
        name = self.field_name(keys)
        lang = str(keys[-1]) if keys and keys[-1] in self.config.codes else ""  # 'bank.en': English's
        line = self.doc.line(*keys)
        hint = "fill it in when the fact is known"
        self.empty.append(Problem(self.shown, line, f"'{name}' is empty", hint, "notice", "empty-data", lang))

    def field_name(self, keys: Keys) -> str:
        """A field's name for people: list items by their ``key`` when they have one (offices)."""
        parts: list[str] = []
        value = self.doc.value
        for key in keys:
            item = value[key] if isinstance(value, list) and isinstance(key, int) and key < len(value) else None
            if isinstance(item, dict) and isinstance(item.get("key"), str):
                parts.append(item["key"])
            else:
                parts.append(str(key))
            value = value.get(key) if isinstance(value, dict) else item if item is not None else None
        return ".".join(parts)

    def convert(self, value: Any, keys: Keys) -> Any:
        """Turn language mappings into ``Localized``, recursively; note empty fields."""
        codes = self.config.codes
        if isinstance(value, dict) and value and all(k in codes for k in value):
            texts = tuple((str(k), "" if v is None else str(v)) for k, v in value.items())
            localized = Localized(texts)
            if localized.is_empty():
                self.note_empty(keys)
            else:
                for code in codes:
                    if not dict(texts).get(code, "").strip():
                        self.note_empty((*keys, code))
            return localized
        if isinstance(value, dict):
            return {str(k): self.convert(v, (*keys, str(k))) for k, v in value.items()}
        if isinstance(value, list):
            return [self.convert(v, (*keys, i)) for i, v in enumerate(value)]
        if value is None or value == "":
            self.note_empty(keys)
            return ""
        return value

    def keys(self, value: Any, keys: Keys, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> bool:
        if not isinstance(value, dict):
            self.error(keys, "expected lines of 'key: value' here")
            return False
        allowed = required + optional
        for key in value:
            if key not in allowed:
                self.error((*keys, key), f"unknown key '{key}'", did_you_mean(str(key), allowed))
        for key in required:
            if key not in value:
                self.error(keys, f"'{key}' is missing", f"add '{key}: ...'")
        return True

    def text(self, value: Any, keys: Keys) -> None:
        if value is not None and not isinstance(value, str | Localized):  # a missing key is reported once, by keys()
            self.error(keys, f"'{keys[-1]}' must be text")

    def phone(self, value: Any, keys: Keys) -> Phone | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self.error(keys, "a phone number must be text", 'put it in quotes, like "034-434726"')
            return None
        written = value.strip()
        if not PHONE.fullmatch(written):
            self.error(
                keys,
                f"'{written}' is not a valid phone number",
                "use only the digits 0-9, spaces, dashes and a leading +, like 034-434726 or +66 34 434 726",
            )
            return None
        if SHORT_CODE.fullmatch(written):
            return Phone(written, "", written)
        try:
            number = phonenumbers.parse(written, self.config.phone_region or None)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            region = self.config.phone_region or "international"
            self.error(
                keys,
                f"'{written}' is not a valid phone number",
                f"check the digits; write a {region} number like 034-434726, or +66 34 434 726",
            )
            return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return Phone(written, e164, international)

    def url(self, value: Any, keys: Keys) -> None:
        if value and (not isinstance(value, str) or not URL.fullmatch(value)):
            self.error(
                keys,
                f"'{value}' is not a web address",
                "write it in full, starting with https://, in plain Latin letters",
            )

    def email(self, value: Any, keys: Keys) -> None:
        if value and (not isinstance(value, str) or not EMAIL.fullmatch(value)):
            self.error(
                keys, f"'{value}' is not an e-mail address", "write it like name@example.org, in plain Latin letters"
            )


_ASCII_DIGITS = "write the digits as 0-9, not as Thai (๐-๙) or full-width digits"


def _other_digits(text: str) -> bool:
    """Whether ``text`` has a digit that is not one of 0-9 (Thai ๑, full-width １, ...)."""
    return any(c.isdigit() and not "0" <= c <= "9" for c in text)


def _check_bank(r: _Reader, value: Any) -> Any:
    if not r.keys(value, (), ("account_name", "bank", "branch", "account_number", "swift"), ("account_format",)):
        return value
    for key in ("account_name", "bank", "branch"):
        r.text(value.get(key), (key,))
    number = value.get("account_number")
    if not isinstance(number, str):
        r.error(("account_number",), "the account number must be text", 'put it in quotes, like "162-0-09432-0"')
    else:
        shape = value.get("account_format", "")
        if shape:
            pattern = "".join(DIGIT if c == "#" else re.escape(c) for c in str(shape))
            if not re.fullmatch(pattern, number):
                r.error(
                    ("account_number",),
                    f"account number '{number}' does not fit the format '{shape}'",
                    _ASCII_DIGITS if _other_digits(number) else "check each digit against the bank's record",
                )
        elif not ACCOUNT_NUMBER.fullmatch(number):
            hint = _ASCII_DIGITS if _other_digits(number) else "use only digits and dashes"
            r.error(("account_number",), f"'{number}' is not an account number", hint)
    swift = value.get("swift")
    if not isinstance(swift, str) or not SWIFT.fullmatch(swift):
        r.error(
            ("swift",), f"'{swift}' is not a SWIFT/BIC code", "it has 8 or 11 capital letters and digits, like KRTHTHBK"
        )
    elif r.config.phone_region and swift[4:6] != r.config.phone_region:
        r.error(
            ("swift",),
            f"SWIFT code '{swift}' is not for a bank in {r.config.phone_region}",
            "letters 5 and 6 are the bank's country",
        )
    return value


def _check_organisation(r: _Reader, value: Any) -> Any:
    if not r.keys(
        value,
        (),
        ("name",),
        ("short_name", "former_name", "founded", "registered", "email", "website", "blog", "facebook"),
    ):
        return value
    r.text(value.get("name"), ("name",))
    registered = value.get("registered")
    if registered not in (None, "") and not isinstance(registered, datetime.date):
        r.error(("registered",), "'registered' must be a date", "write it as YYYY-MM-DD")
    r.email(value.get("email"), ("email",))
    for key in ("website", "blog", "facebook"):
        r.url(value.get(key), (key,))
    return value


def _check_offices(r: _Reader, value: Any) -> Any:
    if not isinstance(value, list):
        r.error((), "offices must be a list, each item starting with '- key:'")
        return value
    for i, office in enumerate(value):
        if not r.keys(office, (i,), ("key", "name"), ("head", "address", "phones", "email")):
            continue
        r.text(office.get("name"), (i, "name"))
        r.email(office.get("email"), (i, "email"))
        phones = office.get("phones") or []
        if not isinstance(phones, list):
            r.error((i, "phones"), "'phones' must be a list", 'write phones: ["034-434726"]')
            continue
        office["phones"] = [p for j, raw in enumerate(phones) if (p := r.phone(raw, (i, "phones", j)))]
    return value


def _check_hotlines(r: _Reader, value: Any) -> Any:
    if not isinstance(value, list):
        r.error((), "hotlines must be a list, each item starting with '- number:'")
        return value
    for i, line in enumerate(value):
        if not r.keys(line, (i,), ("number", "name"), ("purpose",)):
            continue
        line["number"] = r.phone(line.get("number"), (i, "number"))
    return value


_SCHEMAS = {
    "bank": _check_bank,
    "organisation": _check_organisation,
    "offices": _check_offices,
    "hotlines": _check_hotlines,
}


def load_data(config: SiteConfig, problems: Collector) -> SiteData:
    """Load and validate every ``data/*.yaml``."""
    values: dict[str, Any] = {}
    empty: list[Problem] = []
    try:
        files = data_files(config.root)
    except SiteError as exc:  # data/ is a link out of the project
        problems.catch(exc)
        files = []
    for path in files:
        shown = f"{DATA_DIR}/{path.name}"
        try:
            doc = load_yaml(read_source(config.root, shown), shown)
        except SiteError as exc:
            problems.catch(exc)
            continue
        except FileNotFoundError:  # listed, so a link to nothing (or deleted since): not a traceback
            problems.error(f"'{shown}' is a link to a file that does not exist", shown, 0, "remove the link")
            continue
        reader = _Reader(doc, shown, config, problems)
        value = reader.convert(doc.value, ())
        check = _SCHEMAS.get(path.stem)
        if check is not None:
            value = check(reader, value)
        values[path.stem] = value
        empty.extend(reader.empty)
    return SiteData(values, tuple(empty))


def data_files(root: Path) -> list[Path]:
    """The data files a build reads: ``data/*.yaml``, hidden files (an editor's ``.#bank.yaml``) left out.

    A ``data/`` that is a link out of the project is a ``SiteError``, before it is listed."""
    folder = root / DATA_DIR
    if not folder.is_dir():
        return []
    inside_project(root, DATA_DIR)
    return sorted(path for path in folder.glob("*.yaml") if not path.name.startswith("."))

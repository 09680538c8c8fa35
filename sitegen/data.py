"""``data/*.yaml``: language-neutral facts, validated on load and resolved per language.

A mapping whose keys are all language codes is text in several languages. The site says in
``site.yaml`` (its ``data:`` section) what each file holds: its keys, and the kind of each value
(``KINDS``: phone, account number, SWIFT/BIC, web and e-mail address, date, text...). A file the
site says nothing about is loaded as it is. ``read_shapes`` reads the declaration, ``_Reader``
checks a file against it, reporting each mistake at its line.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import phonenumbers

from .errors import Collector, Problem, SiteError, did_you_mean
from .source import Keys, Yaml, inside_project, is_hidden, load_yaml, read_source

if TYPE_CHECKING:  # config imports this module, for read_shapes
    from .config import SiteConfig

DATA_DIR = "data"
# Each rule is matched against the whole value (fullmatch: "$" alone lets a trailing newline through),
# and a digit is an ASCII digit: "\d" takes Thai and full-width digits too.
SWIFT = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")  # ISO 9362


def is_country(code: str) -> bool:
    """An ISO 3166 alpha-2 code of a country (a bank's, the region of phone numbers): one with a phone
    numbering plan, as ``phonenumbers`` knows them (not a reserved code such as ZZ or XX)."""
    return len(code) == 2 and code in phonenumbers.SUPPORTED_REGIONS


# Addresses are ASCII: a zero-width space, a right-to-left mark or a full-width letter makes one that
# looks right and leads elsewhere. The one rule for a host, in every address: labels of letters, digits
# and inner dashes, the last a name (xn-- for other scripts), at least two of them; localhost only in
# site.yaml's base_url, with IP addresses. In a web address it
# is followed by a port up to 65535, then what the address may hold (``web_address``), so
# "https://example.org@evil.example" (a user name, then another host) is refused.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"  # letters, digits, inner hyphens
_HOST = rf"(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})"  # ends in a name: .org, .xn--o3cw4h
EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]+@{_HOST}")


def web_address(after_host: str, local: bool = False) -> Callable[[str], bool]:
    """The test of an http(s) address whose host (and port) is followed by what ``after_host`` matches:
    a path, query and fragment for the ``url`` kind, a path alone for ``site.yaml``'s ``base_url``.
    ``local``: ``localhost`` and IP addresses too (a build to look at on this computer, or on a phone on
    the same network); never in what a page shows."""
    host = rf"(?:localhost|{_HOST}|(?P<ip>[0-9.]+|\[[0-9A-Fa-f:.]+\]))" if local else _HOST
    pattern = re.compile(rf"https?://{host}(?::(?P<port>[0-9]{{1,5}}))?{after_host}")

    def test(value: str) -> bool:
        match = pattern.fullmatch(value)
        return match is not None and int(match["port"] or 0) <= 65535 and (not local or _is_ip(match["ip"]))

    return test


def _is_ip(written: str | None) -> bool:
    """No address, or an IP address (v6 in brackets): 127.0.0.1, 192.168.1.20, [::1]."""
    try:
        return written is None or ipaddress.ip_address(written.strip("[]")) is not None
    except ValueError:
        return False


is_url = web_address(r"(?:[/?#][!#$%&'()*+,/:;=?@\[\]A-Za-z0-9._~-]*)?")
DIGIT = "[0-9]"
ACCOUNT_NUMBER = re.compile(f"{DIGIT}[0-9 -]{{4,32}}{DIGIT}")  # when no "account format" is given beside it
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

    def name(self, keys: Keys) -> str:
        """The key a value is under, or for the whole file its name ("events" for data/events.yaml)."""
        return str(keys[-1]) if keys else self.shown.removeprefix(f"{DATA_DIR}/").removesuffix(".yaml")

    def note_empty(self, keys: Keys) -> None:
        name = self.field_name(keys)
        lang = str(keys[-1]) if keys and keys[-1] in self.config.codes else ""  # 'name.en': English's
        line = self.doc.line(*keys)
        hint = "fill it in when the fact is known"
        self.empty.append(Problem(self.shown, line, f"'{name}' is empty", hint, "notice", "empty-data", lang))

    def field_name(self, keys: Keys) -> str:
        """A field's name for people: list items by their ``key`` when they have one."""
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

    def check(self, shape: Shape, value: Any, keys: Keys, within: Within = None) -> Any:
        """``value`` as pages get it (a phone becomes a ``Phone``); each mistake reported at its line."""
        if shape.kind == "record":
            return self.record(shape, value, keys)
        if shape.kind == "list":
            return self.list(shape, value, keys)
        return KINDS[shape.kind](self, value, keys, shape, within)

    def record(self, shape: Shape, value: Any, keys: Keys) -> Any:
        if not isinstance(value, dict):
            self.error(keys, "expected lines of 'key: value' here")
            return value
        fields = dict(shape.fields)
        for key in value:
            if key not in fields:
                self.error((*keys, key), f"unknown key '{key}'", did_you_mean(str(key), fields))
        for key, field in shape.fields:
            if key not in value:
                if not field.optional:
                    self.error(keys, f"'{key}' is missing", f"add '{key}: ...'")
            elif not (field.optional and value[key] == ""):  # an empty field is a notice (note_empty)
                value[key] = self.check(field, value[key], (*keys, key), (shape, value))
        return value

    def list(self, shape: Shape, value: Any, keys: Keys) -> Any:
        item = shape.item or Shape("any")
        if not isinstance(value, list):
            name, example = self.name(keys), f'"{item.like}"' if item.like else "..."
            if item.fields:
                self.error(keys, f"{name} must be a list, each item starting with '- {item.fields[0][0]}:'")
            else:
                self.error(keys, f"'{name}' must be a list", f"write {name}: [{example}]")
            return value
        checked = (self.check(item, one, (*keys, i)) for i, one in enumerate(value))
        return [one for one in checked if one is not None]  # a phone that is not one is reported, and left out

    def phone(self, value: Any, keys: Keys, like: str) -> Phone | None:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            examples = self.phone_examples(like, ", or ")
            self.error(keys, "a phone number must be text", "put it in quotes" + "," * bool(examples) + examples)
            return None
        written = value.strip()
        if not PHONE.fullmatch(written):
            examples = self.phone_examples(like, " or ")
            hint = "use only the digits 0-9, spaces, dashes and a leading +" + "," * bool(examples) + examples
            self.error(keys, f"'{written}' is not a valid phone number", hint)
            return None
        if SHORT_CODE.fullmatch(written):
            return Phone(written, "", written)
        number = self.parse_phone(written)
        if number is None or not phonenumbers.is_valid_number(number):
            hint = f"check the digits; write a {self.config.phone_region or 'international'} number"
            self.error(keys, f"'{written}' is not a valid phone number", hint + self.phone_examples(like, ", or "))
            return None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        international = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return Phone(written, e164, international)

    def parse_phone(self, written: str) -> phonenumbers.PhoneNumber | None:
        try:
            return phonenumbers.parse(written, self.config.phone_region or None)
        except phonenumbers.NumberParseException:
            return None

    def phone_examples(self, like: str, between: str) -> str:
        """The site's example (else one for its region) in both forms, for a hint: " like 034-434726, or +66 34 434 726"."""
        example = phonenumbers.example_number(self.config.phone_region) if self.config.phone_region else None
        if example is not None and not like:
            like = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
        if not like:
            return ""
        number = self.parse_phone(like)
        other = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL) if number else like
        return f" like {like}" + (f"{between}{other}" if other != like else "")


_ASCII_DIGITS = "write the digits as 0-9, not as Thai (๐-๙) or full-width digits"


def _other_digits(text: str) -> bool:
    """Whether ``text`` has a digit that is not one of 0-9 (Thai ๑, full-width １, ...)."""
    return any(c.isdigit() and not "0" <= c <= "9" for c in text)


Within = tuple["Shape", dict[str, Any]] | None  # the record a value is in, and its shape
_Check = Callable[["_Reader", Any, Keys, "Shape", Within], Any]


def _must_be(types: type | tuple[type, ...], what: str, hint: str) -> _Check:
    """The check of a kind that is a type of YAML value (an empty value is only noted, by ``note_empty``)."""

    def check(r: _Reader, value: Any, keys: Keys, shape: Shape, within: Within) -> Any:
        if value != "" and not isinstance(value, types):
            r.error(keys, f"'{r.name(keys)}' must be {what}", hint)
        return value

    return check


def _matches(test: Callable[[str], Any], what: str, hint: str) -> _Check:
    """The check of a kind of text that must pass ``test`` (a pattern's ``fullmatch``)."""

    def check(r: _Reader, value: Any, keys: Keys, shape: Shape, within: Within) -> Any:
        if value is None or value == "":  # a fact the site has not yet: a notice (``note_empty``)
            return value
        if not isinstance(value, str):  # NO (Norway), yes, 0800: YAML reads them as true/false or numbers
            written = str(value).lower() if isinstance(value, bool) else value
            r.error(keys, f"'{written}' is not {what}", f'put it in quotes, like "NO": {hint}')
        elif not test(value):
            r.error(keys, f"'{value}' is not {what}", hint)
        return value

    return check


def _account_number(r: _Reader, number: Any, keys: Keys, shape: Shape, within: Within) -> Any:
    if not isinstance(number, str):
        r.error(
            keys, "the account number must be text", "put it in quotes" + (f', like "{shape.like}"' * bool(shape.like))
        )
        return number
    _, form = _beside(within, "account format")
    if form:
        pattern = "".join(DIGIT if c == "#" else re.escape(c) for c in form)
        if not re.fullmatch(pattern, number):
            hint = _ASCII_DIGITS if _other_digits(number) else "check each digit against the bank's record"
            r.error(keys, f"account number '{number}' does not fit the format '{form}'", hint)
    elif not ACCOUNT_NUMBER.fullmatch(number):
        hint = _ASCII_DIGITS if _other_digits(number) else "use only digits and dashes"
        r.error(keys, f"'{number}' is not an account number", hint)
    return number


def _beside(within: Within, kind: str) -> tuple[str, str]:
    """The key and value (as text) of the first field of ``kind`` in the record a value is in, or ("", "")."""
    record, siblings = within or (Shape("record"), {})
    return next(((key, str(siblings.get(key) or "")) for key, field in record.fields if field.kind == kind), ("", ""))


def _swift(r: _Reader, value: Any, keys: Keys, shape: Shape, within: Within) -> Any:
    """A SWIFT/BIC code; its letters 5 and 6 are its bank's country, which a ``country`` beside it must be."""
    name, country = _beside(within, "country")
    if not isinstance(value, str) or not SWIFT.fullmatch(value):
        like = f", like {shape.like}" if shape.like else ""
        r.error(keys, f"'{value}' is not a SWIFT/BIC code", f"it has 8 or 11 capital letters and digits{like}")
    elif is_country(country) and value[4:6] != country:
        hint = "letters 5 and 6 of a SWIFT code are its bank's country: check the code, or the country"
        r.error(keys, f"SWIFT code '{value}' is of a bank in {value[4:6]}, but '{name}' is {country}", hint)
    return value


# The kinds of value ``site.yaml``'s ``data:`` may name, and the check of each. An "account format" (# for
# each digit, like ###-#-#####-#) is the shape of the "account number" beside it; without one, an account
# number is digits, spaces and dashes.
KINDS: dict[str, _Check] = {
    "text": _must_be((str, Localized), "text", 'put it in quotes, like "..."'),
    "phone": lambda r, value, keys, shape, within: r.phone(value, keys, shape.like),
    "account number": _account_number,
    "account format": _must_be(str, "text", 'put it in quotes, like "###-#-#####-#"'),
    "swift": _swift,
    "country": _matches(is_country, "a country code", "write its two-letter ISO 3166 code, like TH"),
    "url": _matches(is_url, "a web address", "write it in full, starting with https://, in plain Latin letters"),
    "email": _matches(EMAIL.fullmatch, "an e-mail address", "write it like name@example.org, in plain Latin letters"),
    "date": _must_be(datetime.date, "a date", "write it as YYYY-MM-DD"),
    "true/false": _must_be(bool, "true or false", "write true or false, without quotes"),
    "any": lambda r, value, keys, shape, within: value,
}


@dataclass(frozen=True)
class Shape:
    """What one value of a data file must be, as ``site.yaml`` declares it.

    ``kind`` is one of ``KINDS``, or "record" (``fields``: its keys, in order) or "list" (``item``)."""

    kind: str
    optional: bool = False
    like: str = ""  # the example a mistake's hint shows
    fields: tuple[tuple[str, Shape], ...] = ()
    item: Shape | None = None


Shapes = tuple[tuple[str, "Shape"], ...]  # data file name (without .yaml) → its shape
_KIND_HINT = "write a kind such as 'text', 'optional phone' or 'list of email'"
_KIND = re.compile(r"(optional )?(list of )?(.*)", re.DOTALL)  # matches any text


def read_shapes(doc: Yaml, shown: str, problems: Collector) -> Shapes:
    """The ``data:`` section of ``site.yaml``: for each data file, the shape of what it holds."""
    raw = doc.value.get("data") if isinstance(doc.value, dict) else None
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        hint = "write each data file's name (contact for data/contact.yaml) on a line of its own, its keys below it"
        problems.error("'data' must list the data files by name", shown, doc.line("data"), hint)
        return ()
    shapes = ((str(name), _read_shape(doc, shown, ("data", name), value, problems)) for name, value in raw.items())
    return tuple((name, shape) for name, shape in shapes if shape is not None)


def _read_shape(doc: Yaml, shown: str, keys: Keys, value: Any, problems: Collector) -> Shape | None:
    name = str(keys[-1])
    if isinstance(value, dict):
        fields = ((str(key), _read_shape(doc, shown, (*keys, key), item, problems)) for key, item in value.items())
        return Shape("record", fields=tuple((key, shape) for key, shape in fields if shape is not None))
    if isinstance(value, list):
        if len(value) != 1:
            hint = "a list is declared by one item, the shape of every item: write '- ' once"
            problems.error(f"'{name}' must give the shape of its items once", shown, doc.line(*keys), hint)
            return None
        item = _read_shape(doc, shown, (*keys, 0), value[0], problems)
        return Shape("list", item=item) if item is not None else None
    if not isinstance(value, str):
        problems.error(f"'{name}' must say what kind of value it is", shown, doc.line(*keys), _KIND_HINT)
        return None
    words, _, like = value.partition(", like ")
    optional, listed, kind = _KIND.fullmatch(" ".join(words.split())).groups()  # type: ignore[union-attr]
    if kind not in KINDS:
        hint = did_you_mean(kind, KINDS)
        problems.error(f"unknown kind '{kind}' for '{name}'", shown, doc.line(*keys), hint)
        return None
    shape = Shape(kind, like=like.strip())
    return Shape("list", bool(optional), item=shape) if listed else replace(shape, optional=bool(optional))


def load_data(config: SiteConfig, problems: Collector) -> SiteData:
    """Load and validate every ``data/*.yaml``."""
    from .config import CONFIG_FILE, config_line  # config imports this module, for read_shapes

    values: dict[str, Any] = {}
    empty: list[Problem] = []
    shapes = dict(config.data)
    try:
        files = data_files(config.root)
    except SiteError as exc:  # data/ is a link out of the project
        problems.catch(exc)
        files = []
    else:  # each file site.yaml declares is there, or is reported at its declaration
        present = {path.stem for path in files}
        for name in (name for name, _ in config.data if name not in present):
            hint = f"create it, or remove '{name}' from the 'data:' section of {CONFIG_FILE}"
            line = config_line(config.root, "data", name)
            problems.error(f"data file '{DATA_DIR}/{name}.yaml' does not exist", CONFIG_FILE, line, hint)
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
        shape = shapes.get(path.stem)
        if shape is not None:
            value = reader.check(shape, value, ())
        values[path.stem] = value
        empty.extend(reader.empty)
    return SiteData(values, tuple(empty))


def data_files(root: Path) -> list[Path]:
    """The data files a build reads: ``data/*.yaml``, hidden files (an editor's ``.#contact.yaml``) left out.

    A ``data/`` that is a link out of the project is a ``SiteError``, before it is listed."""
    folder = root / DATA_DIR
    if not folder.is_dir():
        return []
    inside_project(root, DATA_DIR)
    return sorted(path for path in folder.glob("*.yaml") if not is_hidden(path.name))

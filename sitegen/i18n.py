"""UI strings from gettext catalogues (compiled in memory), and dates in each language's calendar."""

from __future__ import annotations

import codecs
import datetime
import gettext
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from babel.dates import format_date, get_date_format
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, PoFileParser

from .config import Language, SiteConfig
from .errors import Collector, SiteError
from .source import read_source

LOCALES_DIR = "locales"
BUDDHIST_ERA_OFFSET = 543
DateForm = Literal["full", "long", "medium", "short"]


@dataclass(frozen=True)
class CatalogueStatus:
    """What a catalogue still lacks: for the editors' report."""

    path: str
    untranslated: tuple[tuple[int, str], ...]  # (line, msgid)
    fuzzy: tuple[tuple[int, str], ...]


def catalogue_path(lang: str) -> str:
    return f"{LOCALES_DIR}/{lang}/LC_MESSAGES/messages.po"


_PO_LINE = re.compile(r'^(?:(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+)?(".*)$')
_PO_QUOTED = re.compile(r'^"(?:[^"\\]|\\.)*"$')


def check_po_syntax(text: str, shown: str) -> None:
    """Refuse what Babel silently misreads: an unclosed quote loses the last letter, a second msgstr is dropped."""
    previous = ""  # the last keyword seen in the current entry
    seen: dict[tuple[str, str], int] = {}
    entry: dict[str, str] = {}
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if line.startswith("#") and previous.startswith("msgstr"):
                previous = ""
            continue
        match = _PO_LINE.match(line)
        if match is None:
            raise SiteError(
                "broken catalogue: this line is not a msgid, a msgstr or text in quotes",
                shown,
                number,
                'each line looks like msgid "..." or msgstr "..." or "..."',
            )
        keyword, quoted = match.group(1), match.group(2).rstrip()
        if not _PO_QUOTED.match(quoted):
            raise SiteError(
                "broken catalogue: the quotes on this line do not match",
                shown,
                number,
                'the text goes between two " marks; write a " inside the text as \\"',
            )
        if keyword is None:
            if not previous:
                raise SiteError("broken catalogue: text in quotes outside an entry", shown, number)
            entry[previous] += quoted[1:-1]
            continue
        if keyword in ("msgctxt", "msgid") and previous.startswith("msgstr"):
            previous = ""  # a new entry starts
        elif keyword in ("msgctxt", "msgid") and previous.startswith("msgid"):
            _no_msgstr(entry, shown, start)
        if keyword.startswith("msgstr") and not previous.startswith(("msgid", "msgstr[")):
            raise SiteError(
                "broken catalogue: a msgstr that does not follow a msgid",
                shown,
                number,
                "each msgid has exactly one msgstr; remove the extra one",
            )
        if keyword in ("msgctxt", "msgid") and not previous:
            entry, start = {}, number
        elif keyword in entry:  # Babel would join the two into a message gettext cannot read
            raise SiteError(
                f"broken catalogue: a second {keyword} in one entry",
                shown,
                number,
                "an entry has one msgid, at most one msgid_plural, and one msgstr (or msgstr[0], msgstr[1]...)",
            )
        entry[keyword] = quoted[1:-1]
        previous = keyword
        if keyword.startswith("msgstr"):
            key = (entry.get("msgctxt", ""), entry.get("msgid", ""))
            if key[1] and seen.setdefault(key, start) != start:
                raise SiteError(
                    f'broken catalogue: msgid "{key[1]}" appears twice',
                    shown,
                    start,
                    f"it is also on line {seen[key]}; keep one of them",
                )
    if previous.startswith("msgid"):
        _no_msgstr(entry, shown, start)


def _no_msgstr(entry: dict[str, str], shown: str, line: int) -> None:
    raise SiteError(
        f'broken catalogue: msgid "{entry.get("msgid", "")}" has no msgstr',
        shown,
        line,
        'add a line msgstr "..." with the translation below it',
    )


MAX_PLURALS = 6  # the most any language has (Arabic)


class BadHeader(ValueError):
    """A line of a catalogue's header (``msgid ""``) that Babel or gettext would crash on or misread."""

    def __init__(self, name: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.name = name
        self.hint = hint


_PLURAL_HINT = 'write it as gettext does, for example "Plural-Forms: nplurals=2; plural=(n != 1);\\n" (Thai: nplurals=1; plural=0;)'


class _CheckedCatalog(Catalog):
    """Babel's catalogue, refusing each header line that would break the build later, by name."""

    def _set_mime_headers(self, headers: Iterable[tuple[str, str]]) -> None:
        for name, value in headers:
            expected = self._locale_identifier
            try:
                super()._set_mime_headers([(name, value)])
            except (ValueError, TypeError, LookupError, AttributeError, ArithmeticError) as exc:  # this line's
                hint = "compare it with another language's messages.po, or delete the line"
                if name.lower() == "plural-forms":
                    hint = _PLURAL_HINT
                elif name.lower() == "language":
                    hint = f"write the language's code as in site.yaml: Language: {expected}"
                raise BadHeader(name, f"the header line '{name}' cannot be read: {exc}", hint) from None
            if name.lower() == "content-type":
                self._check_charset(name)
            elif name.lower() == "plural-forms":
                self._check_plural(name)

    def _check_charset(self, name: str) -> None:
        hint = 'catalogues are UTF-8: write "Content-Type: text/plain; charset=UTF-8\\n"'
        try:
            codec = codecs.lookup(self.charset).name
        except LookupError:
            raise BadHeader(name, f"unknown charset '{self.charset}'", hint) from None
        if codec != "utf-8":
            raise BadHeader(name, f"the catalogue says charset '{self.charset}' but is read as UTF-8", hint)

    def _check_plural(self, name: str) -> None:
        # Babel makes a list of nplurals forms for each plural message: a huge number would fill the memory.
        if not 1 <= self.num_plurals <= MAX_PLURALS:
            raise BadHeader(
                name,
                f"Plural-Forms: nplurals={self.num_plurals} is not a number of forms (1 to {MAX_PLURALS})",
                _PLURAL_HINT,
            )
        try:
            plural = gettext.c2py(self.plural_expr)
            for n in range(200):  # as ngettext will call it: a formula that divides by zero fails here
                plural(n)
        except (ValueError, ArithmeticError, RecursionError) as exc:
            raise BadHeader(
                name, f"Plural-Forms: 'plural={self.plural_expr}' is not a formula: {exc}", _PLURAL_HINT
            ) from None


def header_line(text: str, name: str) -> int:
    """The line of a catalogue on which header ``name`` is written (0 if it is not found as written)."""
    pattern = re.compile(r'^\s*(?:msgstr\s+)?"\s*' + re.escape(name) + r"\s*:", re.IGNORECASE)
    return next((number for number, line in enumerate(text.split("\n"), 1) if pattern.match(line)), 0)


def parse_catalogue(text: str, locale: str, shown: str) -> Catalog:
    """A catalogue's text, already through ``check_po_syntax``, as Babel's ``Catalog``; mistakes are ``SiteError``s."""
    catalog = _CheckedCatalog(locale=locale)
    try:
        PoFileParser(catalog, ignore_obsolete=False, abort_invalid=True).parse(io.StringIO(text))
    except BadHeader as exc:
        raise SiteError(f"broken catalogue: {exc}", shown, header_line(text, exc.name), exc.hint) from None
    except PoFileError as exc:
        message = re.sub(r" on \d+$", "", str(exc))  # Babel appends the line number we report anyway
        raise SiteError(
            f"broken catalogue: {message}",
            shown,
            exc.lineno,
            "check the quotes on this line; each msgid needs a msgstr",
        ) from None
    except (ValueError, IndexError) as exc:
        raise SiteError(
            f"broken catalogue: {exc}", shown, 0, "compare it with another language's messages.po"
        ) from None
    for entry in catalog:
        # A compiled catalogue separates plural forms with NUL and a context from its msgid with EOT.
        texts = [entry.context or "", *_texts(entry.id), *_texts(entry.string)]
        if any("\x00" in text or "\x04" in text for text in texts):
            raise SiteError(
                "broken catalogue: an invisible control character (NUL or EOT) in a message",
                shown,
                entry.lineno or 0,
                "retype the text of this entry; such characters cannot be stored in a catalogue",
            )
    return catalog


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def read_catalogue(config: SiteConfig, lang: str) -> Catalog | None:
    """Parse a ``.po`` file; a broken one is a ``SiteError`` at its line."""
    shown = catalogue_path(lang)
    path = config.root / shown
    if not path.is_file():
        return None
    text = read_source(config.root, shown)
    check_po_syntax(text, shown)
    return parse_catalogue(text, config.language(lang).locale, shown)


def compile_catalogue(catalog: Catalog) -> gettext.GNUTranslations:
    """Compile in memory; fuzzy entries are left out, as msgfmt does."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def load_translations(config: SiteConfig, problems: Collector) -> dict[str, gettext.NullTranslations]:
    """One translations object per language. Message ids are English, so ``en`` may have none."""
    result: dict[str, gettext.NullTranslations] = {}
    for lang in config.languages:
        try:
            catalog = read_catalogue(config, lang.code)
        except SiteError as exc:
            problems.catch(exc)
            continue
        if catalog is None:
            if not lang.locale.startswith("en"):
                problems.warn(
                    f"no catalogue for language '{lang.code}': menus and labels will be in English",
                    catalogue_path(lang.code),
                    0,
                    f"create it with: pybabel init -i locales/messages.pot -d locales -l {lang.code}",
                    kind="ui-untranslated",
                    lang=lang.code,
                )
            result[lang.code] = gettext.NullTranslations()
        else:
            result[lang.code] = compile_catalogue(catalog)
    return result


def catalogue_status(config: SiteConfig, lang: str) -> CatalogueStatus | None:
    """Untranslated and fuzzy strings in a language's catalogue."""
    catalog = read_catalogue(config, lang)
    if catalog is None:
        return None
    untranslated: list[tuple[int, str]] = []
    fuzzy: list[tuple[int, str]] = []
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        line = message.lineno or 0
        if message.fuzzy:
            fuzzy.append((line, msgid))
        elif not message.string or (isinstance(message.string, tuple) and not all(message.string)):
            untranslated.append((line, msgid))
    return CatalogueStatus(catalogue_path(lang), tuple(untranslated), tuple(fuzzy))


_TOKEN = re.compile(r"'(?:[^']|'')*'|G+|y+|[^'Gy]+")


def era_pattern(pattern: str, year: int) -> str:
    """Rewrite a CLDR date pattern so the year is in the Buddhist era (``G`` → ``พ.ศ.``)."""
    be_year = year + BUDDHIST_ERA_OFFSET
    parts: list[str] = []
    for token in _TOKEN.findall(pattern):
        if token.startswith("G"):
            parts.append("'พ.ศ.'")
        elif token.startswith("y"):
            digits = str(be_year)[-2:] if len(token) == 2 else str(be_year)
            parts.append(f"'{digits}'")
        else:
            parts.append(token)
    return "".join(parts)


def era_year(year: int, lang: Language) -> int:
    """A Gregorian year in the language's calendar."""
    return year + BUDDHIST_ERA_OFFSET if lang.calendar == "buddhist" else year


def format_page_date(value: datetime.date, lang: Language, form: DateForm = "long") -> str:
    """A date in the language's words and calendar; Thai uses the Buddhist era (พ.ศ.)."""
    if lang.calendar == "buddhist":
        pattern = get_date_format(form, locale=lang.locale).pattern
        return format_date(value, era_pattern(pattern, value.year), locale=lang.locale)
    return format_date(value, form, locale=lang.locale)

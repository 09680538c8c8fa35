"""UI strings from gettext catalogues (compiled in memory), and dates in each language's calendar."""

from __future__ import annotations

import datetime
import gettext
import io
import re
from dataclasses import dataclass
from typing import Literal

from babel.dates import format_date, get_date_format
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

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


def read_catalogue(config: SiteConfig, lang: str) -> Catalog | None:
    """Parse a ``.po`` file; a broken one is a ``SiteError`` at its line."""
    shown = catalogue_path(lang)
    path = config.root / shown
    if not path.is_file():
        return None
    text = read_source(config.root, shown)
    check_po_syntax(text, shown)
    try:
        return read_po(io.StringIO(text), locale=config.language(lang).locale, abort_invalid=True)
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

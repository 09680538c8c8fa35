"""A site that is not LPN's (``tests/sites/neighbours``): German and English, its own data files, their
shape declared in its own ``site.yaml``, its own templates and JSON-LD. The same engine builds it and
checks its facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sitegen.cli import main
from sitegen.pipeline import build_site

from .conftest import REPO, MakeSite, parse

SITE = "neighbours"


def build(root: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = main(["build", "--root", str(root), "--out", str(out)])
    return code, capsys.readouterr().err.splitlines()


def test_it_builds_its_pages_from_its_own_data(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _ = build(make_site(base=SITE), out, capsys)
    assert code == 0
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))
    assert pages == [
        "404.html",
        "de/about/index.html",
        "de/index.html",
        "en/about/index.html",
        "en/index.html",
        "index.html",
    ]

    home = parse(out / "de" / "index.html")
    assert home.get("lang") == "de"
    # events.yaml: only the public event, its date in German words (Babel), its title in German
    assert [li.text_content() for li in home.cssselect("ul.events li")] == [
        "12. Dezember 2026 Adventscafé im Gemeindehaus"
    ]
    assert home.cssselect("ul.events time")[0].get("datetime") == "2026-12-12"
    # contact.yaml's phone: written as staff wrote it in the site's own language, E.164 in the link
    phone = home.cssselect("p.contact a")[0]
    assert (phone.get("href"), phone.text) == ("tel:+4930901820", "030 901820")
    english_phone = parse(out / "en" / "index.html").cssselect("p.contact a")[0]
    assert english_phone.text == "+49 30 901820"  # the international form in the other language
    assert home.cssselect("span.iban")[0].text == "DE89 3704 0044 0532 0130 00"

    # its JSON-LD is its own: an Organization with events, built by its template
    ld = json.loads(home.cssselect('script[type="application/ld+json"]')[0].text)
    assert ld == {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": "Nachbarschaftshilfe Beispielstadt e.V.",
        "url": "https://nachbarn.example/",
        "telephone": "+4930901820",
        "email": "hallo@nachbarn.example",
        "foundingDate": "1998-05-04",
        "sameAs": "https://nachbarn.example",
        "event": [{"@type": "Event", "name": "Adventscafé im Gemeindehaus", "startDate": "2026-12-12"}],
    }
    english = json.loads(parse(out / "en" / "index.html").cssselect('script[type="application/ld+json"]')[0].text or "")
    assert english["event"][0]["name"] == "Advent café in the parish hall"

    # the English about page is the German one, marked as not yet translated, in the site's English words
    about = parse(out / "en" / "about" / "index.html")
    assert about.cssselect("p.notice")[0].text == "This page has not been translated yet."
    assert "Ein Verein von Nachbarinnen und Nachbarn." in about.text_content()


# mistake → (file, text replaced, its replacement, the exact line the build prints)
MISTAKES = {
    "an IBAN with a digit missing": (
        "data/donations.yaml",
        "0130 00",
        "0130 0",
        "data/donations.yaml:2: error: account number 'DE89 3704 0044 0532 0130 0' does not fit the format"
        " 'DE## #### #### #### #### ##' (check each digit against the bank's record)",
    ),
    "a BIC of a bank in another country": (
        "data/donations.yaml",
        "bic: COBADEFFXXX",
        "bic: KRTHTHBK",
        "data/donations.yaml:4: error: SWIFT code 'KRTHTHBK' is of a bank in TH, but 'country' is DE"
        " (letters 5 and 6 of a SWIFT code are its bank's country: check the code, or the country)",
    ),
    "a BIC that is not one, with the site's example": (
        "data/donations.yaml",
        "bic: COBADEFFXXX",
        "bic: COBA-DE",
        "data/donations.yaml:4: error: 'COBA-DE' is not a SWIFT/BIC code"
        " (it has 8 or 11 capital letters and digits, like COBADEFFXXX)",
    ),
    "a phone in a list of events": (
        "data/events.yaml",
        'phones: ["030 901820"]',
        'phones: ["030 90"]',
        "data/events.yaml:5: error: '030 90' is not a valid phone number"
        " (check the digits; write a DE number like 030 123456, or +49 30 123456)",  # the region's example
    ),
    "a phone with letters, with the site's example": (
        "data/contact.yaml",
        'phone: "030 901820"',
        'phone: "030 NACHBAR"',
        "data/contact.yaml:4: error: '030 NACHBAR' is not a valid phone number"
        " (use only the digits 0-9, spaces, dashes and a leading +, like 030 1234567 or +49 30 1234567)",
    ),
    "a phone with letters in a list, with the region's example": (
        "data/events.yaml",
        'phones: ["030 901820"]',
        'phones: ["030 NACHBAR"]',
        "data/events.yaml:5: error: '030 NACHBAR' is not a valid phone number"
        " (use only the digits 0-9, spaces, dashes and a leading +, like 030 123456 or +49 30 123456)",
    ),
    "a date that is not one": (
        "data/events.yaml",
        "date: 2027-01-16",
        "date: 16.01.2027",
        "data/events.yaml:7: error: 'date' must be a date (write it as YYYY-MM-DD)",
    ),
    "true or false written as a word": (
        "data/events.yaml",
        "public: false",
        "public: nein",
        "data/events.yaml:12: error: 'public' must be true or false (write true or false, without quotes)",
    ),
    "a required key left out": (
        "data/contact.yaml",
        "email: hallo@nachbarn.example\n",
        "",
        "data/contact.yaml:1: error: 'email' is missing (add 'email: ...')",
    ),
    "a key the site does not declare": (
        "data/contact.yaml",
        "website:",
        "webseite:",
        "data/contact.yaml:6: error: unknown key 'webseite' (did you mean 'website'?)",
    ),
    "an e-mail address with a hidden character": (
        "data/contact.yaml",
        "email: hallo@nachbarn.example",
        'email: "hallo@nachbarn\\u200b.example"',
        "data/contact.yaml:5: error: 'hallo@nachbarn\u200b.example' is not an e-mail address"
        " (write it like name@example.org, in plain Latin letters)",
    ),
    "a list file that is not a list": (
        "data/events.yaml",
        None,
        "date: 2026-12-12\n",
        "data/events.yaml:1: error: events must be a list, each item starting with '- date:'",
    ),
    # the declaration itself
    "an unknown kind": (
        "site.yaml",
        "phone: phone, like",
        "phone: phon, like",
        "site.yaml:23: error: unknown kind 'phon' for 'phone' (did you mean 'phone'?)",
    ),
    "a list declared with two shapes": (
        "site.yaml",
        "      public: true/false\n",
        "      public: true/false\n    - date: date\n",
        "site.yaml:33: error: 'events' must give the shape of its items once"
        " (a list is declared by one item, the shape of every item: write '- ' once)",
    ),
    "a kind that is not words": (
        "site.yaml",
        "founded: date",
        "founded: 1998",
        "site.yaml:26: error: 'founded' must say what kind of value it is"
        " (write a kind such as 'text', 'optional phone' or 'list of email')",
    ),
    "a data section that is not a mapping": (
        "site.yaml",
        None,
        "data: [contact]\n",
        "site.yaml:20: error: 'data' must list the data files by name"
        " (write each data file's name (contact for data/contact.yaml) on a line of its own, its keys below it)",
    ),
}


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_its_own_checks_fire_at_file_and_line(
    make_site: MakeSite, tmp_path: Path, capsys: pytest.CaptureFixture[str], mistake: str
) -> None:
    path, old, new, expected = MISTAKES[mistake]
    text = (REPO / "tests" / "sites" / SITE / path).read_text(encoding="utf-8")
    if old is None:  # the whole file, or for site.yaml its data: section, replaced
        text = text[: text.index("data:\n")] + new if path == "site.yaml" else new
    else:
        assert old in text
        text = text.replace(old, new, 1)
    out = tmp_path / "out"
    code, lines = build(make_site({path: text}, base=SITE), out, capsys)
    assert code == 1
    assert lines == [expected, "1 error; nothing was written"]
    assert not out.exists()


def test_an_edit_to_the_imported_json_ld_partial_reaches_every_page(make_site: MakeSite, tmp_path: Path) -> None:
    """The partial is imported (worked out once per language), yet recorded as used by each page: the
    incremental build re-renders them all, as a clean build would."""
    root = make_site(base=SITE)
    out = tmp_path / "out"
    build_site(root, out, jobs=1)
    partial = root / "templates" / "partials" / "jsonld.html"
    partial.write_text(partial.read_text(encoding="utf-8").replace('"Organization"', '"NGO"'), encoding="utf-8")
    built = build_site(root, out, jobs=1)
    assert sorted(name for name in built.written if name.endswith("index.html") and "/" in name) == [
        "de/about/index.html",
        "de/index.html",
        "en/about/index.html",
        "en/index.html",
    ]
    for page in ("de/index.html", "en/about/index.html"):
        ld = json.loads(parse(out / page).cssselect('script[type="application/ld+json"]')[0].text or "")
        assert ld["@type"] == "NGO"

"""What visitors expect from every built page, read from the output files.

Security headers and CSP, favicon, the help call to action, the 404 page.
The browser tests prove the pages work under this CSP (a violation is a console error).
"""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tools.screenshots import SitePage, parse_headers_file


class _Elements(HTMLParser):
    """Start tags with their attributes, and the text of inline scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts: list[tuple[dict[str, str], str]] = []
        self._script: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "script" and "src" not in a:
            self._script, self._text = a, []

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.inline_scripts.append((self._script, "".join(self._text)))
            self._script = None

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _elements(page: SitePage) -> _Elements:
    parser = _Elements()
    parser.feed(page.file.read_text("utf-8"))
    parser.close()
    return parser


def _csp(site_dir: Path) -> dict[str, list[str]]:
    headers_file = site_dir / "_headers"
    assert headers_file.is_file(), "site/_headers is missing"
    for pattern, headers in parse_headers_file(headers_file.read_text("utf-8")):
        if pattern.match("/") and pattern.match("/en/donate/"):
            for name, value in headers:
                if name.lower() == "content-security-policy":
                    directives = [d.split() for d in value.split(";") if d.strip()]
                    return {d[0].lower(): d[1:] for d in directives}
    pytest.fail("site/_headers sets no Content-Security-Policy for every page (a '/*' rule)")


def test_headers_file_sets_security_headers(site_dir: Path) -> None:
    rules = parse_headers_file((site_dir / "_headers").read_text("utf-8"))
    names = {name.lower() for pattern, headers in rules if pattern.match("/th/") for name, _ in headers}
    for required in ("content-security-policy", "x-content-type-options", "referrer-policy"):
        assert required in names, f"_headers does not set {required} on pages"


def test_csp_is_strict(site_dir: Path) -> None:
    csp = _csp(site_dir)
    assert "default-src" in csp, "CSP has no default-src"
    for directive in ("default-src", "script-src", "style-src", "connect-src", "img-src", "font-src"):
        sources = csp.get(directive, csp["default-src"])
        loose = [
            s
            for s in sources
            if s in ("*", "'unsafe-inline'", "'unsafe-eval'", "data:", "http:", "https:")
            and not (directive in ("img-src", "font-src") and s == "data:")
        ]
        foreign = [s for s in sources if not s.startswith("'") and s not in ("data:",)]
        assert not loose, f"CSP {directive} allows {loose}"
        assert not foreign, f"CSP {directive} allows other hosts: {foreign}"
    assert "frame-ancestors" in csp, "CSP has no frame-ancestors (clickjacking)"
    assert "base-uri" in csp, "CSP has no base-uri"


def test_inline_scripts_are_data_or_hashed(site_dir: Path, pages: list[SitePage]) -> None:
    csp = _csp(site_dir)
    allowed = set(csp.get("script-src", csp["default-src"]))
    bad = []
    for page in pages:
        for attrs, text in _elements(page).inline_scripts:
            if attrs.get("type") in ("application/ld+json", "application/json"):
                continue
            digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()
            if f"'sha256-{digest}'" not in allowed:
                bad.append(f"{page.url_path}: inline script without a CSP hash: {text.strip()[:60]!r}")
    assert not bad, "\n  ".join(["", *bad])


def test_every_page_has_a_favicon(pages: list[SitePage]) -> None:
    missing = [
        p.url_path
        for p in pages
        if not any("icon" in a.get("rel", "").lower().split() for a in _elements(p).find("link"))
    ]
    assert not missing, f"pages without <link rel=icon>: {missing}"


def test_every_page_has_a_help_link_in_its_language(pages: list[SitePage]) -> None:
    problems = []
    for page in pages:
        ctas = [a for t, a in _elements(page).tags if t == "a" and "help-cta" in a.get("class", "").split()]
        if not ctas:
            problems.append(f"{page.url_path}: no a.help-cta")
        elif page.lang and not any(a.get("href") == f"/{page.lang}/help/" for a in ctas):
            problems.append(
                f"{page.url_path}: help-cta does not lead to /{page.lang}/help/: {[a.get('href') for a in ctas]}"
            )
    assert not problems, "\n  ".join(["", *problems])


def test_help_pages_have_tel_links(pages: list[SitePage]) -> None:
    helps = [p for p in pages if p.lang and p.url_path == f"/{p.lang}/help/"]
    assert {p.lang for p in helps} >= {"th", "en"}, "help pages missing"
    for page in helps:
        tels = [a["href"] for a in _elements(page).find("a") if a.get("href", "").startswith("tel:")]
        assert tels, f"{page.url_path} has no tel: link"
        bad = [t for t in tels if not re.fullmatch(r"tel:(\+\d{6,15}|\d{3,5})", t)]
        assert not bad, f"{page.url_path}: malformed tel: links {bad}"


def test_404_page_leads_home_in_both_languages(site_dir: Path, pages: list[SitePage]) -> None:
    page = next((p for p in pages if p.url_path == "/404.html"), None)
    assert page is not None, "site/404.html is missing"
    hrefs = {a.get("href") for a in _elements(page).find("a")}
    assert {"/th/", "/en/"} <= hrefs, f"404.html links {sorted(h for h in hrefs if h)}; it needs /th/ and /en/"


def test_language_switcher_links_carry_lang_and_hreflang(pages: list[SitePage]) -> None:
    problems = []
    for page in pages:
        if not page.lang:
            continue
        switch = [a for a in _elements(page).find("a") if "hreflang" in a]
        if not switch:
            problems.append(f"{page.url_path}: no a[hreflang]")
        problems += [f"{page.url_path}: {a.get('href')} has no lang" for a in switch if not a.get("lang")]
    assert not problems, "\n  ".join(["", *problems])

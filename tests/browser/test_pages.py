"""Every built page, at phone and desktop size, in real Chromium.

Each page is loaded once per viewport (see browser_audit.py); the tests below
assert one property each on what was recorded.
"""

from __future__ import annotations

import pytest

from tests.browser.browser_audit import NARROWEST, BrowserAudit, Visit
from tools.screenshots import SitePage

MIN_TARGET = 24  # CSS px, WCAG 2.2 SC 2.5.8 Target Size (Minimum)


def _visit(audit: BrowserAudit, site_page: SitePage, viewport: str) -> Visit:
    return audit.visit(site_page.url_path, viewport)


def _lines(items: list[str]) -> str:
    return "\n  " + "\n  ".join(items)


def test_loads(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    visit = _visit(audit, site_page, viewport)
    assert visit.status == 200, f"{visit.url} answered {visit.status}"
    problems = visit.failed_requests + visit.bad_responses
    assert not problems, f"{site_page.url_path}: failed subresources:{_lines(problems)}"


def test_axe_finds_no_wcag_violations(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    violations = audit.axe(site_page.url_path, viewport)
    report = [
        f"{v['id']} ({v['impact']}): {v['help']}\n    at {n['target']}: {n['html']}\n    {n['summary']}".replace(
            "\n", "\n    "
        )
        for v in violations
        for n in v["nodes"]
    ]
    assert not violations, f"{site_page.url_path} at {viewport}: axe violations:{_lines(report)}"


def test_no_request_leaves_the_site(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    visit = _visit(audit, site_page, viewport)
    requests, foreign = visit.requests, visit.foreign_requests
    assert requests, "no request was recorded at all"
    assert not foreign, f"{site_page.url_path}: external requests:{_lines(foreign)}"


def test_no_console_or_page_errors(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    visit = _visit(audit, site_page, viewport)
    errors = visit.console_errors + [f"uncaught: {e}" for e in visit.page_errors]
    assert not errors, f"{site_page.url_path} at {viewport}:{_lines(errors)}"


def test_no_horizontal_scroll(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    visit = _visit(audit, site_page, viewport)
    scroll, client = visit.measure["scroll"]
    assert scroll <= client, f"{site_page.url_path} scrolls sideways at {viewport}: {scroll}px > {client}px"
    if visit.scroll_at_320 is not None:
        scroll, client = visit.scroll_at_320
        assert scroll <= client, f"{site_page.url_path} scrolls sideways at {NARROWEST}px: {scroll}px > {client}px"


def test_html_lang_is_set(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    lang = _visit(audit, site_page, viewport).measure["htmlLang"]
    assert lang, f"{site_page.url_path}: <html> has no lang"
    if site_page.lang:
        assert lang == site_page.lang, f"{site_page.url_path}: <html lang={lang!r}>"


def test_keyboard_reaches_skip_link_menu_switcher_help_in_order(
    audit: BrowserAudit, site_page: SitePage, viewport: str
) -> None:
    walk = _visit(audit, site_page, viewport).keyboard
    assert walk is not None
    stops = list(walk.stops)
    trail = _lines([f"{s.role or '-'}: {s.desc}" for s in stops])
    assert stops, f"{site_page.url_path}: Tab focused nothing"
    # A skip link is needed where blocks repeat before the content (WCAG 2.4.1): on every
    # language page. The chooser and 404 start with their content and need none.
    if site_page.lang or walk.expected("skip link"):
        assert stops[0].role == "skip link", f"{site_page.url_path}: the first Tab stop is not the skip link:{trail}"
    required = ["help link"]
    if site_page.lang:
        required = ["skip link", "menu", "language switcher", "help link"]
    if site_page.url_path.rstrip("/").endswith("/donate"):
        required.append("donate details")
    for role in required:
        expected, reached = walk.expected(role), walk.reached(role)
        assert expected, f"{site_page.url_path}: no {role} found on the page"
        if role == "donate details":
            assert reached, f"{site_page.url_path}: Tab never reaches the account number or copy control:{trail}"
        else:
            assert expected <= reached, f"{site_page.url_path}: Tab does not reach every {role}:{trail}"
    # Focus order follows the document order of the targets (WCAG 2.4.3).
    order = [s.dom_order for s in stops if s.dom_order is not None]
    assert order == sorted(order), f"{site_page.url_path}: focus order differs from document order:{trail}"


def test_focus_is_visible(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    walk = _visit(audit, site_page, viewport).keyboard
    assert walk is not None
    hidden = [f"{s.role}: {s.desc}" for s in walk.stops if s.role and not s.visible_indicator]
    offscreen = [f"{s.role}: {s.desc}" for s in walk.stops if s.role and not s.in_viewport]
    assert not hidden, f"{site_page.url_path} at {viewport}: no visible focus indicator on:{_lines(hidden)}"
    assert not offscreen, f"{site_page.url_path} at {viewport}: focused but outside the viewport:{_lines(offscreen)}"


def test_touch_targets_are_at_least_24px(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    targets = _visit(audit, site_page, viewport).targets
    small = [
        f"{t['desc']}: {t['width']:.1f}x{t['height']:.1f}"
        for t in targets
        if t["width"] < MIN_TARGET - 0.01 or t["height"] < MIN_TARGET - 0.01
    ]
    assert not small, (
        f"{site_page.url_path} at {viewport}: targets under {MIN_TARGET}x{MIN_TARGET} CSS px:{_lines(small)}"
    )


def test_typography(audit: BrowserAudit, site_page: SitePage, viewport: str) -> None:
    m = _visit(audit, site_page, viewport).measure
    problems = (
        [f"text-align: justify on {d}" for d in m["justify"]]
        + [f"word-break: break-all on {d}" for d in m["breakAll"]]
        + [f"Thai text with {d}" for d in m["letterSpacing"]]
        + [f"Thai text too tight: {d}" for d in m["thaiLineHeight"]]
    )
    assert not problems, f"{site_page.url_path} at {viewport}:{_lines(problems)}"


@pytest.mark.parametrize("lang", ["th", "en"])
def test_every_language_has_pages(pages: list[SitePage], lang: str) -> None:
    found = [p for p in pages if p.lang == lang]
    assert len(found) >= 2, f"no built pages for {lang}"

"""The menu, the language switcher and the help link work with JavaScript turned off."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from tests.browser.browser_audit import BrowserAudit
from tools.screenshots import SitePage


@pytest.fixture(scope="module", params=["phone", "desktop"])
def no_js_page(request: pytest.FixtureRequest, audit: BrowserAudit) -> Iterator[Page]:
    page = audit.new_context(request.param, java_script_enabled=False).new_page()
    yield page
    page.context.close()


def _home_pages(pages: list[SitePage]) -> list[SitePage]:
    return [p for p in pages if p.lang and p.url_path == f"/{p.lang}/"]


def test_keyboard_reaches_every_menu_link_without_javascript(
    no_js_page: Page, origin: str, pages: list[SitePage]
) -> None:
    homes = _home_pages(pages)
    assert homes, "no language home pages found"
    for home in homes:
        response = no_js_page.goto(origin + home.url_path, wait_until="load")
        assert response is not None and response.status == 200
        walk = BrowserAudit.keyboard_walk(no_js_page)
        for role in ("menu", "language switcher", "help link"):
            missing = walk.expected(role) - walk.reached(role)
            assert walk.expected(role), f"{home.url_path}: no {role}"
            assert not missing, f"{home.url_path}: without JavaScript, Tab misses {len(missing)} {role} link(s)"
        unseen = [s.desc for s in walk.stops if s.role == "menu" and not s.in_viewport]
        assert not unseen, f"{home.url_path}: menu links focused but not shown: {unseen}"


def test_menu_links_navigate_without_javascript(no_js_page: Page, origin: str, pages: list[SitePage]) -> None:
    homes = _home_pages(pages)
    assert homes, "no language home pages found"
    for home in homes:
        no_js_page.goto(origin + home.url_path, wait_until="load")
        hrefs = no_js_page.eval_on_selector_all(
            "header nav a[href]:not([hreflang]), nav a[href]:not([hreflang])",
            "els => els.map(e => e.getAttribute('href'))",
        )
        assert hrefs, f"{home.url_path}: no menu links"
        target = next((h for h in hrefs if h.startswith(f"/{home.lang}/") and h != home.url_path), None)
        assert target, f"{home.url_path}: no menu link to another page"
        link = no_js_page.locator(f'nav a[href="{target}"]').first
        if not link.is_visible():  # a collapsed menu: open it as a user would
            toggle = no_js_page.locator("nav summary, nav label").first
            assert toggle.count(), f"{home.url_path}: menu link {target} is hidden and there is no toggle"
            toggle.click()
        # Follow it the way a user would: focus it and press Enter.
        link.focus()
        with no_js_page.expect_navigation():
            no_js_page.keyboard.press("Enter")
        assert no_js_page.url == origin + target

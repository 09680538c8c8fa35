"""The policy in each page's <meta> holds on a host that ignores ``_headers`` (GitHub Pages, a plain server).

The site is served here without its ``_headers`` file. Every page must load with no console
error (a CSP violation is one: the meta policy must not block the site's own stylesheet, icons or
scripts), and a script injected into the page must be refused by the meta policy alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page

from tools.screenshots import SitePage, find_pages, serve_site


@pytest.fixture(scope="module")
def bare_origin(site_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site on a server that sends no security headers."""
    bare = tmp_path_factory.mktemp("bare") / "site"
    shutil.copytree(site_dir, bare)
    (bare / "_headers").unlink()
    with serve_site(bare) as origin:
        yield origin


@pytest.fixture(scope="module")
def bare_page(chromium: Browser, bare_origin: str) -> Iterator[tuple[Page, list[str]]]:
    context = chromium.new_context(service_workers="block")
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    yield page, errors
    context.close()


def test_every_page_loads_under_its_meta_policy_alone(
    bare_page: tuple[Page, list[str]], bare_origin: str, site_dir: Path
) -> None:
    page, errors = bare_page
    pages: list[SitePage] = find_pages(site_dir)
    assert len(pages) > 20
    for site_page in pages:
        errors.clear()
        response = page.goto(bare_origin + site_page.url_path, wait_until="load")
        assert response is not None and response.status == 200, site_page.url_path
        assert response.headers.get("content-security-policy") is None  # only the meta speaks
        assert errors == [], f"{site_page.url_path}: {errors}"
        # The stylesheet applied: a CSP that blocked it would leave the default serif font.
        assert page.evaluate("document.styleSheets.length") >= 1, site_page.url_path


def test_the_meta_policy_refuses_an_injected_script(bare_page: tuple[Page, list[str]], bare_origin: str) -> None:
    page, errors = bare_page
    errors.clear()
    page.goto(bare_origin + "/en/", wait_until="load")
    ran = page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener('securitypolicyviolation', (e) => resolve('blocked: ' + e.violatedDirective));
            const script = document.createElement('script');
            script.textContent = 'window.__injected = true';
            document.body.append(script);
            setTimeout(() => resolve(window.__injected ? 'ran' : 'not run'), 1000);
        })"""
    )
    assert ran.startswith("blocked: script-src"), ran
    assert any("Content Security Policy" in e for e in errors), errors

"""The live preview in a real browser: the reload socket works under the site's own CSP.

The preview sends the production Content-Security-Policy (plus its socket and the error
page's style), so a page that breaks the policy shows it in the preview as it will in
production. These tests check that the preview's own parts break nothing: no violation,
the reload script connects, a save reloads the page, the error page is styled.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.conftest import REPO
from tests.test_serve import ABOUT_EN, ABOUT_TEXT, SITE, Running, start_server, stop_server

WAIT_MS = 30_000  # generous: these wait for a result, they never measure speed

# Every CSP violation, also those Chromium does not report on the console.
VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
    console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
});
"""


@pytest.fixture
def preview(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Running]:
    running = start_server(tmp_path, getattr(request, "param", SITE))  # the real site when parametrised
    yield running
    stop_server(running, signal.SIGTERM)


@pytest.fixture
def page(chromium: Any) -> Iterator[tuple[Page, list[str]]]:
    context = chromium.new_context()
    tab = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # A 404 (no favicon in the test site) and the error page's 500 are what the test asks for.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"{message.text} ({message.location.get('url')})")

    tab.on("console", on_console)
    tab.add_init_script(VIOLATIONS)
    yield tab, errors
    context.close()


def _reload_socket_open(tab: Page, origin: str, go: str) -> None:
    with tab.expect_websocket(lambda ws: ws.url == f"ws://{origin}/livereload", timeout=WAIT_MS) as opened:
        tab.goto(f"http://{origin}{go}", wait_until="load")
    socket = opened.value
    socket.wait_for_event("framereceived", timeout=WAIT_MS)  # the server's "hello": the handshake is done
    assert not socket.is_closed()


def test_a_save_reloads_the_page_under_the_sites_csp(preview: Running, page: tuple[Page, list[str]]) -> None:
    tab, errors = page
    origin = f"127.0.0.1:{preview.port}"
    _reload_socket_open(tab, origin, "/en/about/")
    assert ABOUT_TEXT in tab.inner_text("body")
    path = preview.root / ABOUT_EN
    good = path.read_text(encoding="utf-8")

    path.write_text(good.replace(ABOUT_TEXT, "Reloaded by itself."), encoding="utf-8")
    tab.wait_for_function("() => document.body.innerText.includes('Reloaded by itself.')", timeout=WAIT_MS)

    path.write_text(good.replace("title: About us", 'title: "About us'), encoding="utf-8")
    tab.wait_for_function("() => document.title === 'The site could not be built'", timeout=WAIT_MS)
    # the error page's inline style is allowed by its hash: the heading is red
    assert tab.eval_on_selector("h1", "h => getComputedStyle(h).color") == "rgb(170, 0, 0)"

    path.write_text(good, encoding="utf-8")
    tab.wait_for_function(f"() => document.body.innerText.includes('{ABOUT_TEXT}')", timeout=WAIT_MS)
    assert errors == []


@pytest.mark.parametrize("preview", [REPO], indirect=True, ids=["lpn-site"])
def test_the_real_site_has_no_violation_in_the_preview(preview: Running, page: tuple[Page, list[str]]) -> None:
    tab, errors = page
    origin = f"localhost:{preview.port}"
    for path in ("/en/", "/th/"):
        _reload_socket_open(tab, origin, path)
    assert errors == []


def test_the_reload_socket_works_on_ipv6(tmp_path: Path, page: tuple[Page, list[str]]) -> None:
    # A CSP host-source cannot name [::1], and livereload.js cannot read it from its own URL:
    # the socket is allowed as 'self' (CSP3: same host and port, ws: for an http: page).
    running = start_server(tmp_path, address="::1")
    try:
        tab, errors = page
        _reload_socket_open(tab, f"[::1]:{running.port}", "/en/about/")
        path = running.root / ABOUT_EN
        path.write_text(path.read_text(encoding="utf-8").replace(ABOUT_TEXT, "Reloaded over IPv6."), encoding="utf-8")
        tab.wait_for_function("() => document.body.innerText.includes('Reloaded over IPv6.')", timeout=WAIT_MS)
        assert errors == []
    finally:
        stop_server(running, signal.SIGTERM)

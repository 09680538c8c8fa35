"""The preview (``build.py serve``) reloads the open tab although every page carries the site's meta policy.

livereload puts an inline script into each page, and that script connects back to the preview by
websocket; the site's own policy forbids both. The preview widens the meta policy of the pages it
serves for exactly that script and its own origin, and nothing else.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, WebSocket

from tests.browser.conftest import REPO_ROOT

SITE = REPO_ROOT / "tests" / "sites" / "basic"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("preview")
    root = tmp / "src"
    shutil.copytree(SITE, root)
    port = _free_port()
    with (tmp / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(REPO_ROOT / "build.py"), "serve", "--root", str(root), "--port", str(port)],
            cwd=tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the preview did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_open_tab_connects_for_reloads_without_a_csp_violation(chromium: Browser, preview: str) -> None:
    context = chromium.new_context(service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    sockets: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Every message: the fixture site has no favicon, so Chromium's own request for one fails.
        if message.type in ("error", "warning") and "/favicon.ico" not in str(message.location.get("url")):
            errors.append(f"{message.text} ({message.location.get('url')})")

    def on_socket(socket: WebSocket) -> None:
        sockets.append(socket.url)

    page.on("console", on_console)
    page.on("websocket", on_socket)
    try:
        response = page.goto(preview + "/en/", wait_until="load")
        assert response is not None and response.status == 200
        html = page.content()
        assert 'http-equiv="Content-Security-Policy"' in html  # the page keeps its policy
        page.wait_for_function("() => window.LiveReload !== undefined", timeout=10_000)
        deadline = time.monotonic() + 10
        while not sockets and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        assert sockets == [preview.replace("http:", "ws:") + "/livereload"]
        assert errors == []
    finally:
        context.close()

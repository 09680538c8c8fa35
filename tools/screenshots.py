"""Screenshots of every built page, at phone and desktop sizes.

    python -m tools.screenshots [--out screenshots] [--site DIR]

Without ``--site`` the site is built first into a temporary folder. The module
also holds the helpers that the browser tests share: building the site,
serving a built site on loopback the way a static host would, and launching
Debian's Chromium through Playwright.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# Without the background-networking flags Chromium keeps calling home, which
# both slows it down on a closed network and would count as external requests.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# (name, width, height, full_page)
VIEWPORTS = [("phone", 360, 640, True), ("desktop", 1280, 800, False)]


class ChromiumMissing(RuntimeError):
    """Chromium is not where we expect it."""


@dataclass(frozen=True)
class SitePage:
    """One built HTML page: its file and the URL path a static host serves it at."""

    file: Path
    url_path: str

    @property
    def slug(self) -> str:
        """A file-name-safe name for the page, e.g. ``th_donate`` or ``root``."""
        inner = self.url_path.strip("/").removesuffix(".html")
        return inner.replace("/", "_") or "root"

    @property
    def lang(self) -> str | None:
        """The language prefix of the URL (``th``, ``en``), or None for root pages."""
        first = self.url_path.strip("/").split("/")[0]
        return first if first and "." not in first else None


def build_into(out: Path, root: Path = REPO_ROOT, *extra: str) -> Path:
    """Build the site with the project's own CLI, as a user would, into ``out`` (not sitegen's build_site)."""
    subprocess.run([sys.executable, "build.py", "--out", str(out), *extra], cwd=root, check=True)
    return out


def find_pages(site: Path) -> list[SitePage]:
    """Every HTML page of a built site: all ``index.html`` files plus ``404.html``."""
    pages = []
    for file in sorted(site.rglob("index.html")):
        rel = file.parent.relative_to(site).as_posix()
        pages.append(SitePage(file, "/" if rel == "." else f"/{rel}/"))
    not_found = site / "404.html"
    if not_found.is_file():
        pages.append(SitePage(not_found, "/404.html"))
    return pages


def parse_headers_file(text: str) -> list[tuple[re.Pattern[str], list[tuple[str, str]]]]:
    """Parse a Netlify/Cloudflare ``_headers`` file into (path pattern, headers) rules."""
    rules: list[tuple[re.Pattern[str], list[tuple[str, str]]]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not raw[0].isspace():
            pattern = re.escape(line.strip()).replace(r"\*", ".*")
            pattern = re.sub(r":[A-Za-z_]\w*", "[^/]+", pattern)
            rules.append((re.compile(pattern + r"\Z"), []))
        elif rules and ":" in line and not line.strip().startswith("!"):
            name, value = line.strip().split(":", 1)
            rules[-1][1].append((name.strip(), value.strip()))
    return rules


# What static hosts send; Python's defaults lack the charset and some types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


class _StaticHandler(SimpleHTTPRequestHandler):
    """A static host: ``/x/`` serves ``/x/index.html``, unknown paths get 404.html
    with status 404, no directory listings, and the rules of ``_headers`` apply."""

    protocol_version = "HTTP/1.1"
    header_rules: ClassVar[list[tuple[re.Pattern[str], list[tuple[str, str]]]]] = []

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        return CONTENT_TYPES.get(Path(path).suffix.lower()) or super().guess_type(path)

    def end_headers(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        for pattern, headers in self.header_rules:
            if pattern.match(path):
                for name, value in headers:
                    self.send_header(name, value)
        super().end_headers()

    def list_directory(self, path: str | os.PathLike[str]) -> None:
        self.send_error(404)
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_site(site: Path) -> Iterator[str]:
    """Serve a built site on a free loopback port; yields the origin, e.g. ``http://127.0.0.1:4321``."""
    headers_file = site / "_headers"
    rules = parse_headers_file(headers_file.read_text("utf-8")) if headers_file.is_file() else []
    handler = type("Handler", (_StaticHandler,), {"header_rules": rules})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def chromium_path() -> str:
    """Where Chromium is (``CHROMIUM_PATH`` overrides); raises ChromiumMissing if absent."""
    path = os.environ.get("CHROMIUM_PATH", DEFAULT_CHROMIUM)
    if not Path(path).is_file():
        raise ChromiumMissing(
            f"Chromium not found at {path}. Install it with 'apt-get install -y chromium' "
            "(Debian) or set CHROMIUM_PATH; Playwright's own browser download is not used."
        )
    return path


def launch_chromium(playwright: Playwright) -> Browser:
    """Launch headless Debian Chromium with flags that keep it off the network."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def take_screenshots(site: Path, out: Path) -> list[Path]:
    """Write a PNG of every page at each size in VIEWPORTS; returns the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with serve_site(site) as origin, sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            for name, width, height, full_page in VIEWPORTS:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                for site_page in find_pages(site):
                    page.goto(origin + site_page.url_path, wait_until="load")
                    page.evaluate("document.fonts.ready")
                    file = out / f"{site_page.slug}_{name}_{width}.png"
                    page.screenshot(path=str(file), full_page=full_page)
                    written.append(file)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: build (unless --site) and photograph every page."""
    parser = argparse.ArgumentParser(prog="python -m tools.screenshots", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "screenshots", help="folder for the PNGs")
    parser.add_argument("--site", type=Path, help="an already built site (default: build one now)")
    args = parser.parse_args(argv)
    try:
        if args.site:
            files = take_screenshots(args.site, args.out)
        else:
            with tempfile.TemporaryDirectory(prefix="lpn-site-") as tmp:
                site = build_into(Path(tmp) / "site")
                files = take_screenshots(site, args.out)
    except ChromiumMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

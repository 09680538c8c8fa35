"""Fixtures for the browser tests: one build, one loopback server, one Chromium.

The site is built once per test session (at collection time, because the tests
are parametrised by the pages found in the output). ``LPN_SITE_DIR`` points the
tests at an already built site instead. Chromium is Debian's; when it is
missing the tests fail, they never skip: CI must run them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
if str(REPO_ROOT) not in sys.path:  # for tools/ and bench/ under --import-mode=importlib
    sys.path.insert(0, str(REPO_ROOT))

from tests.browser.browser_audit import VIEWPORTS, BrowserAudit  # noqa: E402
from tools.screenshots import (  # noqa: E402
    ChromiumMissing,
    SitePage,
    build_into,
    chromium_path,
    find_pages,
    launch_chromium,
    serve_site,
)

AXE_JS = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"

_built: dict[str, Path] = {}


def built_site_dir() -> Path:
    """The built site: ``LPN_SITE_DIR`` if set, else built once into a temporary folder."""
    if "site" not in _built:
        given = os.environ.get("LPN_SITE_DIR")
        if given:
            _built["site"] = Path(given).resolve()
        else:
            tmp = Path(tempfile.mkdtemp(prefix="lpn-browser-"))
            atexit.register(shutil.rmtree, tmp, ignore_errors=True)
            _built["site"] = build_into(tmp / "site", REPO_ROOT)
    return _built["site"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``site_page`` by every built page, ``donate_page`` by the donate
    pages and ``viewport`` by VIEWPORTS."""
    if "site_page" in metafunc.fixturenames:
        pages = find_pages(built_site_dir())
        metafunc.parametrize("site_page", pages, ids=[p.slug for p in pages])
    if "donate_page" in metafunc.fixturenames:
        pages = [p for p in find_pages(built_site_dir()) if p.url_path.rstrip("/").endswith("/donate")]
        assert len(pages) >= 2, "no donate page in each language: the donate tests would not run"
        metafunc.parametrize("donate_page", pages, ids=[p.slug for p in pages])
    if "viewport" in metafunc.fixturenames:
        metafunc.parametrize("viewport", list(VIEWPORTS), ids=list(VIEWPORTS))


@pytest.fixture(scope="session")
def site_dir() -> Path:
    """The built site folder."""
    return built_site_dir()


@pytest.fixture(scope="package")
def origin(site_dir: Path) -> Iterator[str]:
    """Origin of a loopback static server for the built site."""
    with serve_site(site_dir) as url:
        yield url


@pytest.fixture(scope="session")
def pages(site_dir: Path) -> list[SitePage]:
    """All built pages."""
    return find_pages(site_dir)


# Package scope: Playwright's sync API keeps an event loop running in this thread,
# which would break asyncio.run() in tests outside tests/browser that run later.
@pytest.fixture(scope="package")
def chromium(origin: str) -> Iterator[Any]:
    """One headless Chromium for the whole session."""
    from playwright.sync_api import sync_playwright

    try:
        chromium_path()
    except ChromiumMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="package")
def audit(chromium: Any, origin: str) -> Iterator[BrowserAudit]:
    """Cached per-page measurements, one browser context per viewport."""
    if not AXE_JS.is_file():
        pytest.fail(f"{AXE_JS.relative_to(REPO_ROOT)} is missing: run 'npm ci' first", pytrace=False)
    with BrowserAudit(chromium, origin, AXE_JS) as result:
        yield result


@pytest.fixture(scope="session")
def bank() -> dict[str, Any]:
    """The bank details from ``data/bank.yaml``."""
    import yaml

    with open(REPO_ROOT / "data" / "bank.yaml", encoding="utf-8") as f:
        data: dict[str, Any] = yaml.safe_load(f)
    return data

"""Every internal link and every asset of every built page resolves on a static host.

References are collected from the HTML (and from ``url()`` in the CSS), de-duplicated
across pages, then each is fetched once from the loopback server: a link must
answer 200 directly (a redirect is a page the engine linked without its slash).
"""

from __future__ import annotations

import http.client
import xml.etree.ElementTree as ET
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from bench.page_weight import CSS_URL
from tools.screenshots import SitePage

ASSET_ATTRS = {
    ("script", "src"),
    ("img", "src"),
    ("source", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("track", "src"),
    ("input", "src"),
    ("iframe", "src"),
    ("embed", "src"),
    ("object", "data"),
}
SRCSET_TAGS = {"img", "source"}
LINK_ASSET_RELS = {
    "stylesheet",
    "icon",
    "preload",
    "modulepreload",
    "manifest",
    "apple-touch-icon",
    "mask-icon",
    "prefetch",
}


class _References(HTMLParser):
    """Collects links, assets, absolute metadata URLs and element ids of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.assets: list[str] = []
        self.meta_urls: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and "name" in a:
            self.ids.add(a["name"])
        if tag in ("a", "area") and "href" in a:
            self.links.append(a["href"])
        if tag == "link" and "href" in a:
            rels = set(a.get("rel", "").lower().split())
            if rels & LINK_ASSET_RELS:
                self.assets.append(a["href"])
            elif rels & {"canonical", "alternate"}:
                self.meta_urls.append(a["href"])
        if tag == "meta" and a.get("property") in ("og:url", "og:image"):
            self.meta_urls.append(a.get("content", ""))
        for t, attr in ASSET_ATTRS:
            if tag == t and a.get(attr):
                self.assets.append(a[attr])
        if tag in SRCSET_TAGS and a.get("srcset"):
            self.assets += [part.strip().split()[0] for part in a["srcset"].split(",") if part.strip()]


def _parse(file: Path) -> _References:
    parser = _References()
    parser.feed(file.read_text("utf-8"))
    parser.close()
    return parser


def _is_local(url: str) -> bool:
    return not urlsplit(url).scheme and not url.startswith("//")


def _fetch_status(origin: str, path: str) -> int:
    host, port = urlsplit(origin).hostname, urlsplit(origin).port
    conn = http.client.HTTPConnection(host or "127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def references(site_dir: Path, pages: list[SitePage]) -> dict[str, _References]:
    """Parsed references of every page, by URL path."""
    return {p.url_path: _parse(p.file) for p in pages}


def _targets(site_dir: Path, references: dict[str, _References]) -> dict[str, set[str]]:
    """Every local URL path referenced (links, assets, CSS url()), with the pages that use it."""
    used: dict[str, set[str]] = defaultdict(set)
    for page_path, refs in references.items():
        for url in refs.links + refs.assets:
            if _is_local(url) and not url.startswith("#"):
                used[urlsplit(urljoin(page_path, url)).path].add(page_path)
    for css in site_dir.rglob("*.css"):
        css_path = "/" + css.relative_to(site_dir).as_posix()
        for _, url in CSS_URL.findall(css.read_text("utf-8")):
            if _is_local(url) and not url.startswith(("#", "data:")):
                used[urlsplit(urljoin(css_path, url)).path].add(css_path)
    return used


def test_no_asset_comes_from_another_origin(references: dict[str, _References]) -> None:
    foreign = sorted(
        {f"{page}: {url}" for page, refs in references.items() for url in refs.assets if not _is_local(url)}
    )
    assert not foreign, "assets from other origins:\n  " + "\n  ".join(foreign)


def test_internal_links_and_assets_answer_200(site_dir: Path, origin: str, references: dict[str, _References]) -> None:
    used = _targets(site_dir, references)
    assert used, "no internal link found at all"
    broken = []
    for path in sorted(used):
        status = _fetch_status(origin, path)
        if status != 200:
            sources = ", ".join(sorted(used[path])[:3]) + (" …" if len(used[path]) > 3 else "")
            broken.append(f"{status} {path} (linked from {sources})")
    assert not broken, "broken internal links or assets:\n  " + "\n  ".join(broken)


def test_fragments_point_to_existing_ids(references: dict[str, _References]) -> None:
    missing = []
    for page_path, refs in references.items():
        for url in refs.links:
            if not _is_local(url) or "#" not in url:
                continue
            target, fragment = urljoin(page_path, url).split("#", 1)
            target_path = urlsplit(target).path
            target_refs = references.get(target_path)
            if fragment and target_refs is not None and unquote(fragment) not in target_refs.ids:
                missing.append(f"{page_path}: {url}")
    assert not missing, "links to missing anchors:\n  " + "\n  ".join(sorted(set(missing)))


def test_canonical_hreflang_and_og_urls_point_to_built_pages(origin: str, references: dict[str, _References]) -> None:
    broken = []
    for page_path, refs in references.items():
        for url in refs.meta_urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https"):
                broken.append(f"{page_path}: {url!r} is not absolute")
            elif _fetch_status(origin, parts.path) != 200:
                broken.append(f"{page_path}: {url} has no built page")
    assert not broken, "\n  ".join(["bad canonical/alternate/og URLs:", *sorted(set(broken))])


def test_sitemap_lists_only_built_pages(site_dir: Path, origin: str, pages: list[SitePage]) -> None:
    sitemap = site_dir / "sitemap.xml"
    assert sitemap.is_file(), "site/sitemap.xml is missing"
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "xhtml": "http://www.w3.org/1999/xhtml"}
    root = ET.parse(sitemap).getroot()
    locs = [e.text or "" for e in root.iterfind("sm:url/sm:loc", ns)]
    alternates = [e.get("href", "") for e in root.iterfind("sm:url/xhtml:link", ns)]
    assert locs, "sitemap.xml lists no URL"
    broken = sorted({u for u in locs + alternates if _fetch_status(origin, urlsplit(u).path) != 200})
    assert not broken, "sitemap URLs without a built page:\n  " + "\n  ".join(broken)
    listed = {urlsplit(u).path for u in locs}
    unlisted = [p.url_path for p in pages if p.lang and p.url_path not in listed]
    assert not unlisted, "built pages missing from sitemap.xml:\n  " + "\n  ".join(unlisted)

"""Page weight of every built page, against the budget of issue 4.

    python bench/page_weight.py [--site DIR]

Without ``--site`` the site is built first into a temporary folder. For each
page it prints the HTML bytes (raw and gzipped), the critical path (HTML plus
render-blocking CSS, gzipped), the requests of a full load and their bytes.
Exits 1 if a page is over budget:

- critical path at most 14 KB gzipped (one TCP round trip: 10 segments of ~1.4 KB);
- at most one render-blocking request after the HTML;
- JavaScript at most 2 KB gzipped.

Sizes are counted from the files, gzipped at level 6 (the zlib default most
static hosts use), so they are deterministic.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # run as a script: python bench/page_weight.py
    sys.path.insert(0, str(REPO_ROOT))

from tools.screenshots import build_into, find_pages  # noqa: E402

CRITICAL_BUDGET = 14 * 1024
BLOCKING_BUDGET = 1
JS_BUDGET = 2 * 1024

CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
CSS_IMPORT = re.compile(r"@import\s+(?:url\(\s*)?['\"]?([^'\")\s;]+)")


@dataclass(frozen=True)
class Resource:
    """A subresource of a page: its URL path, kind and whether it blocks rendering."""

    path: str
    kind: str  # css, js, image, font, other
    blocking: bool


@dataclass(frozen=True)
class PageWeight:
    """The weight of one page."""

    page: str
    html_raw: int
    html_gz: int
    critical_gz: int
    blocking: tuple[str, ...]
    requests: int
    total_raw: int
    total_gz: int
    js_gz: int
    missing: tuple[str, ...]
    external: tuple[str, ...]

    def problems(self) -> list[str]:
        """Budget breaches and unresolvable resources of this page."""
        out = []
        if self.critical_gz > CRITICAL_BUDGET:
            out.append(f"critical path {self.critical_gz} B gzipped > {CRITICAL_BUDGET} B")
        if len(self.blocking) > BLOCKING_BUDGET:
            out.append(f"{len(self.blocking)} render-blocking requests > {BLOCKING_BUDGET}: {', '.join(self.blocking)}")
        if self.js_gz > JS_BUDGET:
            out.append(f"JavaScript {self.js_gz} B gzipped > {JS_BUDGET} B")
        out += [f"missing file for {p}" for p in self.missing]
        out += [f"external resource {u}" for u in self.external]
        return out


def gzip_size(data: bytes) -> int:
    """Size of the data gzipped at level 6, without a timestamp."""
    return len(gzip.compress(data, compresslevel=6, mtime=0))


class _Subresources(HTMLParser):
    """Finds what a browser would fetch for a page, and what blocks its first render."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, bool]] = []  # (url, kind, blocking)
        self.in_head = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.in_head = False
        if tag == "link" and a.get("href"):
            rels = set(a.get("rel", "").lower().split())
            if "stylesheet" in rels and "alternate" not in rels and "disabled" not in a:
                media = a.get("media", "all").strip().lower()
                self.found.append((a["href"], "css", media in ("", "all", "screen")))
            elif rels & {"icon", "apple-touch-icon"}:
                self.found.append((a["href"], "image", False))
            elif rels & {"preload", "modulepreload"}:
                kind = {"style": "css", "script": "js", "font": "font", "image": "image"}.get(a.get("as", ""), "other")
                self.found.append((a["href"], "js" if "modulepreload" in rels else kind, False))
            elif "manifest" in rels:
                self.found.append((a["href"], "other", False))
        elif tag == "script" and a.get("src"):
            deferred = "async" in a or "defer" in a or a.get("type") == "module"
            self.found.append((a["src"], "js", self.in_head and not deferred))
        elif tag in ("img", "source", "video", "audio", "input", "embed") and a.get("src"):
            self.found.append((a["src"], "image", False))
        elif tag == "img" and a.get("srcset"):
            self.found.append((a["srcset"].split(",")[0].split()[0], "image", False))


def _file_for(site: Path, path: str) -> Path:
    file = site / unquote(path).lstrip("/")
    return file / "index.html" if path.endswith("/") else file


def subresources(site: Path, page_path: str, html: str) -> tuple[list[Resource], list[str]]:
    """The resources a full load of the page fetches (CSS ``url()`` and ``@import`` included),
    and any URL on another origin."""
    parser = _Subresources()
    parser.feed(html)
    parser.close()
    seen: dict[str, Resource] = {}
    external: list[str] = []
    queue = [(urljoin(page_path, url), kind, blocking) for url, kind, blocking in parser.found]
    while queue:
        url, kind, blocking = queue.pop(0)
        if url.startswith("data:"):
            continue
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            external.append(url)
            continue
        if parts.path in seen:
            continue
        seen[parts.path] = Resource(parts.path, kind, blocking)
        file = _file_for(site, parts.path)
        if kind == "css" and file.is_file():
            css = file.read_text("utf-8")
            imports = set(CSS_IMPORT.findall(css))
            for ref in imports:  # an @import inside blocking CSS blocks too
                queue.append((urljoin(parts.path, ref), "css", blocking))
            for _, ref in CSS_URL.findall(css):
                if ref not in imports:
                    ext = ref.rsplit(".", 1)[-1].lower()
                    queue.append(
                        (urljoin(parts.path, ref), "font" if ext in ("woff2", "woff", "ttf", "otf") else "image", False)
                    )
    return list(seen.values()), external


def measure_page(site: Path, page_path: str) -> PageWeight:
    """Weigh one page given its URL path (``/th/donate/``)."""
    html_bytes = _file_for(site, page_path).read_bytes()
    resources, external = subresources(site, page_path, html_bytes.decode("utf-8"))
    total_raw, total_gz = len(html_bytes), gzip_size(html_bytes)
    critical, js_gz, missing = total_gz, 0, []
    for res in resources:
        file = _file_for(site, res.path)
        if not file.is_file():
            missing.append(res.path)
            continue
        data = file.read_bytes()
        # Already compressed formats are served as they are.
        gz = (
            len(data)
            if file.suffix in (".woff2", ".woff", ".png", ".jpg", ".jpeg", ".webp", ".avif", ".gif")
            else gzip_size(data)
        )
        total_raw += len(data)
        total_gz += gz
        if res.blocking:
            critical += gz
        if res.kind == "js":
            js_gz += gz
    return PageWeight(
        page=page_path,
        html_raw=len(html_bytes),
        html_gz=gzip_size(html_bytes),
        critical_gz=critical,
        blocking=tuple(r.path for r in resources if r.blocking),
        requests=1 + len(resources),
        total_raw=total_raw,
        total_gz=total_gz,
        js_gz=js_gz,
        missing=tuple(missing),
        external=tuple(external),
    )


def measure_site(site: Path) -> list[PageWeight]:
    """Weigh every page of a built site."""
    return [measure_page(site, page.url_path) for page in find_pages(site)]


def format_table(weights: list[PageWeight]) -> str:
    """A plain-text table, one row per page, then the budget."""
    head = ("page", "HTML", "HTML gz", "critical gz", "blocking", "requests", "full load", "full gz", "JS gz")
    rows = [
        (
            w.page,
            str(w.html_raw),
            str(w.html_gz),
            str(w.critical_gz),
            str(len(w.blocking)),
            str(w.requests),
            str(w.total_raw),
            str(w.total_gz),
            str(w.js_gz),
        )
        for w in weights
    ]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row))

    budget = f"budget: critical path <= {CRITICAL_BUDGET} B gz, <= {BLOCKING_BUDGET} blocking request, JS <= {JS_BUDGET} B gz (bytes)"
    return "\n".join([line(head), line(tuple("-" * w for w in widths)), *map(line, rows), budget])


def main(argv: list[str] | None = None) -> int:
    """Command line: build (unless --site), print the table, exit 1 if over budget."""
    parser = argparse.ArgumentParser(prog="python bench/page_weight.py", description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="an already built site (default: build one now)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lpn-weight-") as tmp:
        site = args.site
        if site is None:
            site = build_into(Path(tmp) / "site")
        weights = measure_site(site)
    print(format_table(weights))
    problems = [f"{w.page}: {p}" for w in weights for p in w.problems()]
    for problem in problems:
        print(f"OVER BUDGET {problem}", file=sys.stderr)
    print(f"{len(weights)} pages, {len(problems)} over budget")
    return 1 if problems or not weights else 0


if __name__ == "__main__":
    sys.exit(main())

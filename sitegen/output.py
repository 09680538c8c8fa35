"""Writing the site: everything into a temporary folder beside the output, then one swap."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .errors import Collector
from .model import Site, page_url

ASSETS_DIR = "assets"


@dataclass(frozen=True)
class Asset:
    """A static file, with its content-hashed output name."""

    source: Path
    name: str  # path under assets/, as templates ask for it
    output: str  # path under the output folder

    @property
    def url(self) -> str:
        return "/" + self.output


def hashed_name(name: str, content: bytes) -> str:
    """``css/style.css`` → ``css/style.1a2b3c4d.css``: a new name whenever the bytes change."""
    digest = hashlib.sha256(content).hexdigest()[:10]
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{digest}.{ext}" if dot else f"{name}.{digest}"


def find_assets(root: Path) -> list[Asset]:
    """Every file under ``assets/``, sorted, with its hashed output name."""
    folder = root / ASSETS_DIR
    assets: list[Asset] = []
    for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
        if not path.is_file() or any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        name = path.relative_to(folder).as_posix()
        assets.append(Asset(path, name, f"{ASSETS_DIR}/{hashed_name(name, path.read_bytes())}"))
    return assets


def sitemap(site: Site) -> str:
    """``sitemap.xml`` with every real page and its hreflang alternates (fallbacks left out)."""
    config = site.config
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for page in site.pages:
        if page.fallback:
            continue
        lines.append("  <url>")
        lines.append(f"    <loc>{escape(config.absolute(page.url))}</loc>")
        alternates = site.alternates(page)
        for alt in alternates:
            href = quoteattr(config.absolute(alt.url))
            lines.append(f'    <xhtml:link rel="alternate" hreflang="{alt.lang}" href={href}/>')
        default = "/" if page.key == "index" else (site.url_for(page.key, config.default_lang) or page.url)
        lines.append(
            f'    <xhtml:link rel="alternate" hreflang="x-default" href={quoteattr(config.absolute(default))}/>'
        )
        lines.append("  </url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def robots(site: Site) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {site.config.absolute('/sitemap.xml')}\n"


CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'none'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def headers_file() -> str:
    """Security headers for static hosts that read a ``_headers`` file (Netlify, Cloudflare Pages)."""
    return (
        "/*\n"
        f"  Content-Security-Policy: {CONTENT_SECURITY_POLICY}\n"
        "  Referrer-Policy: no-referrer\n"
        "  X-Content-Type-Options: nosniff\n"
        "  Permissions-Policy: camera=(), microphone=(), geolocation=(), interest-cohort=()\n"
        "  Cross-Origin-Opener-Policy: same-origin\n"
        "  Strict-Transport-Security: max-age=31536000\n"
        "/assets/*\n"
        "  Cache-Control: public, max-age=31536000, immutable\n"
    )


def check_unique(outputs: Iterable[tuple[str, str]], problems: Collector) -> None:
    """Refuse two sources that would write one output file."""
    seen: dict[str, str] = {}
    for output, source in outputs:
        if output in seen:
            problems.error(f"this and {seen[output]} both write {output}", source, 0, "rename or remove one of them")
        else:
            seen[output] = source


def write_site(out: Path, files: dict[str, bytes], assets: list[Asset]) -> None:
    """Write every file into a temporary folder next to ``out``, then swap it in.

    A failure before the swap leaves the previous output exactly as it was.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for asset in assets:
            target = staging / asset.output
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(asset.source, target)
        for relative, content in sorted(files.items()):
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        os.chmod(staging, 0o755)
        swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def swap_in(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` with renames, so readers never see a half-written site."""
    if not out.exists():
        os.replace(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def home_urls(site: Site) -> dict[str, str]:
    return {code: page_url(code, "index") for code in site.config.codes}

"""Writing the site, atomically.

A full build writes everything into a temporary folder beside the output, then swaps it in
with renames. An incremental build writes the files that changed into such a folder, and only
once every page has rendered and passed the checks, moves each one into place with
``os.replace`` (new assets first, so that no page names an asset not there yet) and then removes
the files whose source is gone. Either way a build that fails leaves the previous output as it
was, and no reader ever sees a half-written file. Should the moves themselves be cut short (a
full disk, a power cut), the next build finishes the job: the cache still describes the old
files, so it renders again every output that is not as the cache says, and removes the others.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from .model import Site

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
    return _hashed(name, hashlib.sha256(content).hexdigest())


def _hashed(name: str, sha256: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return f"{stem}.{sha256[:10]}.{ext}" if dot else f"{name}.{sha256[:10]}"


def find_assets(root: Path, digest: Callable[[str], str] | None = None) -> list[Asset]:
    """Every file under ``assets/``, sorted, with its hashed output name.

    ``digest`` gives the hex SHA-256 of a file (its first ten digits at least) by its path
    relative to ``root``: a build cache passes one that does not read unchanged files again.
    """
    from .errors import BuildFailed, SiteError
    from .source import check_links, inside_project, read_file, walk_files

    try:  # before walking: a link to / would have the whole disk walked
        inside_project(root, ASSETS_DIR)
    except SiteError as exc:
        raise BuildFailed([exc.problem]) from None
    links: list[str] = []
    found = walk_files(root / ASSETS_DIR, links)
    problems = [exc.problem for exc in check_links(root, ASSETS_DIR, links)]
    assets: list[Asset] = []
    for name in sorted((name for name, _ in found), key=lambda name: name.split("/")):
        if any(part.startswith(".") for part in name.split("/")):
            continue
        relative = f"{ASSETS_DIR}/{name}"
        try:  # the file is copied from its real path, checked to be inside the project
            path = inside_project(root, relative)
            hashed = _hashed(name, digest(relative)) if digest else hashed_name(name, read_file(root, relative))
        except SiteError as exc:
            problems.append(exc.problem)
            continue
        assets.append(Asset(path, name, f"{ASSETS_DIR}/{hashed}"))
    if problems:
        raise BuildFailed(problems)
    return assets


def sitemap(site: Site) -> str:
    """``sitemap.xml`` with every real page and its hreflang alternates (fallbacks left out)."""
    from xml.sax.saxutils import escape, quoteattr  # imports urllib and http: only when a sitemap is made

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


def make_staging(out: Path) -> Path:
    """An empty folder beside ``out`` (so renames into ``out`` stay on one file system)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))


def remove_leftovers(out: Path) -> None:
    """Remove the temporary folders of builds into ``out`` that were killed before they could.

    Only names exactly as ``make_staging`` and ``swap_in`` make them (``mkdtemp`` adds eight
    letters, digits or underscores): a build into ``site.new-look`` beside ``site`` makes
    ``.site.new-look.new-x1y2z3w4``, which is not this output's. Call it only while holding the
    build lock: the folders of a running build look the same.
    """
    if not out.parent.is_dir():
        return
    leftover = re.compile(rf"\.{re.escape(out.name)}\.(?:new|old)-[a-z0-9_]{{8}}")
    for path in out.parent.iterdir():
        if leftover.fullmatch(path.name) and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)


def write_file(folder: Path, relative: str, content: bytes) -> None:
    target = folder / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)


def copy_asset(folder: Path, asset: Asset) -> None:
    target = folder / asset.output
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(asset.source, target)


def apply_changes(staging: Path, out: Path, written: Iterable[str], removed: Iterable[str]) -> None:
    """Move each file written into ``staging`` to its place in ``out``, delete ``removed``, drop ``staging``.

    Each move is an atomic ``os.replace``, assets first. Folders left empty by a removal are
    removed too, so the output has exactly the files and folders a full build would make.
    """
    try:
        for relative in sorted(written, key=lambda name: not name.startswith(f"{ASSETS_DIR}/")):
            target = out / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / relative, target)
        for relative in removed:
            (out / relative).unlink(missing_ok=True)
            folder = (out / relative).parent
            while folder != out and folder.is_dir() and not os.listdir(folder):
                folder.rmdir()
                folder = folder.parent
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def swap_in(staging: Path, out: Path) -> None:
    """Replace ``out`` by ``staging`` with renames, so readers never see a half-written site."""
    os.chmod(staging, 0o755)  # mkdtemp made it private
    if not out.exists():
        os.replace(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)

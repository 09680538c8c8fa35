"""Live preview: build into a private folder, serve it, rebuild and reload the browser on every change.

The preview never touches ``site/``. It builds into a temporary folder of its own
(atomically, as ``build`` does), so a failed build leaves the last good one in place.
While the input has errors, every page request gets an error page that names the
file and line; the browser reloads it by itself after the next save.
"""

from __future__ import annotations

import contextlib
import html
import mimetypes
import posixpath
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

from livereload import Server
from livereload.handlers import LiveReloadHandler
from livereload.watcher import Watcher
from tornado import ioloop, web

from .config import CONFIG_FILE, load_config
from .content import CONTENT_DIR, TEMPLATES_DIR
from .data import DATA_DIR
from .errors import BuildFailed, Problem, SiteError, file_system_problem
from .i18n import LOCALES_DIR
from .output import ASSETS_DIR
from .pipeline import Built, build_site
from .render import preview_policy
from .source import walk_files

WATCHED = (CONTENT_DIR, DATA_DIR, TEMPLATES_DIR, LOCALES_DIR, ASSETS_DIR, CONFIG_FILE)
POLL_SECONDS = 0.25
QUIET_SECONDS = 0.3  # a change must be followed by this much calm before a build starts: one save, one build

# The error page's own words. The engine stays generic: a language without an entry gets English.
ERROR_PAGE_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "The site could not be built",
        "intro": "Fix the mistakes below and save the file. This page reloads by itself when the site builds again.",
    },
    "th": {
        "title": "สร้างเว็บไซต์ไม่สำเร็จ",
        "intro": "แก้ไขจุดที่ผิดตามรายการด้านล่าง แล้วบันทึกไฟล์ หน้านี้จะโหลดใหม่เองเมื่อสร้างเว็บไซต์ได้อีกครั้ง",
    },
}
FALLBACK_LANG = "en"


# --- the state of the preview ------------------------------------------------------------------


@dataclass
class Preview:
    """The private build folder, and what the last build produced."""

    root: Path
    workdir: Path
    build: Callable[[Path, Path], Built] = build_site  # incremental: its cache is beside ``out``, in ``workdir``
    problems: tuple[Problem, ...] = ()  # errors of the last build; empty after a good build
    default_lang: str = FALLBACK_LANG
    has_build: bool = False  # whether ``out`` holds a good build (possibly an older one)
    log: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))

    @property
    def out(self) -> Path:
        return self.workdir / "site"

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def rebuild(self) -> bool:
        """Build once; on failure keep the last good build and remember the errors. True on success."""
        from .cli import print_problems  # the CLI owns the formatting of problems

        started = time.monotonic()
        try:
            built = self.build(self.root, self.out)
        except BuildFailed as exc:
            self.problems = exc.problems or (Problem(message="the build failed"),)
        except SiteError as exc:
            self.problems = (exc.problem,)
        except Exception as exc:  # keep serving whatever went wrong
            problem = file_system_problem(exc) if isinstance(exc, OSError) else None
            if problem is None:  # a bug in the engine, not in the site: its traceback, for a report
                traceback.print_exc()
                problem = Problem(message=f"internal error: {exc!r}", hint="this is a bug in sitegen, not in the site")
            self.problems = (problem,)
        else:
            self.problems = ()
            self.has_build = True
            self.default_lang = built.loaded.config.default_lang
            print_problems([p for p in built.problems if p.level != "notice"])
            pages = sum(1 for name in built.outputs if name.endswith(".html"))
            seconds = time.monotonic() - started
            self.log(f"built {pages} pages in {seconds:.2f} s")
            return True
        print_problems(self.problems)
        count = len(self.problems)
        self.log(
            f"{count} error{'s' if count != 1 else ''}; the preview shows them until you fix the file and save it again"
        )
        return False


# --- which file a request may read --------------------------------------------------------------


def resolve_request(out: Path, url_path: str) -> Path | None:
    """The file under ``out`` for a decoded URL path, or None. Never a file outside ``out``.

    ``..`` segments, backslashes, drive letters and NUL bytes are refused outright
    rather than normalised, and the final path is checked after following symlinks.
    """
    if "\x00" in url_path:
        return None
    parts = [part for part in url_path.replace("\\", "/").split("/") if part not in ("", ".")]
    if any(part == ".." or ":" in part for part in parts):
        return None
    base = out.resolve()
    target = base.joinpath(*parts).resolve()
    if not target.is_relative_to(base):
        return None
    if target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def page_lang(url_path: str, default_lang: str) -> str:
    """The language of the page a URL shows: its first segment, else the site's default language."""
    first = url_path.lstrip("/").split("/", 1)[0]
    return first if first in ERROR_PAGE_TEXT else (default_lang if default_lang in ERROR_PAGE_TEXT else FALLBACK_LANG)


def error_page(problems: Iterable[Problem], lang: str) -> str:
    """An HTML page listing the build's errors, in the viewer's language (messages stay in English)."""
    text = ERROR_PAGE_TEXT.get(lang, ERROR_PAGE_TEXT[FALLBACK_LANG])
    if lang not in ERROR_PAGE_TEXT:
        lang = FALLBACK_LANG
    other = "" if lang == "en" else ' lang="en"'  # the engine's messages are in English
    items = []
    for problem in problems:
        where = problem.path + (f":{problem.line}" if problem.path and problem.line else "")
        hint = f"<br><span class=hint>{html.escape(problem.hint)}</span>" if problem.hint else ""
        items.append(
            f"<li{other}><code>{html.escape(where)}</code><br>"
            f"{html.escape(problem.level)}: {html.escape(problem.message)}{hint}</li>"
        )
    return (
        "<!doctype html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(text['title'])}</title>\n"
        "<style>body{font:1rem/1.7 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
        "h1{color:#a00}li{margin:0 0 1rem}code{font-size:1.05rem;font-weight:bold}.hint{color:#555}</style>\n"
        "</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(text['title'])}</h1>\n<p>{html.escape(text['intro'])}</p>\n"
        f"<ul>\n{chr(10).join(items)}\n</ul>\n</main>\n</body>\n</html>\n"
    )


def _is_page_request(url_path: str) -> bool:
    name = posixpath.basename(url_path)
    return url_path.endswith("/") or name.endswith(".html") or "." not in name


class PreviewHandler(web.RequestHandler):
    """Serves the last good build, or the error page while the input has errors."""

    preview: Preview

    def initialize(self, preview: Preview, script: bytes = b"") -> None:
        self.preview = preview
        self.script = script  # livereload's, which each page's meta policy must let run

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def head(self, path: str) -> None:
        self.get(path, body=False)

    def get(self, path: str, body: bool = True) -> None:
        url_path = "/" + path
        preview = self.preview
        if preview.failed and _is_page_request(url_path):
            page = error_page(preview.problems, page_lang(url_path, preview.default_lang))
            self._send(500, "text/html; charset=utf-8", page.encode("utf-8"), body)
            return
        target = resolve_request(preview.out, url_path) if preview.has_build else None
        if target is None:
            self._not_found(body)
            return
        if target.name == "index.html" and not url_path.endswith(("/", ".html")):
            # Rebuilt from the checked path, never from the request: "//host" must not become a redirect away.
            folder = target.parent.relative_to(preview.out.resolve()).as_posix()
            self.redirect("/" + quote(folder) + "/")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/xml", "image/svg+xml"):
            kind += "; charset=utf-8"
        self._send(200, kind, target.read_bytes(), body)

    def _not_found(self, body: bool) -> None:
        page = self.preview.out / "404.html"
        if self.preview.has_build and page.is_file():
            self._send(404, "text/html; charset=utf-8", page.read_bytes(), body)
        else:
            self._send(404, "text/plain; charset=utf-8", b"404: not found\n", body)

    def _send(self, status: int, kind: str, content: bytes, body: bool) -> None:
        self.set_status(status)
        self.set_header("Content-Type", kind)
        if kind.startswith("text/html"):
            content = preview_policy(content, self.script)
        if body:
            self.write(content)


# --- watching the site's folder -----------------------------------------------------------------

Snapshot = dict[str, tuple[int, int]]


def _ignored(name: str) -> bool:
    """Editors' temporary and backup files, which must not trigger a build."""
    return name.startswith((".", "#")) or name.endswith(("~", ".swp", ".swx", ".tmp")) or name == "4913"


def snapshot(root: Path) -> Snapshot:
    """Modification time and size of every watched file."""
    found: Snapshot = {}
    for name in WATCHED:
        top = root / name
        if top.is_file():
            stat = top.stat()
            found[name] = (stat.st_mtime_ns, stat.st_size)
            continue
        for relative, stat in walk_files(top):
            if not any(_ignored(part) for part in relative.split("/")):
                found[f"{name}/{relative}"] = (stat.st_mtime_ns, stat.st_size)
    return found


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


class SiteWatcher(Watcher):  # type: ignore[misc]  # livereload has no type hints
    """Polls the site's input; after a change and a quiet moment, rebuilds once and reloads the browsers."""

    def __init__(self, preview: Preview) -> None:
        super().__init__()
        self.preview = preview
        self.seen = snapshot(preview.root)
        self.pending: set[str] = set()
        self.changed_at = 0.0
        self.timer: ioloop.PeriodicCallback | None = None

    def start(self, callback: Callable[[], None]) -> bool:
        """Poll on our own timer (livereload's own polling would reload before the build is done)."""
        self.timer = ioloop.PeriodicCallback(self.tick, POLL_SECONDS * 1000)
        self.timer.start()
        return True

    def examine(self) -> tuple[None, None]:
        return None, None

    def tick(self) -> None:
        current = snapshot(self.preview.root)
        now = time.monotonic()
        if current != self.seen:
            self.pending.update(changed_files(self.seen, current))
            self.seen = current
            self.changed_at = now
            return
        if not self.pending or now - self.changed_at < QUIET_SECONDS:
            return
        names = sorted(self.pending)
        self.pending.clear()
        shown = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
        self.preview.log(f"{shown} changed")
        self.preview.rebuild()
        self.filepath = names[0]
        LiveReloadHandler.reload_waiters()


class PreviewServer(Server):  # type: ignore[misc]  # livereload has no type hints
    """livereload's server, serving through ``PreviewHandler`` instead of a plain static folder."""

    def __init__(self, preview: Preview) -> None:
        super().__init__(watcher=SiteWatcher(preview))
        self.preview = preview

    def get_web_handlers(self, script: bytes) -> list[tuple[str, type[web.RequestHandler], dict[str, Any]]]:
        return [(r"/(.*)", PreviewHandler, {"preview": self.preview, "script": script})]


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the preview exactly as Ctrl+C does


def serve(root: Path, host: str, port: int) -> int:
    """Build into a private folder, serve it on ``host:port``, rebuild and reload on every change."""
    signal.signal(signal.SIGTERM, _stop)
    workdir = Path(tempfile.mkdtemp(prefix="sitegen-preview-"))
    try:
        return _serve(Preview(root, workdir), host, port)
    except KeyboardInterrupt:
        print("preview stopped", file=sys.stderr, flush=True)
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _serve(preview: Preview, host: str, port: int) -> int:
    with contextlib.suppress(BuildFailed, SiteError):  # the first build reports it
        preview.default_lang = load_config(preview.root).default_lang
    preview.rebuild()
    server = PreviewServer(preview)
    try:
        server.application(port, host, live_css=False)
    except OSError as exc:
        print(
            f"error: cannot listen on {host}:{port}: {exc.strerror} "
            f"(is another preview running? choose another port with --port {port + 1})",
            file=sys.stderr,
        )
        return 1
    watcher: SiteWatcher = server.watcher
    watcher.start(lambda: None)
    shown_host = f"[{host}]" if ":" in host else host
    print(f"preview at http://{shown_host}:{port}/ (press Ctrl+C to stop)", file=sys.stderr, flush=True)
    ioloop.IOLoop.current().start()
    return 0

"""Live preview: build into a private folder, serve it, rebuild and reload the browser on every change.

The preview never touches ``site/``. It builds into a temporary folder of its own
(atomically, as ``build`` does), so a failed build leaves the last good one in place.
While the input has errors, every page request gets an error page that names the
file and line; the browser reloads it by itself after the next save.

Every request is untrusted: one that does not name the preview in ``Host`` (a loopback
name or the ``--host`` address, with the port) gets an empty 403, which defeats DNS
rebinding; the reload socket also wants its own page's ``Origin`` and only ever says
"reload". No path leads out of the private folder, a file is never served as a folder
("/robots.txt/" is a 404, as in production), and the answers carry the site's own ``_headers``
(its CSP too), so the preview shows what production would block. Whatever a request or a
problem message holds reaches the page and the terminal cut short and encodable: a hostile
page cannot flood the terminal, and a lone surrogate (from YAML or a file name) cannot break
the error page. IPv6 works: the socket is allowed as ``'self'`` (a CSP host-source cannot hold
an IPv6 address) and the reload script is told the host, which it cannot read from "[::1]".
"""

from __future__ import annotations

import base64
import contextlib
import gettext
import hashlib
import html
import ipaddress
import json
import mimetypes
import posixpath
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar
from urllib.parse import quote

import livereload
from tornado import ioloop, web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .config import CONFIG_FILE, load_config
from .content import CONTENT_DIR, TEMPLATES_DIR
from .data import DATA_DIR
from .errors import (
    BuildFailed,
    Collector,
    Problem,
    SiteError,
    file_system_problem,
    report_failure,
    report_success,
)
from .i18n import LOCALES_DIR, load_translations
from .output import ASSETS_DIR, CONTENT_SECURITY_POLICY, csp_meta, headers_file
from .pipeline import Built, build_site
from .source import SURROGATE, inside_project, plain_relative, walk_files

WATCHED = (CONTENT_DIR, DATA_DIR, TEMPLATES_DIR, LOCALES_DIR, ASSETS_DIR, CONFIG_FILE)
POLL_SECONDS = 0.25
QUIET_SECONDS = 0.3  # a change must be followed by this much calm before a build starts: one save, one build

FALLBACK_LANG = "en"  # the engine's own words are English; a site's catalogues translate the error page's
MAX_SHOWN = 2000  # characters of one problem's text on the error page
MAX_PROBLEMS_SHOWN = 100  # problems on the error page; the terminal has them all
MAX_LOGGED = 200  # characters of a request's path or Host in the terminal
ERROR_PAGE_STYLE = (
    "body{font:1rem/1.7 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}"
    "h1{color:#a00}li{margin:0 0 1rem}code{font-size:1.05rem;font-weight:bold}.hint{color:#555}"
)


# --- the state of the preview ------------------------------------------------------------------


@dataclass
class Preview:
    """The private build folder, and what the last build produced."""

    root: Path
    workdir: Path
    build: Callable[[Path, Path], Built] = build_site  # incremental: its cache is beside ``out``, in ``workdir``
    problems: tuple[Problem, ...] = ()  # errors of the last build; empty after a good build
    default_lang: str = FALLBACK_LANG
    translations: dict[str, gettext.NullTranslations] = field(default_factory=dict)  # of the last good build
    has_build: bool = False  # whether ``out`` holds a good build (possibly an older one)
    changed: bool = False  # whether the last build changed what the preview shows (tabs reload only then)
    log: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr, flush=True))

    @property
    def out(self) -> Path:
        return self.workdir / "site"

    @property
    def failed(self) -> bool:
        return bool(self.problems)

    def rebuild(self) -> bool:
        """Build once; on failure keep the last good build and remember the errors. True on success."""
        started = time.monotonic()
        before = self.problems
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
                problem = Problem(
                    message=f"internal error: {shown(repr(exc), MAX_SHOWN)}",
                    hint="this is a bug in sitegen, not in the site",
                )
            self.problems = (problem,)
        else:
            self.problems = ()
            self.changed = bool(before or built.written or built.removed)
            self.has_build = True
            self.default_lang = built.loaded.config.default_lang
            self.translations = built.loaded.translations
            seconds = time.monotonic() - started
            self.log(f"{report_success(built.problems, built.outputs)} in {seconds:.2f} s")
            return True
        self.changed = self.problems != before
        self.log(report_failure(self.problems, "the preview shows them until you fix the file and save it again"))
        return False


def shown(text: str, limit: int) -> str:
    """Untrusted text made safe to show: cut to ``limit`` characters, lone surrogates replaced.

    A lone surrogate (YAML's "\\udcff", or a file name's byte that is not UTF-8) cannot be
    encoded as UTF-8: the page it reaches could not be sent.
    """
    cut = text if len(text) <= limit else text[:limit] + "…"
    return SURROGATE.sub("\ufffd", cut)


def for_terminal(text: str) -> str:
    """A request's text (path, Host) for a terminal line: short, quoted, control characters escaped."""
    return repr(shown(text, MAX_LOGGED))


# --- which file a request may read --------------------------------------------------------------


def resolve_request(out: Path, url_path: str) -> Path | None:
    """The file under ``out`` for a decoded URL path, or None. Never a file outside ``out``.

    Empty and ``.`` segments are dropped; the rest must be ``source.plain_relative`` (no ``..``, backslash,
    NUL or name too long) with no drive letter, refused outright rather than normalised, and every path
    is checked after following symlinks (a folder's ``index.html`` too). A path that names a folder
    ("/robots.txt/", "/sitemap.xml/.") gets only a folder, as in production. A path the file system refuses (a
    loop of links) is simply not there.
    """
    segments = url_path.split("/")
    parts = [part for part in segments if part not in ("", ".")]
    if (parts and not plain_relative("/".join(parts))) or ":" in url_path:
        return None
    base = out.resolve()
    try:
        target = _inside(base, base.joinpath(*parts))
        if target is not None and target.is_dir():
            target = _inside(base, target / "index.html")
        elif segments[-1] in ("", "."):  # a folder was asked for, and this is not one
            return None
        return target if target is not None and target.is_file() else None
    except (OSError, RuntimeError):  # RuntimeError: pathlib's word for a loop of symlinks
        return None


def _inside(base: Path, path: Path) -> Path | None:
    target = path.resolve()
    return target if target.is_relative_to(base) else None


def page_lang(url_path: str, languages: Collection[str], default_lang: str) -> str:
    """The language of the page a URL shows: its first segment, else the site's default language."""
    first = url_path.lstrip("/").split("/", 1)[0]
    return first if first in languages else default_lang


def _page_words(words: gettext.NullTranslations) -> tuple[str, str]:
    """The error page's title and introduction, translated by the site's catalogue (``locales/``)."""
    return (
        words.gettext("The site could not be built"),
        words.gettext(
            "Fix the mistakes below and save the file. This page reloads by itself when the site builds again."
        ),
    )


def error_page(problems: Iterable[Problem], lang: str, words: gettext.NullTranslations | None = None) -> str:
    """An HTML page listing the build's errors: its own words in the viewer's language when the site's
    catalogue translates them, English otherwise; the problems themselves are the engine's English."""
    title, intro = _page_words(words or gettext.NullTranslations())
    if (title, intro) == _page_words(gettext.NullTranslations()):
        lang = FALLBACK_LANG
    other = "" if lang == FALLBACK_LANG else f' lang="{FALLBACK_LANG}"'

    def escaped(value: str) -> str:
        return html.escape(shown(value, MAX_SHOWN))

    problems = list(problems)
    items = []
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        where = problem.path + (f":{problem.line}" if problem.path and problem.line else "")
        hint = f"<br><span class=hint>{escaped(problem.hint)}</span>" if problem.hint else ""
        items.append(
            f"<li{other}><code>{escaped(where)}</code><br>"
            f"{escaped(problem.level)}: {escaped(problem.message)}{hint}</li>"
        )
    if len(problems) > MAX_PROBLEMS_SHOWN:
        items.append(f"<li{other}>… {len(problems) - MAX_PROBLEMS_SHOWN} more in the terminal</li>")
    return (
        "<!doctype html>\n"
        f'<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{ERROR_PAGE_STYLE}</style>\n"
        "</head>\n<body>\n<main>\n"
        f"<h1>{html.escape(title)}</h1>\n<p>{html.escape(intro)}</p>\n"
        f"<ul>\n{chr(10).join(items)}\n</ul>\n</main>\n</body>\n</html>\n"
    )


def _is_page_request(url_path: str) -> bool:
    name = posixpath.basename(url_path)
    return url_path.endswith("/") or name.endswith(".html") or "." not in name


# --- who may ask: the Host and Origin rules -----------------------------------------------------

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
EVERY_ADDRESS = ("", "0.0.0.0", "::")  # --host values that listen on every interface


@dataclass(frozen=True)
class Access:
    """Which ``Host`` a request may name: a loopback name or the ``--host`` address, with the port.

    Checking ``Host`` defeats DNS rebinding: a page on ``evil.example`` whose name now points
    at 127.0.0.1 still sends ``Host: evil.example``. When the preview listens on every
    interface (``--host 0.0.0.0``, to try it on a phone), any IP address is accepted too:
    an address cannot be rebound, only a name can.
    """

    host: str
    port: int

    def host_allowed(self, value: str | None) -> bool:
        if value is None:
            return False
        value = value.lower()
        own = self.host.lower()
        names = {*LOOPBACK_NAMES, f"[{own}]" if ":" in own else own}
        if value in {f"{name}:{self.port}" for name in names} or (self.port == 80 and value in names):
            return True
        return self.host in EVERY_ADDRESS and _is_address(value, self.port)

    def origin_allowed(self, origin: str | None, host: str) -> bool:
        """The reload socket is same-origin only: the page's origin is the address it connects to."""
        return origin is not None and self.host_allowed(host) and origin.lower() == f"http://{host.lower()}"


def _is_address(value: str, port: int) -> bool:
    """Whether ``value`` is an IP address and ``port``, written as a browser writes it."""
    name, colon, given = value.rpartition(":")
    if not colon or given != str(port):
        return False
    try:
        address = ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return name == (f"[{address}]" if address.version == 6 else str(address))


# --- what every answer says: the site's own security headers -------------------------------------


def site_headers() -> dict[str, str]:
    """The headers the site's ``_headers`` file gives every path: the preview sends them too."""
    headers: dict[str, str] = {}
    pattern = ""
    for line in headers_file().splitlines():
        if not line.startswith(" "):
            pattern = line.strip()
        elif pattern == "/*":
            name, _, value = line.strip().partition(":")
            headers[name] = value.strip()
    return headers


def preview_policy() -> str:
    """The site's CSP, plus what only the preview needs: its reload socket and the error page's style.

    The socket is same-origin, so ``'self'`` allows it (CSP3; a host-source could not name an IPv6 address).
    """
    style_hash = base64.b64encode(hashlib.sha256(ERROR_PAGE_STYLE.encode()).digest()).decode()
    extra = {"connect-src": "'self'", "style-src": f"'self' 'sha256-{style_hash}'"}
    directives = []
    for directive in CONTENT_SECURITY_POLICY.split(";"):
        name = directive.split()[0]
        directives.append(f"{name} {extra[name]}" if name in extra else directive.strip())
    return "; ".join(directives)


def live_page(page: bytes, host: str, port: int) -> bytes:
    """An HTML page as the preview serves it: with the reload script, a file (for script-src 'self').

    ``host`` must be a checked ``Host`` value: the script is told its name, as it cannot read
    an IPv6 address from its own URL. A ``<meta>`` copy of the site's CSP gets the preview's
    policy too, or it would block the socket.
    """
    page = page.replace(csp_meta(CONTENT_SECURITY_POLICY).encode(), csp_meta(preview_policy()).encode(), 1)
    name = host if host.endswith("]") or ":" not in host else host.rpartition(":")[0]  # "[::1]:8000", "localhost"
    source = html.escape(f"/livereload.js?host={quote(name, safe='[]:')}&port={port}")
    return page.replace(b"</head>", f'<script src="{source}"></script>'.encode() + b"</head>", 1)


def access_rule(access: Access) -> str:
    return (
        f"the preview answers only to localhost, 127.0.0.1 and [::1] with port {access.port}, "
        "or to the address given with --host"
    )


_explained: set[str | None] = set()


def _explain_refusal(host: str | None, access: Access) -> None:
    """Say once per name why the preview refused it: staff may have typed a name of their own.

    A hostile page can use up these lines, so the rule is also said when the preview starts.
    """
    if host in _explained or len(_explained) >= 10:  # a flood of names gets ten lines, not more
        return
    _explained.add(host)
    what = "no Host" if host is None else f"Host {for_terminal(host)}"
    print(f"refused a request with {what}: {access_rule(access)}", file=sys.stderr, flush=True)


def log_request(handler: web.RequestHandler) -> None:
    """One short line per refused or missing file (tornado's own line holds the whole URL, up to 64 KB).

    403s are explained by ``_explain_refusal``; a 500 is the error page, or an engine bug with its traceback.
    """
    status = handler.get_status()
    if 400 <= status < 500 and status != 403:
        request = handler.request
        method = request.method if request.method in web.RequestHandler.SUPPORTED_METHODS else "?"
        print(f"{status} {method} {for_terminal(request.uri or '')}", file=sys.stderr, flush=True)


class Guarded(web.RequestHandler):
    """The base of every handler: a request that does not name this preview in ``Host`` gets an empty 403."""

    access: Access

    def initialize(self, access: Access) -> None:
        self.access = access

    def set_default_headers(self) -> None:
        for name, value in site_headers().items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")

    def prepare(self) -> None:
        host = self.request.headers.get("Host")
        if host is None or not self.access.host_allowed(host):
            _explain_refusal(host, self.access)
            raise web.HTTPError(403)
        self.set_header("Content-Security-Policy", preview_policy())

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        pass  # no content: an error page would tell a page that is not the preview's what is here


class NotFound(Guarded):
    """What no route matches ("GET http://evil/", "OPTIONS *"): the Host check, then an empty 404."""

    def prepare(self) -> None:
        super().prepare()
        raise web.HTTPError(404)


class PreviewHandler(Guarded):
    """Serves the last good build, or the error page while the input has errors."""

    preview: Preview

    def initialize(self, access: Access, preview: Preview) -> None:  # type: ignore[override]
        super().initialize(access)
        self.preview = preview

    def head(self, path: str) -> None:
        self.get(path)  # tornado sends the headers GET would, Content-Length included, and drops the body

    def get(self, path: str) -> None:
        url_path = "/" + path
        preview = self.preview
        if preview.failed and _is_page_request(url_path):
            lang = page_lang(url_path, preview.translations, preview.default_lang)
            page = error_page(preview.problems, lang, preview.translations.get(lang))
            self._send(500, "text/html; charset=utf-8", page.encode("utf-8"))
            return
        target = resolve_request(preview.out, url_path) if preview.has_build else None
        content = _read(target)
        if target is None or content is None:
            self._not_found()
            return
        if target.name == "index.html" and not url_path.endswith(("/", ".html")):
            # Rebuilt from the checked path, never from the request: "//host" must not become a redirect away.
            folder = target.parent.relative_to(preview.out.resolve()).as_posix()
            self.redirect("/" + quote(folder) + "/")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/javascript", "application/xml", "image/svg+xml"):
            kind += "; charset=utf-8"
        self._send(200, kind, content)

    def _not_found(self) -> None:
        page = _read(resolve_request(self.preview.out, "/404.html")) if self.preview.has_build else None
        if page is not None:
            self._send(404, "text/html; charset=utf-8", page)
        else:
            self._send(404, "text/plain; charset=utf-8", b"404: not found\n")

    def _send(self, status: int, kind: str, content: bytes) -> None:
        self.set_status(status)
        self.set_header("Content-Type", kind)
        if kind.startswith("text/html"):
            content = live_page(content, self.request.headers["Host"], self.access.port)
        self.write(content)


def _read(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError:  # gone or unreadable since it was found: as if it were not there
        return None


class ReloadScript(Guarded):
    """livereload's browser script, which opens the reload socket."""

    def get(self) -> None:
        self.set_header("Content-Type", "application/javascript; charset=utf-8")
        self.write(LIVERELOAD_JS.read_bytes())

    head = get


LIVERELOAD_JS = Path(livereload.__file__).parent / "vendors" / "livereload.js"
LIVERELOAD_PROTOCOL = "http://livereload.com/protocols/official-7"
RELOAD = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}  # "*": names no file
MAX_MESSAGE_BYTES = 4096  # the browser's messages are a few hundred bytes


class ReloadSocket(Guarded, WebSocketHandler):
    """The websocket the reload script opens. Same-origin only; it only ever says "reload"."""

    clients: ClassVar[set[ReloadSocket]] = set()

    def prepare(self) -> None:
        super().prepare()
        if not self.check_origin(self.request.headers.get("Origin")):
            raise web.HTTPError(403)  # refused before the handshake: not one message either way

    def check_origin(self, origin: str | None) -> bool:
        return self.access.origin_allowed(origin, self.request.headers.get("Host", ""))

    def on_message(self, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("command"), str):
            self.close(1003, "not a livereload message")
            return
        if data["command"] == "hello":
            try:
                self.write_message({"command": "hello", "protocols": [LIVERELOAD_PROTOCOL], "serverName": "sitegen"})
            except WebSocketClosedError:  # closed by an earlier bad message that came in the same read
                return
            ReloadSocket.clients.add(self)

    def on_close(self) -> None:
        ReloadSocket.clients.discard(self)

    @classmethod
    def reload_all(cls) -> None:
        for client in list(cls.clients):
            with contextlib.suppress(WebSocketClosedError):
                client.write_message(RELOAD)


def preview_app(preview: Preview, access: Access) -> web.Application:
    """The preview's web application: the reload socket and script, and the site."""
    return web.Application(
        [
            (r"/livereload", ReloadSocket, {"access": access}),
            (r"/livereload\.js", ReloadScript, {"access": access}),
            (r"/(.*)", PreviewHandler, {"access": access, "preview": preview}),
        ],
        default_handler_class=NotFound,
        default_handler_args={"access": access},
        log_function=log_request,
        websocket_max_message_size=MAX_MESSAGE_BYTES,
    )


# --- watching the site's folder -----------------------------------------------------------------

Snapshot = dict[str, tuple[int, int]]


def _ignored(name: str) -> bool:
    """Vim's swap files, rewritten every few seconds while one types: no reader of the build takes them.

    Everything else is watched, as the build's readers have rules of their own (``data/#x.yaml``
    is read, ``content/en/#x.md`` is reported; ``assets/`` copies ``x~``). Backups and vim's "4913"
    appear with the save itself, so they add no build of their own; a build for a file no reader
    takes (an emacs autosave, "#x.md#") writes nothing, so it reloads no tab.
    """
    return name.startswith(".") and name.endswith((".swp", ".swo", ".swx"))


def snapshot(root: Path) -> Snapshot:
    """Modification time and size of every watched file."""
    found: Snapshot = {}
    for name in WATCHED:
        top = root / name
        if top.is_file():
            stat = top.stat()
            found[name] = (stat.st_mtime_ns, stat.st_size)
            continue
        try:
            top = inside_project(root, name)  # a folder linked to / is the build's error, not a walk of the disk
        except SiteError:
            continue
        for relative, stat in walk_files(top):
            if not any(_ignored(part) for part in relative.split("/")):
                found[f"{name}/{relative}"] = (stat.st_mtime_ns, stat.st_size)
    return found


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


class SiteWatcher:
    """Polls the site's input; after a change and a quiet moment, rebuilds once and reloads the browsers
    if what they show changed."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self.seen = snapshot(preview.root)
        self.pending: set[str] = set()
        self.changed_at = 0.0
        self.timer: ioloop.PeriodicCallback | None = None

    def start(self) -> None:
        self.timer = ioloop.PeriodicCallback(self.tick, POLL_SECONDS * 1000)
        self.timer.start()

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
        if self.preview.changed:  # a build for an editor's autosave changes nothing: the tabs stay as they are
            ReloadSocket.reload_all()


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
    with contextlib.suppress(BuildFailed, SiteError, OSError):  # the first build reports it
        config = load_config(preview.root)
        preview.default_lang = config.default_lang
        preview.translations = load_translations(config, Collector())  # for an error page before a good build
    preview.rebuild()
    try:
        access = Access(host, port)
        preview_app(preview, access).listen(port, host)
    except OSError as exc:
        print(
            f"error: cannot listen on {host}:{port}: {exc.strerror} "
            f"(is another preview running? choose another port with --port {port + 1})",
            file=sys.stderr,
        )
        return 1
    SiteWatcher(preview).start()
    shown_host = f"[{host}]" if ":" in host else host
    print(f"preview at http://{shown_host}:{port}/ (press Ctrl+C to stop)", file=sys.stderr, flush=True)
    print(f"{access_rule(access)}; other requests get an empty 403", file=sys.stderr, flush=True)
    ioloop.IOLoop.current().start()
    return 0

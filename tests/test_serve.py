"""The live preview: the real dev server as a subprocess, and the pieces it is made of."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from sitegen import serve
from sitegen.config import load_config
from sitegen.content import TEMPLATES_DIR, page_files
from sitegen.data import data_files
from sitegen.errors import Collector, Problem
from sitegen.i18n import load_translations
from sitegen.output import ASSETS_DIR, CONTENT_SECURITY_POLICY, find_assets
from sitegen.pipeline import Built, build_site
from sitegen.render import template_names
from sitegen.serve import (
    Access,
    Preview,
    ReloadSocket,
    SiteWatcher,
    changed_files,
    error_page,
    live_page,
    page_lang,
    resolve_request,
    snapshot,
)

from .conftest import REPO, SITES

SITE = SITES / "err-base"  # a small valid bilingual site
DEADLINE = 30.0  # generous: these wait for a result, they never measure speed


def copy_site(tmp_path: Path, site: Path = SITE) -> Path:
    """A copy of a site's sources (only what the preview watches: never a built ``site/`` or a cache)."""
    root = tmp_path / "site-src"
    root.mkdir()
    for name in serve.WATCHED:
        if (site / name).is_dir():
            shutil.copytree(site / name, root / name)
        elif (site / name).is_file():
            shutil.copy2(site / name, root / name)
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str


def fetch(port: int, path: str, method: str = "GET", host: str | None = None, address: str = "127.0.0.1") -> Response:
    """A request with the path sent exactly as given (no client-side normalisation).

    ``host`` replaces the ``Host`` header (the default is the server's own address).
    """
    conn = http.client.HTTPConnection(address, port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=host is not None, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


def raw_request(port: int, request: bytes) -> bytes:
    """Send bytes exactly as given (no Host unless they carry one); everything the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        if b"\r\nConnection: close\r\n" not in request:
            # The server then closes when it has answered. Closing our side too soon races with that:
            # tornado, reading the request and the end of the stream at once, could close unanswered.
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def wait_for(what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the server exited with {proc.returncode} while waiting for {what}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    port: int
    root: Path
    log: Path
    tmpdir: Path
    address: str = "127.0.0.1"

    def get(self, path: str) -> Response:
        return fetch(self.port, path, address=self.address)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def start_server(tmp_path: Path, site: Path = SITE, address: str = "127.0.0.1") -> Running:
    root = copy_site(tmp_path, site)
    port = free_port()
    log = tmp_path / "serve.log"
    tmpdir = tmp_path / "tmp"  # the preview's private build folder goes here, so we can see it removed
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                str(REPO / "build.py"),
                "serve",
                "--root",
                str(root),
                "--port",
                str(port),
                "--host",
                address,
            ],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    running = Running(proc, port, root, log, tmpdir, address)
    wait_for("the server to answer", lambda: running.get("/").status == 200, proc)
    return running


def stop_server(running: Running, sig: int) -> int:
    if running.proc.poll() is None:
        running.proc.send_signal(sig)
    try:
        return running.proc.wait(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        running.proc.kill()
        running.proc.wait()
        pytest.fail("the server did not stop after " + signal.Signals(sig).name)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Running]:
    running = start_server(tmp_path)
    yield running
    if running.proc.poll() is None:
        stop_server(running, signal.SIGTERM)


ABOUT_EN = "content/en/about.md"
ABOUT_TEXT = "The foundation was registered in 2008."


def test_edit_break_fix_and_stop(server: Running) -> None:
    page = server.get("/en/about/")
    assert page.status == 200
    assert ABOUT_TEXT in page.text
    assert "livereload.js" in page.text  # the tab reloads itself
    path = server.root / ABOUT_EN
    good = path.read_text(encoding="utf-8")

    # 1. an edit is served, and the open tab is told to reload
    edited = good.replace(ABOUT_TEXT, "The foundation was registered on 24 December 2008.")
    reload_message = asyncio.run(_reload_after(server.port, lambda: path.write_text(edited, encoding="utf-8")))
    assert reload_message["command"] == "reload"
    assert reload_message["path"] == "*"  # "reload the page": the tab is not told which file changed
    assert "about" not in json.dumps(reload_message)
    wait_for("the edited text", lambda: "on 24 December 2008" in server.get("/en/about/").text, server.proc)

    # 2. a broken front matter: the error page names file and line; the server keeps running
    path.write_text(good.replace("title: About us", 'title: "About us'), encoding="utf-8")
    wait_for("the error page", lambda: server.get("/en/about/").status == 500, server.proc)
    broken = server.get("/en/about/")
    assert "content/en/about.md:2" in broken.text
    assert "The site could not be built" in broken.text
    assert '<html lang="en">' in broken.text
    assert "livereload.js" in broken.text  # so that fixing the file brings the page back by itself
    head = fetch(server.port, "/en/about/", "HEAD")
    assert (head.status, head.headers["content-length"], head.text) == (500, str(len(broken.text.encode())), "")
    thai = server.get("/th/about/")
    assert thai.status == 500
    assert "สร้างเว็บไซต์ไม่สำเร็จ" in thai.text
    assert '<html lang="th">' in thai.text
    assert server.get("/robots.txt").status == 200  # files of the last good build are still served
    wait_for("the compiler-style line", lambda: "content/en/about.md:2: error: invalid YAML: " in server.output())
    assert server.proc.poll() is None

    # 3. fixed: the page is back
    path.write_text(good, encoding="utf-8")
    wait_for("the page to come back", lambda: server.get("/en/about/").status == 200, server.proc)
    assert ABOUT_TEXT in server.get("/en/about/").text

    # 4. Ctrl+C stops it cleanly, and the private build folder is gone
    assert stop_server(server, signal.SIGINT) == 0
    assert "preview stopped" in server.output()
    assert list(server.tmpdir.iterdir()) == []
    assert "Traceback" not in server.output()


async def _reload_after(port: int, change: Callable[[], object]) -> dict[str, object]:
    """Speak livereload's protocol as the browser's script does, make a change, wait for 'reload'."""
    conn = await _socket(port, {"Origin": f"http://127.0.0.1:{port}"})
    try:
        conn.write_message(
            json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
        )
        hello = await asyncio.wait_for(conn.read_message(), DEADLINE)
        assert hello is not None and json.loads(hello)["command"] == "hello"  # sent once this tab is registered
        conn.write_message(json.dumps({"command": "info", "url": f"http://127.0.0.1:{port}/en/about/"}))
        change()
        message = await asyncio.wait_for(conn.read_message(), DEADLINE)
        assert message is not None
        result: dict[str, object] = json.loads(message)
        return result
    finally:
        conn.close()


def test_one_save_gives_one_build(server: Running) -> None:
    path = server.root / ABOUT_EN
    text = path.read_text(encoding="utf-8")
    before = server.output().count("changed")
    # Some editors save in two steps: truncate, then write.
    path.write_text("", encoding="utf-8")
    path.write_text(text.replace(ABOUT_TEXT, "Saved once."), encoding="utf-8")
    wait_for("the saved text", lambda: "Saved once." in server.get("/en/about/").text, server.proc)
    wait_for("the build line", lambda: "built" in server.output().rsplit("changed", 1)[-1])
    assert server.output().count("changed") - before == 1


def test_sigterm_stops_it(server: Running) -> None:
    assert stop_server(server, signal.SIGTERM) == 0
    assert list(server.tmpdir.iterdir()) == []


def test_site_folder_is_never_written(server: Running) -> None:
    assert not (server.root / "site").exists()


def test_missing_page_and_folder_redirect(server: Running) -> None:
    missing = server.get("/en/no-such-page/")
    assert missing.status == 404
    redirect = server.get("/th/about")
    assert redirect.status in (301, 302)
    assert redirect.headers["location"] == "/th/about/"
    # a doubled slash must not become a redirect to another host ("//th/" is protocol-relative)
    assert server.get("//th").headers["location"] == "/th/"


TRAVERSALS = [
    "/../../../../../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
    "/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/th/../../../../../../../../../etc/passwd",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/..%5c..%5c..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/..\\..\\..\\..\\..\\..\\..\\..\\etc\\passwd",
    "/%252e%252e/%252e%252e/%252e%252e/etc/passwd",
    "/C:%5cWindows%5cwin.ini",
    "/etc/passwd%00.html",
    "http://127.0.0.1/../../../../../../../../etc/passwd",
]


def test_path_traversal_is_refused(server: Running) -> None:
    assert Path("/etc/passwd").is_file()  # the target exists: a leak would show
    for path in TRAVERSALS:
        response = server.get(path)
        assert response.status in (400, 403, 404), path  # 403: "http://127.0.0.1/" names no port
        assert "root:" not in response.text, path


# --- hostile requests: DNS rebinding, other origins, odd paths ------------------------------------


def own_hosts(port: int) -> list[str]:
    """``Host`` values a browser sends for this preview: the loopback names, with the port."""
    return [f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}", f"[::1]:{port}"]


def wrong_hosts(port: int) -> list[str]:
    """What a DNS-rebinding page's requests carry, and near misses of the real names."""
    return [
        f"evil.example:{port}",
        "evil.example",
        f"127.0.0.1:{port + 1}",
        "127.0.0.1",
        "localhost",
        f"localhost.evil.example:{port}",
        f"127.0.0.1.nip.io:{port}",
        f"127.0.0.1:{port}.evil.example",
        f"evil.example@127.0.0.1:{port}",
        f"127.0.0.1:{port}/",
        f"0.0.0.0:{port}",
        f"[::ffff:127.0.0.1]:{port}",
        f"127.1:{port}",
        f"127.0.0.1:0{port}",
        "",
    ]


GUARDED_PATHS = ["/", "/en/about/", "/th/about", "/robots.txt", "/no-such-page", "/livereload.js", "/livereload"]


def test_a_wrong_host_gets_an_empty_403(server: Running) -> None:
    for host in own_hosts(server.port):
        assert fetch(server.port, "/en/about/", host=host).status == 200, host
    for host in wrong_hosts(server.port):
        for path in GUARDED_PATHS:
            for method in ("GET", "HEAD", "POST", "OPTIONS"):
                response = fetch(server.port, path, method, host)
                assert response.text == "", (host, path, method)
                if "@" in host or "/" in host:  # not a host name at all: tornado answers 400 by itself
                    assert response.status == 400, (host, path, method)
                else:
                    assert response.status == 403, (host, path, method)
                    assert response.headers["content-length"] == "0", (host, path, method)
    # No Host header at all: HTTP/1.1 requires one (tornado answers 400), HTTP/1.0 does not.
    for version, status in ((b"HTTP/1.0", b"403"), (b"HTTP/1.1", b"400")):
        answer = raw_request(server.port, b"GET /en/about/ " + version + b"\r\nConnection: close\r\n\r\n")
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
        assert body == b""
    assert "Traceback" not in server.output()
    # the terminal says why, once per name, and never more than ten names
    assert server.output().count(f"refused a request with Host 'evil.example:{server.port}': the preview answers") == 1
    assert server.output().count("refused a request with") == 10


def test_forcereload_is_not_there(server: Running) -> None:
    # livereload's /forcereload lets any page on the web reload the preview with a GET
    response = server.get("/forcereload?path=x")
    assert response.status == 404
    assert response.text != "ok"


async def _socket(port: int, headers: dict[str, str]) -> WebSocketClientConnection:
    request = HTTPRequest(f"ws://127.0.0.1:{port}/livereload", headers=headers, request_timeout=DEADLINE)
    return await websocket_connect(request)


async def _hello(conn: WebSocketClientConnection) -> dict[str, object]:
    conn.write_message(json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]}))
    answer = await asyncio.wait_for(conn.read_message(), DEADLINE)
    assert isinstance(answer, str)
    result: dict[str, object] = json.loads(answer)
    return result


async def _refused(port: int, headers: dict[str, str]) -> int:
    """The status a refused websocket handshake got; fails if the handshake succeeded or had content."""
    try:
        conn = await _socket(port, headers)
    except HTTPClientError as exc:
        assert exc.response is not None and exc.response.body == b"", headers
        code = exc.code
    else:
        conn.close()
        pytest.fail(f"the websocket accepted {headers}")
    # tornado's client leaves a refused handshake's socket to the collector; collected later, in
    # another test, its ResourceWarning failed that test (once in six CI runs). Collected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    return code


def test_the_websocket_is_same_origin_only(server: Running) -> None:
    port = server.port
    own = f"127.0.0.1:{port}"
    refused = [
        {"Origin": "http://evil.example"},
        {"Origin": f"http://evil.example:{port}"},
        {"Origin": "null"},
        {"Origin": ""},
        {"Origin": f"https://{own}"},
        {"Origin": f"ws://{own}"},
        {"Origin": f"http://{own}.evil.example"},
        {"Origin": f"http://{own}/"},
        {"Origin": f"http://127.0.0.1:{port + 1}"},
        {"Origin": f"http://localhost:{port}"},  # a loopback name, but not the one this socket was opened on
        {},  # browsers always send an Origin; without one, nobody can tell where the request comes from
        {"Host": f"evil.example:{port}", "Origin": f"http://evil.example:{port}"},  # DNS rebinding
        {"Host": f"evil.example:{port}", "Origin": f"http://{own}"},
    ]

    async def attempts() -> tuple[list[int], list[dict[str, object]]]:
        codes = [await _refused(port, headers) for headers in refused]
        hellos = []
        for headers in (
            {"Origin": f"http://{own}"},
            {"Host": f"localhost:{port}", "Origin": f"http://localhost:{port}"},
            {"Host": f"LOCALHOST:{port}", "Origin": f"http://localhost:{port}"},
        ):
            conn = await _socket(port, headers)
            hellos.append(await _hello(conn))
            conn.close()
        return codes, hellos

    codes, hellos = asyncio.run(attempts())
    assert codes == [403] * len(refused)
    assert [hello["command"] for hello in hellos] == ["hello"] * 3


def test_garbage_on_the_websocket_is_no_traceback(server: Running) -> None:
    own = {"Origin": f"http://127.0.0.1:{server.port}"}

    async def talk() -> dict[str, object]:
        for garbage in ("not json", "[]", "1", "null", '{"command": 5}', "[" * 4000, "{" * 100_000, b"\xff\xfe"):
            conn = await _socket(server.port, own)
            conn.write_message(garbage)
            await asyncio.wait_for(conn.read_message(), DEADLINE)  # None: the server closed it
            conn.close()
        conn = await _socket(server.port, own)  # and the next client is served as usual
        try:
            return await _hello(conn)
        finally:
            conn.close()

    assert asyncio.run(talk())["command"] == "hello"
    assert "Traceback" not in server.output()
    assert "Uncaught" not in server.output()


def test_head_answers_like_get(server: Running) -> None:
    for path in ["/en/about/", "/robots.txt", "/sitemap.xml", "/no-such-page/", "/th/about", "/livereload.js"]:
        get = server.get(path)
        head = fetch(server.port, path, "HEAD")
        assert head.status == get.status, path
        assert head.text == ""
        get.headers.pop("date"), head.headers.pop("date")
        assert head.headers == get.headers, path
        assert int(head.headers["content-length"]) == len(get.text.encode("utf-8")), path
        assert get.text != "" or get.status in (301, 302), path
    # HEAD sends no body: the next answer on the same connection starts right after its headers
    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    answer = raw_request(
        server.port,
        b"HEAD /en/about/ HTTP/1.1\r\n"
        + host
        + b"\r\nGET /robots.txt HTTP/1.1\r\n"
        + host
        + b"Connection: close\r\n\r\n",
    )
    first, _, rest = answer.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 ")
    assert rest.startswith(b"HTTP/1.1 200 "), rest[:100]


HOSTILE_PATHS = [
    "/" + "a" * 256,
    "/" + "a" * 300 + "/",
    "/en/" + "b" * 1000 + ".html",
    "/th/about/" + "c" * 256 + "/index.html",
    "/" + "/".join(["d" * 250] * 20),  # longer than PATH_MAX in all
    "/%00",
    "/en/%00/",
    "/robots.txt%00",
    "/a%00b/",
    "/en/about/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/" + "%2e%2e/" * 40 + "etc/passwd",
    "/%2fetc/passwd",
    "/%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/en/about%5c..%5c..%5c..%5c..%5c..%5c..%5cetc%5cpasswd",
    "/%2Fetc%2Fpasswd",
    "/.%2e/.%2e/.%2e/.%2e/.%2e/.%2e/etc/passwd",
]


def test_hostile_paths_are_404s_without_a_traceback(server: Running) -> None:
    for path in HOSTILE_PATHS:
        for method in ("GET", "HEAD"):
            response = fetch(server.port, path, method)
            assert response.status == 404, (path, method)
            assert "root:" not in response.text, path
    assert "Traceback" not in server.output()
    assert "Uncaught" not in server.output()


def preview_out(running: Running) -> Path:
    """The preview's private output folder (under the TMPDIR the test gave it)."""
    (workdir,) = running.tmpdir.glob("sitegen-preview-*")
    return workdir / "site"


def test_symlinks_in_the_output_never_lead_out_of_it(server: Running) -> None:
    assert "root:" in Path("/etc/passwd").read_text()  # the target exists: a leak would show
    out = preview_out(server)
    (out / "leak.txt").symlink_to("/etc/passwd")
    (out / "leakdir").symlink_to("/etc")
    (out / "evil").mkdir()
    (out / "evil" / "index.html").symlink_to("/etc/passwd")
    (out / "evil2").mkdir()
    (out / "evil2" / "index.html").symlink_to("../../../../../../../../../../etc/passwd")
    (out / "same.txt").symlink_to(out / "robots.txt")  # a link that stays inside keeps working
    for path in ["/leak.txt", "/leakdir/passwd", "/leakdir/", "/evil/", "/evil", "/evil/index.html", "/evil2/"]:
        response = server.get(path)
        assert response.status == 404, path
        assert "root:" not in response.text, path
    assert server.get("/same.txt").text == server.get("/robots.txt").text
    # the 404 page is a file of the output like any other
    (out / "404.html").unlink()
    (out / "404.html").symlink_to("/etc/passwd")
    response = server.get("/no-such-page/")
    assert response.status == 404
    assert "root:" not in response.text


def test_no_cors_and_the_sites_own_security_headers(server: Running) -> None:
    port = server.port
    page = server.get("/en/about/")
    responses = {
        "page": page,
        "text": server.get("/robots.txt"),
        "404": server.get("/no-such-page/"),
        "redirect": server.get("/th/about"),
        "script": server.get("/livereload.js"),
        "options": fetch(port, "/en/about/", "OPTIONS"),
        "wrong host": fetch(port, "/en/about/", host="evil.example"),
    }
    production = parse_policy(CONTENT_SECURITY_POLICY)
    for name, response in responses.items():
        assert not [h for h in response.headers if h.startswith("access-control-")], name
        assert response.headers["x-content-type-options"] == "nosniff", name
        assert response.headers["referrer-policy"] == "no-referrer", name
        assert response.headers["cross-origin-opener-policy"] == "same-origin", name
        assert response.headers["permissions-policy"].startswith("camera=(), microphone=()"), name
        policy = parse_policy(response.headers["content-security-policy"])
        assert policy.keys() == production.keys(), name
        differ = {key for key in policy if policy[key] != production[key]}
        # The preview's own additions: its reload socket, and the error page's one inline style.
        assert differ <= {"connect-src", "style-src"}, name
    policy = parse_policy(page.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'"]  # the reload socket: same origin, IPv6 too
    assert policy["style-src"][0] == "'self'" and all(s.startswith("'sha256-") for s in policy["style-src"][1:])
    assert parse_policy(responses["wrong host"].headers["content-security-policy"]) == production
    # the reload script is a file, so that script-src 'self' allows it: no inline script on the page
    assert f'<script src="/livereload.js?host=127.0.0.1&amp;port={port}"></script>' in page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)


def parse_policy(policy: str) -> dict[str, list[str]]:
    directives = [part.split() for part in policy.split(";") if part.strip()]
    return {words[0]: words[1:] for words in directives}


# --- the pieces, in process ---------------------------------------------------------------------


def test_resolve_request_stays_inside(tmp_path: Path) -> None:
    out = tmp_path / "work" / "site"
    (out / "th" / "about").mkdir(parents=True)
    (out / "th" / "about" / "index.html").write_text("page")
    (out / "robots.txt").write_text("robots")
    (tmp_path / "work" / "secret.txt").write_text("secret")
    (out / "link").symlink_to(tmp_path / "work" / "secret.txt")
    (out / "loop").symlink_to(out / "loop")
    (out / "evil").mkdir()
    (out / "evil" / "index.html").symlink_to(tmp_path / "work" / "secret.txt")  # a folder's page leading out
    assert resolve_request(out, "/th/about/") == (out / "th/about/index.html").resolve()
    assert resolve_request(out, "/th/about") == (out / "th/about/index.html").resolve()
    assert resolve_request(out, "/robots.txt") == (out / "robots.txt").resolve()
    for bad in [
        "/../secret.txt",
        "/th/../../secret.txt",
        "..\\secret.txt",
        "/th/..\\..\\secret.txt",
        "/th\\about/",  # a backslash is part of a name, as on a static host: not a slash
        str(tmp_path / "work" / "secret.txt"),
        "/link",
        "/robots.txt\x00",
        "/C:/secret.txt",
        "/nothing",
        "/" + "a" * 256,
        "/th/" + "b" * 300 + "/",
        "/" + "/".join(["c" * 200] * 30),
        "/loop",
        "/loop/",
        "/evil/",
    ]:
        assert resolve_request(out, bad) is None, bad


def test_which_hosts_and_origins_are_allowed() -> None:
    local = Access("127.0.0.1", 8000)
    assert [local.host_allowed(h) for h in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "LOCALHOST:8000")] == [
        True
    ] * 4
    for wrong in (None, "", "127.0.0.1", "localhost", "127.0.0.1:8001", "192.168.1.5:8000", "evil.example:8000"):
        assert not local.host_allowed(wrong), wrong
    assert Access("localhost", 80).host_allowed("localhost")  # a browser leaves out port 80
    assert Access("localhost", 80).host_allowed("127.0.0.1:80")
    lan = Access("192.168.1.5", 8000)  # --host: that address, and still the loopback names
    assert lan.host_allowed("192.168.1.5:8000") and lan.host_allowed("localhost:8000")
    assert not lan.host_allowed("192.168.1.6:8000")
    assert Access("::1", 8000).host_allowed("[::1]:8000")
    assert Access("preview.lan", 8000).host_allowed("preview.lan:8000")
    everywhere = Access("0.0.0.0", 8000)  # every interface: any address, but never a name (names can be rebound)
    for good in ("192.168.1.6:8000", "10.0.0.1:8000", "[fe80::1]:8000", "localhost:8000"):
        assert everywhere.host_allowed(good), good
    for wrong in (
        "evil.example:8000",
        "192.168.1.6:8001",
        "192.168.1.6",
        "fe80::1:8000",
        "[FE80:0::1]:8000",
        "1.2:8000",
    ):
        assert not everywhere.host_allowed(wrong), wrong
    assert local.origin_allowed("http://localhost:8000", "localhost:8000")
    assert local.origin_allowed("http://localhost:8000", "LocalHost:8000")
    for origin in (None, "", "null", "https://localhost:8000", "http://127.0.0.1:8000", "http://evil.example"):
        assert not local.origin_allowed(origin, "localhost:8000"), origin
    assert not local.origin_allowed("http://evil.example:8000", "evil.example:8000")  # DNS rebinding


def test_live_page_adds_the_reload_script_and_the_preview_policy() -> None:
    """The page as render writes it: its <meta> policy becomes the preview's, which lets the socket connect."""
    from sitegen.render import with_policy

    page = with_policy("<html><head>\n</head><body>x</body></html>").encode()
    assert b"connect-src 'none'" in page
    live = live_page(page, "localhost:8000", 8000).decode()
    assert "connect-src 'none'" not in live and "connect-src 'self'; " in live
    script = '<script src="/livereload.js?host=localhost&amp;port=8000"></script>'
    assert live.endswith(script + "</head><body>x</body></html>")
    assert live_page(b"<p>no head</p>", "localhost:8000", 8000) == b"<p>no head</p>"


def test_error_page_language_and_escaping() -> None:
    """The page's own words come from the site's catalogue: the engine holds no Thai."""
    problems = [Problem("content/th/a.md", 3, "unknown key '<b>'", "did you mean 'title'?")]
    words = load_translations(load_config(SITE), Collector())
    thai = error_page(problems, "th", words["th"])
    assert '<html lang="th">' in thai
    assert "<title>สร้างเว็บไซต์ไม่สำเร็จ</title>" in thai
    assert "หน้านี้จะโหลดใหม่เองเมื่อสร้างเว็บไซต์ได้อีกครั้ง" in thai
    assert "<code>content/th/a.md:3</code>" in thai
    assert "&lt;b&gt;" in thai and "<b>" not in thai
    assert '<li lang="en">' in thai  # the engine's messages are English text on a Thai page
    assert "</head>" in thai  # where livereload puts its script
    for english in (error_page(problems, "my"), error_page(problems, "en", words["en"])):  # no words: English
        assert '<html lang="en">' in english and '<li lang="en">' not in english
        assert "<title>The site could not be built</title>" in english
    assert "สร้าง" not in Path(serve.__file__).read_text(encoding="utf-8")


def test_page_lang() -> None:
    codes = ("th", "en")
    assert page_lang("/th/about/", codes, "en") == "th"
    assert page_lang("/en/", codes, "th") == "en"
    assert page_lang("/", codes, "th") == "th"
    assert page_lang("/my/about/", codes, "th") == "th"
    assert page_lang("/assets/x.css", codes, "en") == "en"


def test_snapshot_ignores_editor_files(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    before = snapshot(root)
    assert "content/en/about.md" in before and "site.yaml" in before
    for junk in (".about.md.swp", ".about.md.swx", ".about.md.swo"):  # vim's swap files, rewritten as one types
        (root / "content" / "en" / junk).write_text("x")
        (root / "data" / junk).write_text("x")
    assert snapshot(root) == before
    # files the build reads, whatever their names look like
    read = [
        "content/en/#x.md",
        "data/#x.yaml",
        "templates/#x.html",
        "templates/.x.html",
        "assets/x.css~",
        "assets/4913",
    ]
    for name in read:
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_text("x")
    # the build's own readers take them (the watcher must not second-guess them)
    looked_at = Collector()  # a page file with a bad name is an error the build reports: it reads the folder
    pages = [file.path for file in page_files(load_config(root), looked_at)] + [p.path for p in looked_at.problems]
    assets = [f"{ASSETS_DIR}/{asset.name}" for asset in find_assets(root)]
    templates = [f"{TEMPLATES_DIR}/{name}" for name in template_names(root)]
    found = [*pages, *[path.relative_to(root).as_posix() for path in data_files(root)], *assets, *templates]
    assert set(read) <= set(found)
    assert changed_files(before, snapshot(root)) == sorted(read)
    for name in read:
        (root / name).unlink()
    (root / "content" / "en" / "new.md").write_text("---\ntitle: New\n---\n")
    (root / "site.yaml").unlink()
    assert changed_files(before, snapshot(root)) == ["content/en/new.md", "site.yaml"]


def test_failed_rebuild_keeps_the_last_good_build(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    lines: list[str] = []
    preview = Preview(root, tmp_path / "work", build=build_site, log=lines.append)
    assert preview.rebuild()
    assert sorted(p.name for p in preview.workdir.iterdir()) == [".sitegen-cache", ".sitegen-swap", "site"], "one cache"
    page = preview.out / "en" / "about" / "index.html"
    good = page.read_bytes()
    (root / ABOUT_EN).write_text("---\ntitle: x\n", encoding="utf-8")
    assert not preview.rebuild()
    assert preview.failed and preview.has_build
    assert [p.format() for p in preview.problems] == [
        "content/en/about.md:1: error: the front matter is not closed "
        "(add a line '---' after the last front-matter line)"
    ]
    assert page.read_bytes() == good
    assert lines[-1].startswith("1 error;")


def test_a_file_system_failure_is_shown_as_a_problem_not_an_internal_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def full_disk(root: Path, out: Path) -> Built:
        raise OSError(28, "No space left on device", str(out / "th" / "index.html"))

    preview = Preview(copy_site(tmp_path), tmp_path / "work", build=full_disk, log=lambda text: None)
    assert not preview.rebuild()
    assert [p.format() for p in preview.problems] == [
        f"{preview.out / 'th' / 'index.html'}: error: No space left on device"
        " (check the path, its permissions and the free disk space, then try again)"
    ]
    assert "Traceback" not in capsys.readouterr().err


def test_a_save_in_two_steps_builds_once_after_the_quiet_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The end-to-end test above cannot see the quiet time: the two writes land within one poll.
    # Here the clock is ours, and each write is seen by a poll of its own.
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    builds: list[float] = []
    reloads: list[float] = []
    monkeypatch.setattr(ReloadSocket, "reload_all", classmethod(lambda cls: reloads.append(clock[0])))

    def build(root: Path, out: Path) -> Built:
        builds.append(clock[0])
        return build_site(root, out)

    root = copy_site(tmp_path)
    watcher = SiteWatcher(Preview(root, tmp_path / "work", build=build, log=lambda text: None))
    path = root / ABOUT_EN
    text = path.read_text(encoding="utf-8")
    for seconds, edit in ((0.0, ""), (0.1, text + "\nSaved.\n"), (0.35, None), (0.45, None), (1.0, None)):
        clock[0] = 100.0 + seconds
        if edit is not None:
            path.write_text(edit, encoding="utf-8")
        watcher.tick()
    # Quiet from 0.1: not yet at 0.35 (0.25 s), once at 0.45 (0.35 s), and not again.
    assert builds == reloads == [100.45] and serve.QUIET_SECONDS == 0.3


# --- what a hostile tester found after the first hardening -----------------------------------------


def test_the_error_page_survives_lone_surrogates(server: Running) -> None:
    # YAML turns "\udcff" into a lone surrogate, and a file name with a byte that is not UTF-8
    # becomes one too: neither may leave the browser with an empty 500 and no reload script.
    page = server.root / "content" / "en" / "sur.md"
    page.write_text('---\ntitle: ok\n"\\udcff": 1\n---\nhi\n', encoding="utf-8")
    wait_for("the error page", lambda: server.get("/en/about/").status == 500, server.proc)
    shown = server.get("/en/about/")
    assert "content/en/sur.md" in shown.text and "livereload.js" in shown.text
    page.unlink()
    bad = os.path.join(os.fsencode(server.root / "content" / "en"), b"bad\xff.md")
    with open(bad, "wb") as file:
        file.write(b"---\ntitle: x\n")  # the front matter is not closed
    wait_for("the second error page", lambda: "content/en/bad" in server.get("/en/about/").text, server.proc)
    assert "livereload.js" in server.get("/th/").text
    assert "Traceback" not in server.output()


def test_an_internal_error_page_is_short_and_encodable(tmp_path: Path) -> None:
    def broken(root: Path, out: Path) -> Built:
        raise RuntimeError("\udcff" + "x" * 1_000_000)

    preview = Preview(copy_site(tmp_path), tmp_path / "work", build=broken, log=lambda text: None)
    assert not preview.rebuild()
    page = error_page(preview.problems, "en").encode("utf-8")
    assert b"internal error" in page and len(page) < 10_000
    # the same holds for any problem the build reports
    page = error_page([Problem("content/en/\udcff.md", 1, "\ud800" + "y" * 1_000_000, "\udfff")], "th").encode()
    assert "content/en/\ufffd.md:1" in page.decode() and len(page) < 10_000


def _frame(text: bytes) -> bytes:
    """A masked websocket text frame, as a browser sends it."""
    mask = b"\x01\x02\x03\x04"
    payload = bytes(byte ^ mask[i % 4] for i, byte in enumerate(text))
    return bytes([0x81, 0x80 | len(text)]) + mask + payload


def test_a_message_after_the_server_closed_the_socket_is_no_traceback(server: Running) -> None:
    handshake = (
        "GET /livereload HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\nOrigin: http://127.0.0.1:{server.port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(handshake)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 101 ")
        sock.sendall(_frame(b"x") + _frame(b"y") + _frame(b'{"command":"hello"}'))  # one write: all arrive together
        sock.sendall(bytes([0x88, 0x80]) + b"\x00\x00\x00\x00")  # our close frame, then wait for the end
        with contextlib.suppress(ConnectionResetError):  # the server may end it before reading our close
            while sock.recv(4096):
                pass
    assert server.get("/robots.txt").status == 200  # the server went on, and had handled both messages
    assert "Traceback" not in server.output()
    assert "WebSocketClosedError" not in server.output()


def test_the_preview_works_on_ipv6(tmp_path: Path) -> None:
    running = start_server(tmp_path, address="::1")
    try:
        page = running.get("/en/about/")
        assert page.status == 200
        # a CSP host-source cannot hold an IPv6 address: the socket is allowed as 'self'
        assert parse_policy(page.headers["content-security-policy"])["connect-src"] == ["'self'"]
        # and the reload script cannot read "[::1]" from its own address: it is told
        assert f'<script src="/livereload.js?host=[::1]&amp;port={running.port}"></script>' in page.text
    finally:
        stop_server(running, signal.SIGTERM)


FILES_AS_FOLDERS = ["/robots.txt/", "/en/about/index.html/", "/sitemap.xml/.", "/robots.txt/.", "/robots.txt\\"]


def test_a_file_is_not_a_folder(server: Running) -> None:
    assert server.get("/robots.txt").status == 200 and server.get("/en/about/index.html").status == 200
    for path in FILES_AS_FOLDERS:
        assert server.get(path).status == 404, path  # as in production


def test_the_terminal_is_not_flooded(server: Running) -> None:
    # the rule is explained at the start, before any hostile page can use up the lines that explain it
    assert f"answers only to localhost, 127.0.0.1 and [::1] with port {server.port}" in server.output()
    long_path = "/" + "a" * 60_000
    assert server.get(long_path).status == 404
    assert fetch(server.port, "/", host="evil.example" + "e" * 60_000).status == 403
    # tornado refuses C0 controls in the request line; C1's CSI (0x9b) gets through, and must reach the terminal escaped
    own = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    answer = raw_request(server.port, b"GET /\x9b2J\x9b31m HTTP/1.1\r\n" + own + b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404 ")
    assert server.get("/").status == 200  # every line above is written by now
    assert max(len(line) for line in server.output().splitlines()) < 400
    assert "\x9b" not in server.output() and "\x1b" not in server.output()


def test_absolute_form_requests_go_through_the_guard(server: Running) -> None:
    port = server.port
    for host, status in ((f"127.0.0.1:{port}", b"404"), ("evil.example", b"403")):
        for target in (b"http://evil.example/", f"http://127.0.0.1:{port}/en/about/".encode(), b"*"):
            answer = raw_request(
                port, b"GET " + target + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n"
            )
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 " + status + b" "), (target, head[:200])
            assert b"\r\nX-Content-Type-Options: nosniff\r\n" in head, target
            assert b"\r\nContent-Security-Policy: " in head, target
            assert body == b"", target


def test_a_build_that_changes_nothing_reloads_no_tab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The watcher sees every file the build might read, emacs's autosaves ("#about.md#") too:
    # a build for one of those writes nothing, and the open tabs are left alone.
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    reloads: list[float] = []
    monkeypatch.setattr(ReloadSocket, "reload_all", classmethod(lambda cls: reloads.append(clock[0])))
    builds: list[float] = []

    def build(root: Path, out: Path) -> Built:
        builds.append(clock[0])
        return build_site(root, out)

    root = copy_site(tmp_path)
    preview = Preview(root, tmp_path / "work", build=build, log=lambda text: None)
    preview.rebuild()
    watcher = SiteWatcher(preview)
    path = root / ABOUT_EN
    good = path.read_text(encoding="utf-8")

    def save(name: Path, text: str) -> None:
        name.write_text(text, encoding="utf-8")
        for _ in range(2):
            clock[0] += 1.0
            watcher.tick()

    save(root / "content" / "en" / "#about.md#", good + "typing")
    assert (len(builds), reloads) == (2, [])
    save(path, good.replace(ABOUT_TEXT, "Changed."))
    assert (len(builds), len(reloads)) == (3, 1)
    save(path, good.replace("title: About us", 'title: "About us'))  # broken: the tab shows the error page
    assert (len(builds), len(reloads)) == (4, 2)
    save(path, good.replace(ABOUT_TEXT, "Changed."))  # fixed, to the output it had: the tab shows the page again
    assert (len(builds), len(reloads)) == (5, 3)

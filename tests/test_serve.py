"""The live preview: the real dev server as a subprocess, and the pieces it is made of."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from livereload.handlers import LiveReloadHandler
from tornado.websocket import websocket_connect

from sitegen import serve
from sitegen.errors import Problem
from sitegen.pipeline import Built, build_site
from sitegen.serve import Preview, SiteWatcher, changed_files, error_page, page_lang, resolve_request, snapshot

from .conftest import REPO, SITES

SITE = SITES / "err-base"  # a small valid bilingual site
DEADLINE = 30.0  # generous: these wait for a result, they never measure speed


def copy_site(tmp_path: Path) -> Path:
    root = tmp_path / "site-src"
    shutil.copytree(SITE, root)
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


def fetch(port: int, path: str) -> Response:
    """A GET with the path sent exactly as given (no client-side normalisation)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, body)
    finally:
        conn.close()


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

    def get(self, path: str) -> Response:
        return fetch(self.port, path)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")


def start_server(tmp_path: Path) -> Running:
    root = copy_site(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    tmpdir = tmp_path / "tmp"  # the preview's private build folder goes here, so we can see it removed
    tmpdir.mkdir()
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--root", str(root), "--port", str(port)],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    running = Running(proc, port, root, log, tmpdir)
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
    wait_for("the edited text", lambda: "on 24 December 2008" in server.get("/en/about/").text, server.proc)

    # 2. a broken front matter: the error page names file and line; the server keeps running
    path.write_text(good.replace("title: About us", 'title: "About us'), encoding="utf-8")
    wait_for("the error page", lambda: server.get("/en/about/").status == 500, server.proc)
    broken = server.get("/en/about/")
    assert "content/en/about.md:2" in broken.text
    assert "The site could not be built" in broken.text
    assert '<html lang="en">' in broken.text
    assert "livereload.js" in broken.text  # so that fixing the file brings the page back by itself
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
    conn = await websocket_connect(f"ws://127.0.0.1:{port}/livereload")
    try:
        conn.write_message(
            json.dumps({"command": "hello", "protocols": ["http://livereload.com/protocols/official-7"]})
        )
        hello = await asyncio.wait_for(conn.read_message(), DEADLINE)
        assert hello is not None and json.loads(hello)["command"] == "hello"
        conn.write_message(json.dumps({"command": "info", "url": f"http://127.0.0.1:{port}/en/about/"}))
        await asyncio.sleep(0.5)  # let the server register this tab before the change
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
        assert response.status in (400, 404), path
        assert "root:" not in response.text, path


# --- the pieces, in process ---------------------------------------------------------------------


def test_resolve_request_stays_inside(tmp_path: Path) -> None:
    out = tmp_path / "work" / "site"
    (out / "th" / "about").mkdir(parents=True)
    (out / "th" / "about" / "index.html").write_text("page")
    (out / "robots.txt").write_text("robots")
    (tmp_path / "work" / "secret.txt").write_text("secret")
    (out / "link").symlink_to(tmp_path / "work" / "secret.txt")
    assert resolve_request(out, "/th/about/") == (out / "th/about/index.html").resolve()
    assert resolve_request(out, "/th/about") == (out / "th/about/index.html").resolve()
    assert resolve_request(out, "/robots.txt") == (out / "robots.txt").resolve()
    for bad in [
        "/../secret.txt",
        "/th/../../secret.txt",
        "..\\secret.txt",
        "/th/..\\..\\secret.txt",
        str(tmp_path / "work" / "secret.txt"),
        "/link",
        "/robots.txt\x00",
        "/C:/secret.txt",
        "/nothing",
    ]:
        assert resolve_request(out, bad) is None, bad


def test_error_page_language_and_escaping() -> None:
    problems = [Problem("content/th/a.md", 3, "unknown key '<b>'", "did you mean 'title'?")]
    thai = error_page(problems, "th")
    assert '<html lang="th">' in thai
    assert "สร้างเว็บไซต์ไม่สำเร็จ" in thai
    assert "<code>content/th/a.md:3</code>" in thai
    assert "&lt;b&gt;" in thai and "<b>" not in thai
    assert '<li lang="en">' in thai  # the engine's messages are English text on a Thai page
    assert "</head>" in thai  # where livereload puts its script
    english = error_page(problems, "my")  # a language without its own words falls back to English
    assert '<html lang="en">' in english
    assert "The site could not be built" in english


def test_page_lang() -> None:
    assert page_lang("/th/about/", "en") == "th"
    assert page_lang("/en/", "th") == "en"
    assert page_lang("/", "th") == "th"
    assert page_lang("/my/about/", "th") == "th"
    assert page_lang("/assets/x.css", "fr") == "en"


def test_snapshot_ignores_editor_files(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    before = snapshot(root)
    assert "content/en/about.md" in before and "site.yaml" in before
    for junk in (".about.md.swp", "about.md~", "#about.md#", "4913"):
        (root / "content" / "en" / junk).write_text("x")
    assert snapshot(root) == before
    (root / "content" / "en" / "new.md").write_text("---\ntitle: New\n---\n")
    (root / "site.yaml").unlink()
    assert changed_files(before, snapshot(root)) == ["content/en/new.md", "site.yaml"]


def test_failed_rebuild_keeps_the_last_good_build(tmp_path: Path) -> None:
    root = copy_site(tmp_path)
    lines: list[str] = []
    preview = Preview(root, tmp_path / "work", build=build_site, log=lines.append)
    assert preview.rebuild()
    assert sorted(p.name for p in preview.workdir.iterdir()) == [".sitegen-cache", "site"], "one cache, with its lock"
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
    monkeypatch.setattr(LiveReloadHandler, "reload_waiters", classmethod(lambda cls: reloads.append(clock[0])))

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

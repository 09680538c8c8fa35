"""Work done page by page: each page file is read once per build, and what a render finds."""

from __future__ import annotations

import collections
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sitegen import inputs, source, workers
from sitegen.content import PageFile
from sitegen.errors import BuildFailed
from sitegen.pipeline import build_site
from sitegen.workers import InBackground

from .conftest import MakeSite


def count_page_reads(monkeypatch: pytest.MonkeyPatch) -> collections.Counter[str]:
    """Count the reads of page files by the scan and the renderers (a build with jobs=1 has no pool)."""
    reads: collections.Counter[str] = collections.Counter()
    for name in ("read_file", "read_source"):
        real = getattr(workers, name)

        def counted(root: Path, relative: str, real: Callable[[Path, str], object] = real) -> object:
            reads[relative] += 1
            return real(root, relative)

        monkeypatch.setattr(workers, name, counted)
    return reads


def test_each_page_file_is_read_once_per_build(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    reads = count_page_reads(monkeypatch)
    build_site(root, tmp_path / "site", jobs=1)
    pages = sorted(p.relative_to(root).as_posix() for p in (root / "content").rglob("*.md"))
    assert pages and sorted(reads) == pages
    assert set(reads.values()) == {1}


def test_a_rebuild_reads_each_page_it_renders_once(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    monkeypatch.setattr(inputs, "RACY_NS", 0)  # files written just now are trusted as the cache saw them
    build_site(root, tmp_path / "site", jobs=1)
    edited = root / "content/th/about.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nอีกบรรทัด\n", encoding="utf-8")
    reads = count_page_reads(monkeypatch)
    assert build_site(root, tmp_path / "site", jobs=1).rendered == 1
    assert reads == {"content/th/about.md": 1}  # parsed and rendered from one read
    template = root / "templates/base.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    reads.clear()
    built = build_site(root, tmp_path / "site", jobs=1)
    # Every page is rendered again; their front matter comes from the cache, their bodies from one read each.
    pages = sorted(p.relative_to(root).as_posix() for p in (root / "content").rglob("*.md"))
    assert built.rendered > len(pages) and sorted(reads) == pages and set(reads.values()) == {1}


def test_a_page_changed_between_scan_and_render_is_an_error_not_a_mix(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site()
    monkeypatch.setattr(inputs, "RACY_NS", 0)
    build_site(root, tmp_path / "site", jobs=1)
    english = root / "content/en/about.md"
    template = root / "templates/base.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    real = source.read_source

    def changed(root_: Path, relative: str) -> str:
        if relative == "content/en/about.md":  # it changes after the scan trusted its stat
            english.write_text("---\ntitle: Changed\n---\n\nchanged\n", encoding="utf-8")
        return real(root_, relative)

    monkeypatch.setattr(workers, "read_source", changed)
    with pytest.raises(BuildFailed) as caught:
        build_site(root, tmp_path / "site", jobs=1)
    assert [p.format() for p in caught.value.problems] == [
        "content/en/about.md: error: the file changed while the site was being built (build again)"
    ]


def test_work_in_background_runs_in_another_process_and_answers() -> None:
    look = InBackground(os.getpid)
    assert look.result() != os.getpid(), "it ran in a fork"
    assert InBackground(os.getpid, fork=False).result() == os.getpid()


def test_work_in_background_is_not_forked_beside_another_thread() -> None:
    """The preview server has threads: a fork would copy the locks they hold, held for ever."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert InBackground(os.getpid).result() == os.getpid()
    finally:
        stop.set()
        other.join()


def _dies_if_forked(parent: int) -> int:
    if os.getpid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)  # as if killed while it looked
    return 42


def test_work_in_background_that_dies_is_done_here() -> None:
    dies = InBackground(_dies_if_forked, os.getpid())
    assert dies.pid != 0, "it was forked"
    assert dies.result() == 42
    with pytest.raises(ChildProcessError):
        os.waitpid(dies.pid, os.WNOHANG)  # reaped


def test_work_in_background_no_one_waits_for_is_ended_and_reaped() -> None:
    look = InBackground(signal.pause)  # would wait for ever
    look.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(look.pid, os.WNOHANG)  # reaped: no zombie left


def test_a_body_is_kept_in_the_shared_block_or_on_its_own_if_the_file_grew(tmp_path: Path) -> None:
    """Bodies keeps each file's listed size for its body; a file that grew after it was listed (an
    editor saving during the build) must not overwrite the next file's place."""
    (tmp_path / "content/en").mkdir(parents=True)
    one, two = tmp_path / "content/en/one.md", tmp_path / "content/en/two.md"
    one.write_text("---\ntitle: One\n---\nfirst body\n", encoding="utf-8")
    two.write_text("---\ntitle: Two\n---\nsecond body\n", encoding="utf-8")
    files = [PageFile(f"content/en/{p.name}", "en", p.stem, p.stat()) for p in (one, two)]
    bodies = workers.Bodies(files)
    one.write_text("---\ntitle: One\n---\nfirst body, now much longer than it was\n", encoding="utf-8")
    for result in workers.parse_pages(tmp_path, files, 1, bodies):
        bodies.add(result.path, result.body)
    assert bodies.get("content/en/one.md") == "first body, now much longer than it was\n"
    assert bodies.get("content/en/two.md") == "second body\n"
    assert isinstance(bodies.found["content/en/two.md"], tuple), "in the shared block"
    assert bodies.get("content/en/three.md") is None


def test_a_page_deleted_after_it_was_listed_is_a_clean_error(tmp_path: Path) -> None:
    """An editor saving by delete-and-rename, during a build: one line, no traceback."""
    (tmp_path / "content/en").mkdir(parents=True)
    page = tmp_path / "content/en/about.md"
    page.write_text("---\ntitle: About\n---\nbody\n", encoding="utf-8")
    files = [PageFile("content/en/about.md", "en", "about", page.stat())]
    page.unlink()
    (result,) = workers.parse_pages(tmp_path, files, 1, workers.Bodies(files))
    assert result.source is None
    assert [p.format() for p in result.problems] == [
        "content/en/about.md: error: the file changed while the site was being built (build again)"
    ]


def test_slices_keep_a_run_of_the_same_source_together() -> None:
    items = ["a", "a", "b", "b", "b", "c", "d", "d", "e", "f", "f", "f", "f", "g"]
    sliced = workers.chunks(items, 8, together=lambda item: item)  # slices of 4 at least
    assert [item for part in sliced for item in part] == items
    for before, after in itertools.pairwise(sliced):
        assert before[-1] != after[0], "a run split between two slices"
    assert workers.chunks(items, 8) == [items[0:4], items[4:8], items[8:12], items[12:14]]


def test_a_page_and_its_fallback_are_read_once_on_a_rebuild_with_many_processes(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thai pages with English fallbacks, a template edited: every page rendered again by a pool of three
    processes, its body read by whichever renders it: once, the fallback taking it from its original."""
    pages = {f"content/th/p{n:03d}.md": f"---\ntitle: หน้า {n}\n---\n\nข้อความ {n}\n" for n in range(60)}
    root = make_site(pages)
    monkeypatch.setattr(inputs, "RACY_NS", 0)
    build_site(root, tmp_path / "site", jobs=3)
    log = tmp_path / "reads.log"
    real = source.read_source

    def logged(where: Path, relative: str) -> str:  # appended by every process of the pool
        with log.open("a", encoding="utf-8") as stream:
            stream.write(relative + "\n")
        return real(where, relative)

    monkeypatch.setattr(workers, "read_source", logged)
    template = root / "templates/base.html"
    template.write_text(template.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    built = build_site(root, tmp_path / "site", jobs=3)
    assert built.rendered >= 120
    reads = collections.Counter(log.read_text(encoding="utf-8").split())
    assert reads and max(reads.values()) == 1, [path for path, count in reads.items() if count > 1]


def test_work_in_background_is_not_waited_for_if_not_done() -> None:
    slow = InBackground(time.sleep, 30)
    started = time.monotonic()
    assert slow.result_if_done() is None, "still sleeping: not waited for"
    slow.close()
    assert time.monotonic() - started < 10
    done = InBackground(os.getpid)
    os.waitid(os.P_PID, done.pid, os.WEXITED | os.WNOWAIT)  # until it has ended, without reaping it
    answer = done.result_if_done()
    assert answer is not None and answer != os.getpid()
    assert InBackground(os.getpid, fork=False).result_if_done() is None, "not forked: nothing computed ahead"


ORPHAN_SCRIPT = """
import os, sys, time
from sitegen import workers

def sleeper(job):
    with open(os.path.join(sys.argv[1], str(os.getpid())), "w"):
        pass
    time.sleep(60)
    return [job]

if sys.argv[2] == "pool":
    workers._pooled(sleeper, [1, 2], 2)
else:
    workers.InBackground(sleeper, 1).result()
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("kind", ["pool", "background"])
def test_a_process_forked_by_a_build_ends_when_the_build_is_killed(tmp_path: Path, kind: str) -> None:
    """A build killed with SIGKILL (the OOM killer, ``kill -9``) left its pool working: each worker
    went on writing pages into the staging folder that the next build was removing (which then
    failed with "Directory not empty", a traceback), and printed a BrokenPipeError of its own."""
    import subprocess
    import sys

    from .conftest import REPO

    script = tmp_path / "orphans.py"
    script.write_text(ORPHAN_SCRIPT, encoding="utf-8")
    pids = tmp_path / "pids"
    pids.mkdir()
    build = subprocess.Popen([sys.executable, str(script), str(pids), kind], cwd=REPO)
    try:
        wanted = 2 if kind == "pool" else 1
        deadline = time.monotonic() + 60
        while len(list(pids.iterdir())) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        forked = [int(p.name) for p in pids.iterdir()]
        assert len(forked) == wanted
    finally:
        build.kill()
        build.wait()
    deadline = time.monotonic() + 10
    while any(map(_alive, forked)) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in forked if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "a forked process outlived the build"


def test_work_in_background_that_failed_is_not_done_here_when_not_waited_for() -> None:
    """``result_if_done`` is a head start or nothing: the compile ahead of an unused template that
    Jinja cannot compile (RecursionError) killed its process, and the build compiled every template
    itself, failing with a traceback on a template no page used."""
    failed = InBackground(_dies_if_forked, os.getpid())
    os.waitid(os.P_PID, failed.pid, os.WEXITED | os.WNOWAIT)
    assert failed.result_if_done() is None, "not run here (here it answers 42)"


def _signal_handlers(job: int) -> list[list[object]]:
    return [[signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE)]]


def test_a_worker_leaves_ctrl_c_to_the_build_and_ends_quietly() -> None:
    """Ctrl-C reaches every process of the terminal's group: each worker printed its own
    KeyboardInterrupt traceback. The build ends its pool; a worker ignores SIGINT, and ends without a
    word on SIGTERM (the preview server's handler is not its own) and on a write to a build gone."""
    previous = signal.signal(signal.SIGTERM, lambda number, frame: None)  # as the preview server does
    try:
        handlers = workers._pooled(_signal_handlers, [1, 2], 2)
    finally:
        signal.signal(signal.SIGTERM, previous)
    quiet = [signal.SIG_IGN, signal.SIG_DFL, signal.SIG_DFL]
    assert handlers == [quiet, quiet]


def _dies_on_two(job: int) -> list[int]:
    if job == 2:
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
    return [job]


def test_a_worker_killed_mid_build_ends_the_build_with_one_line() -> None:
    """multiprocessing.Pool started another worker and waited for the killed one's work for ever: a
    build, or the preview, hung with nothing said."""
    from sitegen.errors import SiteError

    with pytest.raises(SiteError) as info:
        workers._pooled(_dies_on_two, [1, 2, 3], 2)
    assert "ended before its work was done" in info.value.problem.message


def test_work_in_background_that_cannot_fork_is_done_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fork refused (EAGAIN, ENOMEM) failed the whole build, for what is only a head start."""
    import errno

    def refused() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    fds = len(os.listdir("/proc/self/fd"))
    look = InBackground(os.getpid)
    assert look.pid == 0 and look.result() == os.getpid()
    assert len(os.listdir("/proc/self/fd")) == fds, "no pipe left open"

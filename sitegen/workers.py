"""Work done page by page, on every core when there is enough of it: reading front matter, rendering.

Each process of a render pool holds one ``Worker``: a ``Renderer`` (Jinja environments, the
Markdown converter), made once by the pool's initialiser, and the folder it writes into. It is
kept in the module variable ``_worker``, the build's only mutable module-level state, and it is
set only inside pool processes. A build too small for a pool uses a ``Worker`` of its own in
the calling process. Pools fork, so workers share the site model and the bodies of the pages the
scan read (see ``with_body``) instead of unpickling them;
where fork is not available (Windows), all the work runs in the calling process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import gettext
import mmap
import os
import pickle
import select
import signal
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from .cache import FoundLink, digest_bytes
from .content import PageFile, PageSource, file_digest, parse_page_text, split_front_matter
from .data import SiteData
from .errors import Collector, Problem, SiteError
from .links import found_links, page_link_problems
from .model import Page, Site
from .source import decode_text, read_file, read_source

if TYPE_CHECKING:  # render imports Jinja and Markdown, which a build with nothing to render never needs
    from .render import Rendered

PARALLEL_PARSE_MIN = 200  # fewer pages than this are parsed in the calling process: a pool costs more
PARALLEL_RENDER_MIN = 64  # likewise for rendering (each worker compiles the templates again)

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Parsed:
    """A page file read and its front matter checked; its body kept beside its source."""

    path: str  # of the page file (not its PageFile: a stat is slow to pass between processes)
    digest: str  # of the file's bytes
    source: PageSource | None  # None when it has mistakes; without its body, as the cache keeps it
    body: tuple[int, int] | bytes  # where ``Bodies`` holds it (offset, length), or itself if it did not fit
    problems: tuple[Problem, ...]


class PageTask(NamedTuple):
    """Render ``site.pages[page]``; ``previous`` is the digest of the file already in the output."""

    page: int
    previous: str | None = None


class SpecialTask(NamedTuple):
    """Render a page outside any language (the chooser, the 404 page)."""

    template: str
    output: str
    context: dict[str, Any]
    previous: str | None = None


class PageFindings(NamedTuple):
    """What the check stage needs of a rendered output; the cache keeps the same three in its record."""

    problems: tuple[Problem, ...]  # what only the page's own inputs can change: dead links, no alt text, raw HTML
    anchors: tuple[FoundLink, ...]  # its links to #anchors, checked on every build against the target's ids
    ids: str  # its headings' ids, one per line, for the pages that link to them


@dataclass(frozen=True)
class RenderedOutput:
    """An output rendered, written to the staging folder unless its bytes equal ``previous``."""

    output: str
    digest: str
    written: bool
    rendered: Rendered  # without its html, which is on disk (or unchanged): what the render used
    findings: PageFindings


Task = PageTask | SpecialTask
Result = RenderedOutput | Problem


def changed_during_build(path: str) -> SiteError:
    """A page file changed, deleted or renamed between the moment it was listed or read and another read."""
    return SiteError("the file changed while the site was being built", path, 0, "build again")


def parse_page(root: Path, file: PageFile, block: mmap.mmap | None = None, offset: int = 0) -> Parsed:
    """Read one page file and check its front matter; put its body into ``block`` at ``offset``,
    where ``Bodies`` kept the file's size for it (a file that grew since it was listed keeps its own)."""
    problems = Collector()
    try:
        data = read_file(root, file.path)  # read once: the digest, the parse and the render see the same bytes
    except SiteError as exc:
        return Parsed(file.path, "", None, b"", (exc.problem,))
    except (FileNotFoundError, NotADirectoryError):  # deleted or renamed since the pages were listed
        return Parsed(file.path, "", None, b"", (changed_during_build(file.path).problem,))
    digest = digest_bytes(data)
    try:
        source = parse_page_text(decode_text(data, file.path), file.path, file.lang, file.key, problems)
    except SiteError as exc:
        problems.catch(exc)
        source = None
    encoded = source.body.encode("utf-8") if source is not None else b""
    body: tuple[int, int] | bytes = encoded
    if block is not None and 0 < len(encoded) <= file.stat.st_size:
        block[offset : offset + len(encoded)] = encoded
        body = (offset, len(encoded))
    source = source and dataclasses.replace(source, body="")  # the cache keeps sources without bodies
    return Parsed(file.path, digest, source, body, tuple(problems.problems))


class Bodies:
    """The bodies of the page files a build read, for the renderers.

    In one block of memory shared with every process forked from the build (``mmap`` of no file):
    a parsing process writes each body there, at the place kept for its file, and the rendering
    processes read it there, so that no body is copied from one process to another (at 10,000
    pages that cost a quarter of a second)."""

    def __init__(self, files: Sequence[PageFile]) -> None:
        self.offsets: dict[str, int] = {}
        size = 0
        for file in files:
            self.offsets[file.path] = size
            size += file.stat.st_size
        self.block = mmap.mmap(-1, max(size, 1))
        self.found: dict[str, tuple[int, int] | bytes] = {}

    def add(self, path: str, body: tuple[int, int] | bytes) -> None:
        self.found[path] = body

    def get(self, path: str) -> str | None:
        body = self.found.get(path)
        if isinstance(body, tuple):
            offset, length = body
            return self.block[offset : offset + length].decode("utf-8")
        return None if body is None else body.decode("utf-8")


def with_body(page: Page, root: Path, bodies: Bodies | None, last: PageSource | None = None) -> Page:
    """The page with its Markdown body: as the scan read it (``bodies``), as the previous render
    had it (``last``: a fallback page comes right after the page whose text it shows), or read now."""
    source = page.source
    body = bodies.get(source.path) if bodies is not None else None
    if body is None and last is not None and last.path == source.path:
        body = last.body
    if body is None:
        try:
            text = read_source(root, source.path)
        except OSError:  # deleted or moved since the build read it
            text = ""
        if file_digest(text) != source.digest:
            raise changed_during_build(source.path)
        _, body, _ = split_front_matter(text, source.path)
    return dataclasses.replace(page, source=dataclasses.replace(source, body=body))


def page_findings(page: Page, rendered: Rendered, site: Site) -> PageFindings:
    """A rendered page's own problems, its links to #anchors, and its heading ids.

    A fallback page shows another page's text, whose own page reports what is wrong with it."""
    ids = "\n".join(rendered.ids)
    if page.fallback:
        return PageFindings((), (), ids)
    links, images = found_links(page.source, rendered)
    plain = [link for link in links if not link.fragment]
    problems = (*rendered.problems, *page_link_problems(page, plain, images, site, lambda output: ()))
    return PageFindings(problems, tuple(link for link in links if link.fragment), ids)


class Worker:
    """Renders pages, and writes them into ``staging`` if there is one; one per process."""

    def __init__(
        self,
        site: Site,
        data: SiteData,
        translations: dict[str, gettext.NullTranslations],
        assets: dict[str, str],
        bodies: Bodies | None,
        staging: Path | None,
        compiled: Mapping[str, bytes],
    ) -> None:
        from .render import Renderer

        self.site = site
        self.root = site.config.root
        self.renderer = Renderer(site, data, translations, assets, compiled)
        self.bodies = bodies
        self.last: PageSource | None = None  # with its body: the page this worker rendered last
        self.staging = staging

    def run(self, task: Task) -> Result:
        try:
            if isinstance(task, PageTask):
                page = with_body(self.site.pages[task.page], self.root, self.bodies, self.last)
                self.last = page.source
                rendered = self.renderer.render_page(page)
                findings = page_findings(page, rendered, self.site)
            else:
                rendered = self.renderer.render_special(task.template, task.output, task.context)
                findings = PageFindings((), (), "\n".join(rendered.ids))
        except SiteError as exc:
            return exc.problem
        data = rendered.html.encode("utf-8")
        digest = digest_bytes(data)
        written = self.staging is not None and digest != task.previous
        if self.staging is not None and written:
            target = self.staging / rendered.output
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        kept = dataclasses.replace(rendered, html="")
        return RenderedOutput(rendered.output, digest, written, kept, findings)


def compile_templates(root: Path) -> dict[str, bytes]:
    """``render.compile_templates``, imported in the process that runs it: a build may render nothing."""
    from .render import compile_templates

    return compile_templates(root)


_worker: Worker | None = None  # the worker of a pool process; never set in the calling process


def _start_worker(*args: Any) -> None:
    global _worker
    _worker = Worker(*args)


PR_SET_PDEATHSIG = 1  # prctl(2): the signal this process gets when the thread that forked it ends


_HELD = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def forking() -> Iterator[None]:
    """Ctrl-C and SIGTERM held back while this process forks: a new process takes them only once
    ``end_with_parent`` has set what they do in it. Until then it had the build's handlers: a pool
    ended early sent SIGTERM to a worker still starting, whose inherited handler (the preview
    server's) ignored it, and the pool waited for that worker for ever."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def end_with_parent(parent: int) -> None:
    """Make this forked process end with ``parent``, the build that forked it, and without a word.

    Linux kills it when the build's thread that forked it ends, however it ends (elsewhere it ends at
    its next message to the build): a worker of a build killed by ``kill -9``
    went on writing into a staging folder that the next build was removing. It leaves Ctrl-C to the
    build (which ends its pool: a worker's own KeyboardInterrupt printed a traceback), ends on
    SIGTERM as a process does (the preview server's handler printed one too), and ends at a write to
    a build that is gone (a BrokenPipeError traceback, where there is no prctl)."""
    import ctypes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _HELD)  # what came meanwhile is done as set above
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: not Linux
        return
    if os.getppid() != parent:  # the build ended before the line above
        os._exit(1)


def _start_process(parent: int, initializer: Callable[..., None] | None, *args: Any) -> None:
    end_with_parent(parent)
    gc.enable()  # the parent may have paused the collector (see cache.paused_gc); workers make cycles
    if initializer is not None:
        initializer(*args)


def _run_tasks(tasks: list[Task]) -> list[Result]:
    assert _worker is not None, "called outside a pool process"
    return [_worker.run(task) for task in tasks]


_block: mmap.mmap | None = None  # the Bodies block of a parsing pool's process; never set in the calling process


def _start_parser(block: mmap.mmap) -> None:
    global _block
    _block = block


def _parse_files(job: tuple[Path, list[PageFile], list[int]]) -> list[Parsed]:
    root, files, offsets = job
    return [parse_page(root, file, _block, offset) for file, offset in zip(files, offsets, strict=True)]


class InBackground(Generic[R]):
    """``function(*args)`` run in a forked process while this one goes on; ``result()`` waits for it.

    For work beside the build's own whose answer is small: the look at the output
    (``output.look_at_output``), the templates compiled ahead (``compile_templates``).
    The answer comes back pickled through a pipe from a fork of this very process: never from a file.
    With ``fork=False``, where there is no fork, in a process with other threads, or if that process
    fails or is killed, ``result()`` runs the function here instead; ``result_if_done()`` never does.
    """

    def __init__(self, function: Callable[..., R], *args: Any, fork: bool = True) -> None:
        self.function = function
        self.args = args
        self.pid = 0
        self.fd = -1
        # A fork copies only this thread: a lock another thread holds (the preview server's) would stay held.
        if not fork or not hasattr(os, "fork") or threading.active_count() > 1:
            return
        read, write = os.pipe()
        parent = os.getpid()
        with forking():
            try:
                pid = os.fork()
            except OSError:  # no memory or processes left for one: the work is done here, as without
                os.close(read)
                os.close(write)
                return
            if pid == 0:  # the forked process: it answers, then ends without returning into the build
                code = 1
                try:
                    end_with_parent(parent)
                    os.close(read)
                    with os.fdopen(write, "wb") as stream:
                        stream.write(pickle.dumps(function(*args), pickle.HIGHEST_PROTOCOL))
                    code = 0
                finally:
                    os._exit(code)
        os.close(write)
        self.pid, self.fd = pid, read

    def _answer(self) -> tuple[R] | None:
        """The forked process's answer, waited for; None if it failed or was killed."""
        try:
            with os.fdopen(self.fd, "rb") as stream:
                data = stream.read()
        finally:
            self.fd = -1
            status = os.waitpid(self.pid, 0)[1]
        return (pickle.loads(data),) if status == 0 and data else None

    def result(self) -> R:
        answer = self._answer() if self.fd >= 0 else None
        return self.function(*self.args) if answer is None else answer[0]

    def result_if_done(self) -> R | None:
        """The answer if the forked process has it by now (not waiting for it), else None."""
        if self.fd < 0 or not select.select([self.fd], [], [], 0)[0]:
            return None
        answer = self._answer()  # the process is writing its answer, or has ended
        return None if answer is None else answer[0]

    def close(self) -> None:
        """No answer will be asked for: end the process now."""
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
            os.kill(self.pid, signal.SIGKILL)  # not reaped yet, so it is there, if only as a zombie
            os.waitpid(self.pid, 0)


def can_fork() -> bool:
    import multiprocessing  # here: a build that renders a page or two needs no pool

    return "fork" in multiprocessing.get_all_start_methods()


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def chunks(items: Sequence[T], jobs: int, together: Callable[[T], object] | None = None) -> list[list[T]]:
    """Slices small enough to balance the load, big enough to keep messages few. Items next to each
    other for which ``together`` gives the same answer (other than None) stay in one slice."""
    size = max(4, min(64, len(items) // (jobs * 8) or 1))
    sliced: list[list[T]] = []
    for item in items:
        if not sliced or (
            len(sliced[-1]) >= size and (together is None or not _same_run(together, sliced[-1][-1], item))
        ):
            sliced.append([])
        sliced[-1].append(item)
    return sliced


def _same_run(together: Callable[[T], object], last: T, item: T) -> bool:
    key = together(item)
    return key is not None and key == together(last)


def _pooled(
    function: Callable[[T], list[R]],
    jobs_list: Iterable[T],
    jobs: int,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> list[R]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # Not multiprocessing.Pool: when one of its workers is killed (the out-of-memory killer, kill), it
    # starts another and waits for the lost work for ever; this pool says so, and ends the others.
    pool = ProcessPoolExecutor(
        jobs, multiprocessing.get_context("fork"), _start_process, (os.getpid(), initializer, *initargs)
    )
    results: list[R] = []
    try:
        with forking():  # the workers are forked at the first submit
            futures = [pool.submit(function, job) for job in jobs_list]
        for future in as_completed(futures):
            results.extend(future.result())
    except BrokenProcessPool:
        raise SiteError(
            "a process of the build ended before its work was done (was it out of memory?)",
            "",
            0,
            "build again; if it happens again, build with --jobs 1",
        ) from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # what runs ends first: none writes after the build
    return results


def parse_pages(root: Path, files: Sequence[PageFile], jobs: int, bodies: Bodies) -> list[Parsed]:
    """Parse page files, on ``jobs`` processes when there are many; in no particular order. Their
    bodies go into ``bodies``' block, at the places it kept for them."""
    if jobs > 1 and len(files) >= PARALLEL_PARSE_MIN and can_fork():
        work = [(root, chunk, [bodies.offsets[file.path] for file in chunk]) for chunk in chunks(files, jobs)]
        return _pooled(_parse_files, work, jobs, _start_parser, (bodies.block,))
    return [parse_page(root, file, bodies.block, bodies.offsets[file.path]) for file in files]


def render_tasks(
    tasks: Sequence[Task],
    jobs: int,
    site: Site,
    data: SiteData,
    translations: dict[str, gettext.NullTranslations],
    assets: dict[str, str],
    bodies: Bodies | None,
    staging: Path | None,
    compiled: Mapping[str, bytes],
) -> list[Result]:
    """Render every task, on ``jobs`` processes when there are many; in no particular order.

    Outputs are written into ``staging``; with none (``check``), nothing is written. ``compiled``:
    templates compiled ahead (``render.compile_templates``), which each worker starts with."""
    args = (site, data, translations, assets, bodies, staging, compiled)
    if not tasks:
        return []
    if jobs > 1 and len(tasks) >= PARALLEL_RENDER_MIN and can_fork():

        def source(task: Task) -> str | None:  # a fallback page follows its original: one read of their file
            return site.pages[task.page].source.path if isinstance(task, PageTask) else None

        return _pooled(_run_tasks, chunks(tasks, jobs, source), jobs, _start_worker, args)
    worker = Worker(*args)
    return [worker.run(task) for task in tasks]

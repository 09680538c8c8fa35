"""The site's input files: which exist, and their digests, read again only when they may have changed.

A file whose stat (size, times, inode) is as the cache recorded it is not read again, unless it
changed so close to the last build's scan that its stat cannot be trusted: file times are
coarse, so an edit in the same clock tick as the scan can leave them as they were. Git calls
such files "racy"; they are hashed again.
"""

from __future__ import annotations

import os
from pathlib import Path

from .cache import InputFile, Manifest, Stat, digest_bytes, file_stat
from .config import SiteConfig
from .content import PageFile, PageSource, page_files
from .errors import Collector
from .source import inside_project, read_file
from .workers import Bodies, parse_pages

# A file changed less than this before the last build's scan is read again, whatever its stat says.
RACY_NS = 2_000_000_000


class FileIndex:
    """Content digests of input files; a file is read again only if its stat changed or is racy."""

    def __init__(self, root: Path, previous: Manifest | None) -> None:
        self.root = root
        self.previous = previous.inputs if previous else {}
        self.trust_before = previous.scanned_ns - RACY_NS if previous else 0
        self.files: dict[str, InputFile] = {}
        self.reread = 0  # how many files had to be read to know their digest

    def known(self, relative: str, stat: Stat) -> str | None:
        """The digest of a file whose stat is unchanged since a scan it was safely older than."""
        old = self.previous.get(relative)
        if old is None or old.stat != stat or max(stat[1], stat[2]) >= self.trust_before:
            return None
        self.files[relative] = old
        return old.digest

    def changed(self, previous: Manifest) -> bool:
        """Whether the cache's record of the inputs needs writing again."""
        return self.reread > 0 or self.files.keys() != previous.inputs.keys()

    def record(self, relative: str, stat: Stat, digest: str) -> None:
        self.files[relative] = InputFile(stat, digest)
        self.reread += 1

    def digest(self, relative: str) -> str:
        """The digest of a file ("" if it does not exist), reading it only when needed."""
        path = inside_project(self.root, relative)  # every time: a link's stat is its target's
        try:
            stat = file_stat(os.stat(path))
        except FileNotFoundError:
            return ""
        known = self.known(relative, stat)
        if known is not None:
            return known
        digest = digest_bytes(read_file(self.root, relative))
        self.record(relative, stat, digest)
        return digest


class PageScanner:
    """Finds the pages that ``content.page_files`` lists, parsing only files the cache has not seen.

    The sources it returns carry no body: the bodies of the files it read are in ``bodies``, and
    renderers read the others (whose front matter came from the cache) from their files.
    """

    def __init__(self, index: FileIndex, previous: Manifest | None, jobs: int) -> None:
        self.index = index
        self.previous = previous.sources if previous else {}
        self.jobs = jobs
        self.sources: dict[str, PageSource] = {}  # for the next manifest
        self.bodies: Bodies | None = None  # of the page files this build read

    def find(self, config: SiteConfig, problems: Collector) -> list[PageSource]:
        """Every page (drafts left out), in the order of ``page_files``, read and checked; see ``pages``."""
        return self.pages(config.root, page_files(config, problems), problems)

    def pages(self, root: Path, files: list[PageFile], problems: Collector) -> list[PageSource]:
        """The pages of ``files`` (drafts left out), reusing what the cache parsed before."""
        known: dict[str, PageSource] = {}
        to_parse: list[PageFile] = []
        for file in files:
            cached = self.previous.get(file.path)
            if cached is not None and self.index.known(file.path, file_stat(file.stat)) is not None:  # as parsed
                known[file.path] = self.sources[file.path] = cached
            else:
                to_parse.append(file)
        self.bodies = Bodies(to_parse)
        parsed = {result.path: result for result in parse_pages(root, to_parse, self.jobs, self.bodies)}
        sources: list[PageSource] = []
        for file in files:
            source = known.get(file.path)
            if source is None:
                result = parsed[file.path]
                self.index.record(file.path, file_stat(file.stat), result.digest)
                for problem in result.problems:
                    problems.add(problem)
                if result.source is None:
                    continue
                source = result.source
                self.sources[file.path] = source
                self.bodies.add(file.path, result.body)
            if not source.meta.draft:
                sources.append(source)
        return sources

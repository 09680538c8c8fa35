"""Problems found in a site's input, and the collector that reports them all at once."""

from __future__ import annotations

import dataclasses
import difflib
import errno
import re
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TextIO

Level = Literal["error", "warning", "notice"]


CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # what a terminal would act on rather than show


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in the input: where it is, what is wrong, and how to fix it."""

    path: str = ""
    line: int = 0
    message: str = ""
    hint: str = ""
    level: Level = "error"
    # Where the editors' report (``check``) files it: a kind of finding, and a language if it is
    # one language's ("" for a kind the report leaves to the build, or for every language).
    kind: str = ""
    lang: str = ""

    def format(self) -> str:
        """Render as a compiler-style line: ``path:line: error: message (hint)``."""
        where = self.path
        if where and self.line:
            where = f"{where}:{self.line}"
        text = f"{self.level}: {self.message}"
        if self.hint:
            text = f"{text} ({self.hint})"
        line = f"{where}: {text}" if where else text
        # One line, whatever a value quoted in it holds: a newline or a terminal escape is shown as \n, \x1b.
        line = CONTROL.sub(lambda match: repr(match[0])[1:-1], line)
        # A name that is not UTF-8 holds surrogates, which no terminal or report can encode: \udcff.
        return line.encode("utf-8", "backslashreplace").decode("utf-8")

    def as_error(self) -> Problem:
        """A warning raised to an error (for ``--strict``); notices stay notices."""
        if self.level != "warning":
            return self
        return dataclasses.replace(self, level="error")


SAID_BY_BUILD = frozenset({"cache"})  # notices a build prints; the others are for the editors' report


def said_by_build(problems: Iterable[Problem]) -> list[Problem]:
    """What ``build`` and ``serve`` print: errors, warnings, and the notices of ``SAID_BY_BUILD`` kinds
    (a damaged cache); notices such as an empty data field are left to ``check``."""
    return [p for p in problems if p.level != "notice" or p.kind in SAID_BY_BUILD]


def counted(count: int, noun: str) -> str:
    """``1 error``, ``3 errors``: how every message counts problems."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


def print_problems(problems: Iterable[Problem], stream: TextIO | None = None) -> None:
    """One line per problem, in order of file and line, on standard error."""
    for problem in sorted(problems):
        print(problem.format(), file=stream or sys.stderr)


def report_success(problems: Iterable[Problem], outputs: Iterable[str]) -> str:
    """Print what a finished build says of its problems (``said_by_build``); return its closing words,
    which ``build`` and ``serve`` end as they need: "built 9 pages"."""
    print_problems(said_by_build(problems))
    return f"built {counted(sum(1 for name in outputs if name.endswith('.html')), 'page')}"


def report_failure(errors: Collection[Problem], outcome: str) -> str:
    """Print every error of a failed command; return its closing words: "3 errors; " and ``outcome``."""
    print_problems(errors)
    return f"{counted(len(errors), 'error')}; {outcome}"


class SiteError(Exception):
    """A mistake in the site's input. Raised by a stage, formatted by ``Problem.format``."""

    def __init__(self, message: str, path: str | Path = "", line: int = 0, hint: str = "") -> None:
        super().__init__(message)
        self.problem = Problem(str(path), line, message, hint, "error")

    def __str__(self) -> str:
        return self.problem.format()


class BuildFailed(Exception):
    """Raised once, at the end of a stage, with every error that stage collected."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = merge_repeats(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


# Failures of the disk, of permissions or of a path the user gave: said in one line, no traceback.
# Any other OSError (a file not found, say) is more likely a bug in the engine, and shows its traceback.
FILE_SYSTEM_ERRORS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EISDIR,
        errno.EIO,
        errno.ENAMETOOLONG,
        errno.EFBIG,  # a file size limit (ulimit -f)
        errno.EMFILE,
        errno.ENFILE,
        errno.ELOOP,
        errno.ENOTEMPTY,  # a folder something else writes into while it is removed
    }
)


def file_system_problem(exc: OSError) -> Problem | None:
    """A failure of the file system (a full disk, no permission, a file where a folder should be), or None."""
    if exc.errno not in FILE_SYSTEM_ERRORS:
        return None
    # For a rename, the second name is where the file was going: the one the user knows.
    path = next((name for name in (exc.filename2, exc.filename) if isinstance(name, str)), "")
    hint = "check the path, its permissions and the free disk space, then try again"
    return Problem(path, 0, exc.strerror or str(exc), hint)


def merge_repeats(problems: Iterable[Problem]) -> tuple[Problem, ...]:
    """One line per mistake: a template error hit by every page is reported once, with a count."""
    groups: dict[tuple[str, int, str, str], list[Problem]] = {}
    for problem in sorted(problems):
        groups.setdefault((problem.path, problem.line, problem.message, problem.level), []).append(problem)
    merged: list[Problem] = []
    for group in groups.values():
        first = group[0]
        hints = {p.hint for p in group}
        if len(hints) > 1:
            first = Problem(
                first.path, first.line, first.message, f"{first.hint} and {len(hints) - 1} more", first.level
            )
        merged.append(first)
    return tuple(merged)


@dataclass
class Collector:
    """Gathers problems so that a build reports all of them, not just the first."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def error(self, message: str, path: str | Path = "", line: int = 0, hint: str = "") -> None:
        self.add(Problem(str(path), line, message, hint, "error"))

    def warn(
        self, message: str, path: str | Path = "", line: int = 0, hint: str = "", *, kind: str = "", lang: str = ""
    ) -> None:
        self.add(Problem(str(path), line, message, hint, "warning", kind, lang))

    def catch(self, exc: SiteError) -> None:
        self.add(exc.problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    def raise_errors(self) -> None:
        """Abort the build if anything so far is an error."""
        if self.errors:
            raise BuildFailed(self.errors)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest valid choice, or listing them all."""
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "allowed: " + ", ".join(f"'{o}'" for o in options)

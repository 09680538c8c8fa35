"""Reading input files: only from inside the project, strict UTF-8, and YAML whose mistakes point at
the file's own lines.

Every file the site is made from is read through ``read_file`` (or ``read_source``, its text):
a link that leads outside the project (``root``) or into a hidden file of it (``.git/``), to a
file or through a folder, and anything that is not an ordinary file (a fifo, a device) are
errors naming the link. Links to the site's own files work. Folders are walked without
following linked folders.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SiteError

Keys = tuple[str | int, ...]
SURROGATE = re.compile("[\ud800-\udfff]")  # half a character: a name that was not UTF-8, or a YAML escape


@dataclass(frozen=True)
class Yaml:
    """A parsed YAML document and the line on which each key or item starts."""

    value: Any
    lines: dict[Keys, int]
    first_line: int

    def line(self, *keys: str | int) -> int:
        """The line of a key (or of its nearest parent that has one)."""
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return self.first_line


def lstat_mode(path: Path | str) -> int:
    """The mode of ``path`` itself (a link is a link, not what it names); 0 if there is nothing there.

    ``stat.S_ISDIR(lstat_mode(path))`` asks "a real folder?" without following a link planted there."""
    try:
        return os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return 0


def is_hidden(relative: str) -> bool:
    """A path with a hidden part (``.DS_Store``, ``.git/``, an editor's ``.page.html.swp``): no build reads it."""
    return relative.startswith(".") or "/." in relative


def walk_files(folder: Path, links: list[str] | None = None) -> list[tuple[str, os.stat_result]]:
    """Every file under ``folder`` (not following linked folders), relative, with its stat.

    The linked folders left out are added to ``links``, when it is given, for ``check_links``.
    A file deleted while the folder is being read is left out, as if it had gone just before."""
    found: list[tuple[str, os.stat_result]] = []
    pending = [("", str(folder))]
    while pending:
        prefix, current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append((relative + "/", entry.path))
            elif entry.is_file():
                try:
                    found.append((relative, entry.stat()))
                except FileNotFoundError:
                    continue
            elif links is not None and entry.is_symlink() and entry.is_dir():
                links.append(relative)
    return found


OUTSIDE_HINT = "replace the link by a copy of the {} inside the project"


@functools.lru_cache(maxsize=16)
def _real_root(root: str) -> str:
    """The project's folder with every link in its path resolved, ending in a separator."""
    return os.path.join(os.path.realpath(root), "")


def inside_project(root: Path, relative: str) -> Path:
    """The real path of ``root/relative`` (links resolved); a ``SiteError`` naming the link if it
    leads outside the project, or into a hidden file of it (``.git/config`` holds CI tokens).
    The file need not exist."""
    if "\0" in relative:
        raise SiteError(f"{relative!r} is not a file name", "", 0, "remove the invisible character from the name")
    if SURROGATE.search(relative):  # bytes that are not UTF-8, as os.fsdecode gives them
        raise SiteError(
            "the file's name is not UTF-8 text",
            relative,
            0,
            "rename it: type the name again in your file manager",
        )
    real_root = _real_root(str(root))
    real = _without_links(real_root, relative) or os.path.realpath(os.path.join(root, relative))
    if _where(real, real_root):
        raise _refused(root, relative, real_root)
    return Path(real)


def _without_links(real_root: str, relative: str) -> str:
    """``real_root/relative`` when no part of ``relative`` is a link (or ``..``), else "".

    The common case, in a lstat per part below the root, where ``realpath`` takes one per part
    of the whole path and more Python: every page is read through here, twice."""
    path = real_root.rstrip(os.sep) or os.sep
    parts = relative.split("/")
    for index, part in enumerate(parts):
        if part in ("", ".", ".."):
            return ""
        path = os.path.join(path, part)
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                return ""
        except OSError:  # missing: nothing below it can be a link
            return os.path.join(path, *parts[index + 1 :])
    return path


def _where(real: str, real_root: str) -> str:
    """Why a real path is not one of the project's own files ("" when it is)."""
    if not (real + os.sep).startswith(real_root):
        return "outside the project"
    if any(part.startswith(".") for part in real[len(real_root) :].split(os.sep)):
        return "a hidden file of the project"
    return ""


def _refused(root: Path, relative: str, real_root: str) -> SiteError:
    """The error for a path that leads out of the project's own files: at the first link on the way."""
    parts = Path(relative).parts
    for count in range(1, len(parts) + 1):
        shown = "/".join(parts[:count])
        path = os.path.join(root, shown)
        target = os.path.realpath(path)
        where = _where(target, real_root)
        if os.path.islink(path) and where:
            kind = "folder" if os.path.isdir(target) else "file"
            return SiteError(f"'{shown}' is a link to {target}, {where}", shown, 0, OUTSIDE_HINT.format(kind))
    return SiteError(
        f"'{relative}' is {_where(os.path.realpath(os.path.join(root, relative)), real_root)}",
        relative,
        0,
        "name one of the site's own files",
    )


def check_links(root: Path, folder: str, links: list[str]) -> list[SiteError]:
    """The linked folders under ``folder`` that ``walk_files`` left out and that lead outside the project."""
    errors: list[SiteError] = []
    for link in links:
        try:
            inside_project(root, f"{folder}/{link}")
        except SiteError as exc:
            errors.append(exc)
    return errors


_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)  # the path is resolved: a link now is a link swapped in since
    | getattr(os, "O_NONBLOCK", 0)  # a fifo swapped in since the check must not hang the build
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def read_file(root: Path, relative: str) -> bytes:
    """The bytes of the project's file ``root/relative``, if it is an ordinary file inside the project.

    A link that leads outside, a fifo, a device or a link loop is a ``SiteError`` naming the path;
    a missing file is ``FileNotFoundError``, as for ``open``."""
    path = inside_project(root, relative)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # before opening: opening a device can do things
            raise _not_a_file(relative)
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SiteError(
                f"'{relative}' is a link that leads round in a circle", relative, 0, "remove the link"
            ) from None
        raise
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise _not_a_file(relative)
        return stream.read()


def _not_a_file(relative: str) -> SiteError:
    return SiteError(
        f"'{relative}' is not an ordinary file", relative, 0, "replace it by an ordinary file, or remove it"
    )


def read_source(root: Path, relative: str) -> str:
    """The text of the project's file ``root/relative``: ``read_file``, then ``decode_text``."""
    return decode_text(read_file(root, relative), relative)


def load_template(root: Path, folder: str, name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """A template for Jinja's ``FunctionLoader``, read with ``read_file``: (text, file name, up to date).

    None (Jinja's "not found") for a name that is missing or climbs out of ``folder`` with ``..``."""
    if not plain_relative(name):
        return None
    pieces = name.split("/")
    relative = "/".join((folder, *pieces))
    try:
        data = read_file(root, relative)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return decode_text(data, relative), os.path.normpath(os.path.join(root, folder, *pieces)), lambda: True


def decode_text(data: bytes, shown: str) -> str:
    """A file's bytes as text: strict UTF-8, without a byte-order mark, with \\n line ends."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SiteError(
            "the file is not UTF-8 text",
            shown,
            line,
            "save it again with the encoding 'UTF-8' in your editor",
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n")


_HINTS = (
    ("'\\t'", "use spaces, not tabs, to indent YAML"),
    ("end of stream", "a quote or bracket is not closed"),
    ("mapping values are not allowed", "put text that contains ': ' in quotes"),
    ("expected <block end>", "check that this line is indented like the lines above it"),
    ("could not find expected ':'", "each line needs the form 'key: value'"),
    ("found undefined alias", "a value that starts with * must be put in quotes"),
    ("found duplicate anchor", "a value that starts with & must be put in quotes"),
)


def _hint_for(problem: str) -> str:
    for needle, hint in _HINTS:
        if needle in problem:
            return hint
    return "check the quotes and indentation on this line"


MAX_VALUES = 100_000  # values a document may expand to, aliases (*name) counted each time they are used
MAX_DEPTH = 50  # levels of nesting

# The tags PyYAML's own constructors may fail on with a Python exception rather than a YAMLError,
# and what a value with that tag must be.
_TAG_KINDS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:timestamp": "a date",
    "tag:yaml.org,2002:binary": "base64 data",
}
_BINARY = "tag:yaml.org,2002:binary"
_CONSTRUCT_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


class _Walk:
    """Records the line of every key and item, before any value is constructed. Refuses what the
    constructor must not see: a value that contains itself (``&a [*a]``), a key given twice, a
    document whose aliases expand it past ``MAX_VALUES`` values, nesting deeper than ``MAX_DEPTH``."""

    def __init__(self, loader: yaml.SafeLoader, shown: str, first_line: int) -> None:
        self.loader = loader
        self.shown = shown
        self.first_line = first_line
        self.lines: dict[Keys, int] = {}
        self.walked: dict[int, tuple[int, int]] = {}  # node → (values, levels below it), aliases expanded
        self.open: set[int] = set()  # the nodes around the one being walked

    def error(self, node: yaml.Node, message: str, hint: str) -> SiteError:
        return SiteError(message, self.shown, self.line(node), hint)

    def line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + self.first_line

    def walk(self, node: yaml.Node, prefix: Keys, depth: int = 0) -> tuple[int, int]:
        """The number of values in ``node`` and of levels below it, aliases expanded.

        An alias (*name) shares its node: it is walked once, and counted each time it is used."""
        if id(node) in self.open:
            raise self.error(
                node, "invalid YAML: a value contains itself", "a value that starts with & or * must be put in quotes"
            )
        size, height = self.walked.get(id(node)) or self._walk(node, prefix, depth)
        if depth + height > MAX_DEPTH:
            raise self.error(
                node,
                f"invalid YAML: the value here is nested more than {MAX_DEPTH} levels deep",
                "use fewer levels of indentation, [ ] or { }",
            )
        return size, height

    def _walk(self, node: yaml.Node, prefix: Keys, depth: int) -> tuple[int, int]:
        if depth > MAX_DEPTH:  # before going deeper: a parser that accepted it may have used its stack
            raise self.error(
                node,
                f"invalid YAML: the value here is nested more than {MAX_DEPTH} levels deep",
                "use fewer levels of indentation, [ ] or { }",
            )
        self.open.add(id(node))
        children: list[tuple[yaml.Node, Keys]] = []
        if isinstance(node, yaml.MappingNode):
            self._check_keys(node)
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    self._check_text(key_node)
                    key: str | int = key_node.value
                else:  # a key that is a list or mapping: counted, never looked up
                    key = str(key_node)
                    children.append((key_node, (*prefix, "\0key")))
                self.lines.setdefault((*prefix, key), self.line(key_node))
                children.append((value_node, (*prefix, key)))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines.setdefault((*prefix, index), self.line(item))
                children.append((item, (*prefix, index)))
        else:
            self._check_text(node)
        size, height = 1, 0
        for child, path in children:
            child_size, child_height = self.walk(child, path, depth + 1)
            size += child_size
            height = max(height, child_height + 1)
            if size > MAX_VALUES:
                raise self.error(
                    node,
                    "invalid YAML: the values here repeat others (*name) until they make more than"
                    f" {MAX_VALUES:,} values",
                    "write the values out, or use fewer * references",
                )
        self.open.discard(id(node))
        self.walked[id(node)] = (size, height)
        return size, height

    def _check_text(self, node: yaml.Node) -> None:
        """A scalar's text holds characters only: ``"\\ud800"`` in quotes is half of one, which no page can hold."""
        if isinstance(node, yaml.ScalarNode) and SURROGATE.search(node.value):
            raise self.error(
                node,
                "invalid YAML: a \\u escape here is half of a character, not a character",
                "write the character itself instead of its \\u code",
            )

    def _check_keys(self, node: yaml.MappingNode) -> None:
        seen: dict[object, yaml.Node] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            first = seen.setdefault(self._key(key_node), key_node)
            if first is not key_node:
                raise self.error(
                    key_node,
                    f"'{key_node.value}' is given twice, on lines {self.line(first)} and {self.line(key_node)}",
                    "keep one of them: the build cannot tell which is right",
                )

    def _key(self, node: yaml.ScalarNode) -> object:
        """The key as the mapping will hold it: 'true' and 'yes', or '1' and '01', are one key."""
        construct = self.loader.yaml_constructors.get(node.tag)
        if node.tag in _TAG_KINDS and node.tag != _BINARY and construct is not None:
            try:
                value = construct(self.loader, node)
            except (*_CONSTRUCT_ERRORS, yaml.YAMLError):
                return node.value  # reported when the document is constructed
            return value  # PyYAML's .nan is one object, and so one key, however it is written
        return None if node.tag == "tag:yaml.org,2002:null" else node.value


def _bad_scalar(loader: yaml.SafeLoader, node: yaml.Node) -> yaml.ScalarNode | None:
    """The first scalar whose tag's constructor fails on its text (``!!int abc``, an empty ``!!timestamp``)."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            construct = loader.yaml_constructors.get(current.tag)
            if current.tag in _TAG_KINDS and construct is not None:
                try:
                    construct(loader, current)
                except (*_CONSTRUCT_ERRORS, yaml.YAMLError):
                    return current
        elif isinstance(current, yaml.MappingNode):
            for key, value in reversed(current.value):
                stack.extend((value, key))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(reversed(current.value))
    return None


def _scalar_error(loader: yaml.SafeLoader, node: yaml.Node, shown: str, first_line: int) -> SiteError:
    """The error for a scalar its tag's constructor refuses, at the scalar's line."""
    bad = _bad_scalar(loader, node)
    if bad is None:
        return SiteError("invalid YAML: a value cannot be read", shown, first_line, _hint_for(""))
    line = first_line + bad.start_mark.line
    kind = _TAG_KINDS[bad.tag]
    tag = "!!" + bad.tag.rsplit(":", 1)[-1]
    if not bad.value.strip():
        return SiteError(
            f"invalid YAML: the tag {tag} needs a value", shown, line, f"write a value after {tag}, or remove it"
        )
    if bad.tag == "tag:yaml.org,2002:timestamp":
        try:
            loader.construct_yaml_timestamp(bad)
        except ValueError as exc:  # it has the shape of a date, but is not one: 2024-13-45
            return SiteError(
                f"'{bad.value}' is not a valid date: {exc}",
                shown,
                line,
                "write dates as YYYY-MM-DD, for example 2024-02-29",
            )
        except AttributeError:  # PyYAML's way of saying it has not the shape of a date
            pass
    value = bad.value if len(bad.value) <= 40 else bad.value[:40] + "…"
    return SiteError(
        f"invalid YAML: '{value}' is not {kind}", shown, line, f"correct the value, or remove the tag {tag} before it"
    )


def load_yaml(text: str, shown: str, first_line: int = 1) -> Yaml:
    """Parse YAML; errors carry the line in the file, counting from ``first_line``.

    libyaml's parser, where PyYAML has it, reads front matter about eight times faster. Its
    error messages differ, so a document it rejects is parsed again by PyYAML's own parser,
    whose messages the hints and the tests are written for.
    """
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _load(text, shown, first_line, fast)
        except SiteError:
            pass  # reported below, with PyYAML's wording
    return _load(text, shown, first_line, yaml.SafeLoader)


def _load(text: str, shown: str, first_line: int, loader_class: type[yaml.SafeLoader]) -> Yaml:
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:  # checked when the loader is made, before any parsing
        raise SiteError(
            f"invalid YAML: the text contains an invisible control character (#x{exc.character:04x})",
            shown,
            first_line + text[: exc.position].count("\n"),
            "delete the line and type it again",
        ) from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or "invalid YAML"
            hint = _hint_for(problem)
            if exc.context_mark is not None and "quoted scalar" in (exc.context or ""):
                # PyYAML notices an unclosed quote only at the end; point at the line where it opens.
                mark = exc.context_mark
                problem = "the quote that opens on this line is not closed"
                hint = "end the text with the same quote mark it starts with"
            line = first_line + (mark.line if mark else 0)
            raise SiteError(f"invalid YAML: {problem}", shown, line, hint) from None
        except yaml.YAMLError as exc:
            raise SiteError(f"invalid YAML: {exc}", shown, first_line, _hint_for(str(exc))) from None
        except RecursionError:  # PyYAML reads nested brackets recursively
            raise SiteError(
                "invalid YAML: brackets are nested too deeply", shown, first_line, "use fewer nested [ ] or { }"
            ) from None
        if node is None:
            return Yaml(None, {}, first_line)
        walker = _Walk(loader, shown, first_line)
        walker.walk(node, ())  # before constructing: what it refuses never reaches the constructor
        try:
            value = loader.construct_document(node)
        except _CONSTRUCT_ERRORS:
            raise _scalar_error(loader, node, shown, first_line) from None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = first_line + (mark.line if mark else 0)
            raise SiteError(f"invalid YAML: {exc.problem or exc}", shown, line, _hint_for(str(exc.problem))) from None
        except yaml.YAMLError as exc:
            raise SiteError(f"invalid YAML: {exc}", shown, first_line, _hint_for(str(exc))) from None
    finally:
        loader.dispose()
    return Yaml(value, walker.lines, first_line)


def replace_file(path: Path, data: bytes, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that a reader, or a crash, sees the old bytes or the new, never a mix: the one
    atomic write (a page ``translated`` marks, the cache's files, the state of the back tree).

    The bytes go to a hidden temporary file beside ``path`` (``.<name>.<random>.tmp``: no build takes it for a page),
    are flushed to disk if ``durable`` (a staff member's file; not the build's own records, which are checked
    when read, so that one cut short by a power cut is only a clean build), and then take the place of
    ``path`` with one ``os.replace``. A file there keeps its
    permissions and, where it may, its owner; a new one is its writer's alone (``mkstemp``'s 0o600). A link there is replaced, never written through: a caller that means
    the file a link names passes its real path (``inside_project``).
    """
    try:
        old: os.stat_result | None = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        old = None
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            if durable:  # a fsync can take 1-20 ms on a laptop's disk, and a cold build writes 65 records
                stream.flush()
                os.fsync(stream.fileno())
        if old is not None:
            os.chmod(temp, old.st_mode & 0o7777)
        if old is not None and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(PermissionError):  # only root may give a file away: as it was
                os.chown(temp, old.st_uid, old.st_gid)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def remove_path(path: Path) -> None:
    """Whatever is at ``path``, if anything: a file, a link (never what it points to), a folder and what
    is in it (``rmtree`` follows no link inside)."""
    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return
    if stat.S_ISDIR(mode):
        try:
            shutil.rmtree(path)
        except OSError as exc:
            if exc.errno != errno.ENOTEMPTY:
                raise
            message = "a folder being removed is still being written to: is another program writing there?"
            raise OSError(exc.errno, message, str(path)) from None
    else:
        path.unlink(missing_ok=True)


def folders_of(outputs: Iterable[str]) -> set[str]:
    """The folders the outputs are in, and their parents ("" is the top)."""
    folders = {name.rpartition("/")[0] for name in outputs}
    for folder in list(folders):
        while folder:
            folder = folder.rpartition("/")[0]
            if folder in folders:
                break
            folders.add(folder)
    return folders


MAX_NAME_BYTES = 255  # of one file or folder name (most file systems)
MAX_PATH_BYTES = 4095  # of a whole path (Linux's PATH_MAX, less its NUL)


def plain_relative(path: object) -> bool:
    """A relative path that stays inside its folder, as the file system can hold it: no empty, ``.`` or
    ``..`` part, no backslash or NUL, not absolute, no name longer than 255 bytes. The one rule for a
    name from outside (a cache record, a template named in front matter, the state of the exchange, a
    request to the preview)."""
    return plain_relatives((path,))


_NOT_PLAIN = ("//", "/./", "/../", "\\")  # once each name is written "/name/": an empty, "." or ".." part, a backslash


def plain_relatives(paths: Collection[object]) -> bool:
    """Whether every one of ``paths`` is ``plain_relative``: checked all at once, in C, joined by "/NUL/" (a NUL
    within a name shows as one too many), as the cache checks 10,000 names. Only a name that may be longer than
    255 bytes, or that is not ASCII (half a character, from YAML or JSON, cannot be a file's name), is looked at
    alone."""
    if not paths:
        return True
    if not all(type(path) is str for path in paths):
        return False
    names: Collection[str] = paths  # type: ignore[assignment]  # all str, checked above
    joined = "/" + "/\0/".join(names) + "/"
    if joined.count("\0") != len(names) - 1 or any(bad in joined for bad in _NOT_PLAIN):
        return False
    if joined.isascii() and max(map(len, names)) <= MAX_NAME_BYTES:
        return True
    return all(_fits(name) for name in names if len(name) > MAX_NAME_BYTES // 4 or not name.isascii())


def _fits(name: str) -> bool:
    """A name the file system can hold: its bytes, as ``os.fsencode`` gives them, no more than it takes."""
    try:
        data = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return len(data) <= MAX_PATH_BYTES and all(len(part) <= MAX_NAME_BYTES for part in data.split(b"/"))

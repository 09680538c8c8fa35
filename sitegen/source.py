"""Reading input files: strict UTF-8, and YAML whose mistakes point at the file's own lines."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SiteError

Keys = tuple[str | int, ...]


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


def walk_files(folder: Path) -> list[tuple[str, os.stat_result]]:
    """Every file under ``folder`` (not following linked folders), relative, with its stat.

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
    return found


def read_text(path: Path, shown: str) -> str:
    """Read a UTF-8 file, naming the line of the first byte that is not UTF-8."""
    return decode_text(path.read_bytes(), shown)


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


class _Walk:
    """Records the line of every key and item; refuses a value that contains itself (``&a [*a]``)."""

    def __init__(self, shown: str, first_line: int) -> None:
        self.shown = shown
        self.first_line = first_line
        self.lines: dict[Keys, int] = {}
        self.seen: set[int] = set()  # an alias (*name) shares its node: walk it once
        self.open: set[int] = set()  # the nodes around the one being walked

    def walk(self, node: yaml.Node, prefix: Keys) -> None:
        if id(node) in self.open:
            raise SiteError(
                "invalid YAML: a value contains itself",
                self.shown,
                node.start_mark.line + self.first_line,
                "a value that starts with & or * must be put in quotes",
            )
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        self.open.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                self.lines[(*prefix, key)] = key_node.start_mark.line + self.first_line
                self.walk(value_node, (*prefix, key))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.lines[(*prefix, index)] = item.start_mark.line + self.first_line
                self.walk(item, (*prefix, index))
        self.open.discard(id(node))


def _bad_timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> yaml.Node | None:
    """Find the scalar that looks like a date but is not one (PyYAML raises ValueError)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.ScalarNode):
            if current.tag == "tag:yaml.org,2002:timestamp":
                try:
                    loader.construct_yaml_timestamp(current)
                except ValueError:
                    return current
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return None


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
        walker = _Walk(shown, first_line)
        walker.walk(node, ())  # before constructing: a value that contains itself never reaches the checks
        try:
            value = loader.construct_document(node)
        except ValueError as exc:
            bad = _bad_timestamp(loader, node)
            line = first_line + (bad.start_mark.line if bad else 0)
            text_value = bad.value if bad else ""
            raise SiteError(
                f"'{text_value}' is not a valid date: {exc}",
                shown,
                line,
                "write dates as YYYY-MM-DD, for example 2024-02-29",
            ) from None
        except yaml.YAMLError as exc:
            raise SiteError(f"invalid YAML: {exc}", shown, first_line, _hint_for(str(exc))) from None
    finally:
        loader.dispose()
    return Yaml(value, walker.lines, first_line)


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader, or a crash, sees the old bytes or the new, never a mix.

    The bytes go to a hidden temporary file beside ``path`` (so that no build takes it for a page),
    are flushed to disk, and then take the place of ``path`` with one ``os.replace``. The file keeps
    its permissions. A link is not replaced: the file it points to is.
    """
    target = path.resolve()
    mode = target.stat().st_mode & 0o7777 if target.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

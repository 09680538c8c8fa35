"""Reading input files: strict UTF-8, and YAML whose mistakes point at the file's own lines."""

from __future__ import annotations

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


def read_text(path: Path, shown: str) -> str:
    """Read a UTF-8 file, naming the line of the first byte that is not UTF-8."""
    data = path.read_bytes()
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


def _walk(node: yaml.Node, prefix: Keys, first_line: int, lines: dict[Keys, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            lines[(*prefix, key)] = key_node.start_mark.line + first_line
            _walk(value_node, (*prefix, key), first_line, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*prefix, index)] = item.start_mark.line + first_line
            _walk(item, (*prefix, index), first_line, lines)


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
    """Parse YAML; errors carry the line in the file, counting from ``first_line``."""
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = first_line + (mark.line if mark else 0)
            problem = exc.problem or "invalid YAML"
            raise SiteError(f"invalid YAML: {problem}", shown, line, _hint_for(problem)) from None
        except yaml.YAMLError as exc:
            raise SiteError(f"invalid YAML: {exc}", shown, first_line, _hint_for(str(exc))) from None
        if node is None:
            return Yaml(None, {}, first_line)
        try:
            value = loader.construct_document(node)
        except ValueError as exc:
            bad = _bad_timestamp(loader, node)
            line = first_line + (bad.start_mark.line if bad else 0)
            text_value = bad.value if bad else ""
            raise SiteError(
                f"'{text_value}' is not a valid date ({exc})",
                shown,
                line,
                "write dates as YYYY-MM-DD, for example 2024-02-29",
            ) from None
        except yaml.YAMLError as exc:
            raise SiteError(f"invalid YAML: {exc}", shown, first_line, _hint_for(str(exc))) from None
    finally:
        loader.dispose()
    lines: dict[Keys, int] = {}
    _walk(node, (), first_line, lines)
    return Yaml(value, lines, first_line)

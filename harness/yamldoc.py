"""YAML documents that remember where every value came from (file and line).

Validation errors name ``file:line path.to.field``; this module keeps the line of every mapping
key and sequence item so that any path can be traced back to the text the user wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError

PathKey = tuple[str | int, ...]


@dataclass
class YamlDoc:
    data: Any
    file: str
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                return self.lines[path[:cut]]
        return None

    def error(self, path: PathKey, problem: str) -> ConfigError:
        return ConfigError(problem=problem, file=self.file, line=self.line(path),
                           field=dotted(path))


def dotted(path: PathKey) -> str:
    """``a.b[0].c``; a key that is not printable on one line is shown quoted (``a['x\\n']``)."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part.isprintable():
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else part
    return out


MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MAX_DEPTH = 64  # mappings/sequences nested in one another, aliases followed
MAX_VALUES = 100_000  # values in the document once every alias is expanded
MAX_INT = 2**63  # integers are 64-bit at most (no field needs more, and printing stays cheap)
# Characters no field needs and that break what carries them on (XML reports, file names):
# control characters other than tab and newlines, and lone surrogates ("\ud800").
_BAD_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_EVENT_DEPTH = {yaml.MappingStartEvent: 1, yaml.SequenceStartEvent: 1,
                yaml.MappingEndEvent: -1, yaml.SequenceEndEvent: -1}


def _check_depth(text: str, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before PyYAML's (recursive) composer sees it."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        depth += _EVENT_DEPTH.get(type(event), 0)
        if depth > MAX_DEPTH:
            mark = event.start_mark
            raise ConfigError(problem=f"nested more than {MAX_DEPTH} levels deep", file=file,
                              line=mark.line + 1 if mark else None)


class _Builder:
    """Python values from composed nodes, counting every value made (aliases are expanded in
    full, so an alias bomb or a recursive alias is refused here, not run out of memory)."""

    def __init__(self, file: str, lines: dict[PathKey, int]) -> None:
        self.file, self.lines, self.made = file, lines, 0

    def error(self, node: yaml.Node, problem: str, path: PathKey) -> ConfigError:
        return ConfigError(problem=problem, file=self.file, line=node.start_mark.line + 1,
                           field=dotted(path))

    def scalar(self, node: yaml.Node, path: PathKey) -> Any:
        """A scalar as YAML types it, except dates: kept as written (ARM takes date strings)."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, "a key must be a plain value, not a list or mapping", path)
        if node.tag == TIMESTAMP_TAG:
            value: Any = node.value
        else:
            try:
                value = yaml.constructor.SafeConstructor().construct_object(node)
            except ValueError as exc:  # int() of more than 4300 digits
                raise self.error(node, f"not a value: {str(exc).split(';')[0]}", path) from None
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_INT:
            raise self.error(node, "integer out of range (64 bits at most)", path)
        if isinstance(value, str) and (bad := _BAD_CHARACTER.search(value)):
            raise self.error(node, f"contains the character {bad.group()!a}, which text "
                             "here may not hold", path)
        return value

    def merge_sources(self, node: yaml.Node, path: PathKey) -> list[yaml.MappingNode]:
        """The mappings a ``<<:`` key pulls in (one alias or a list of them)."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise self.error(source, "'<<' merges mappings only", path)
        return list(sources)

    def mapping(self, node: yaml.MappingNode, path: PathKey,
                lines: dict[PathKey, int]) -> dict[str, Any]:
        """Keys written here win over merged ones (YAML merge keys); written twice is an error."""
        result: dict[str, Any] = {}
        merges: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                merges += self.merge_sources(value_node, path)
                continue
            key = str(self.scalar(key_node, path))
            if key in result:
                raise self.error(key_node, f"duplicate key {key!r}", (*path, key))
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key), lines)
        for source in merges:
            merged_lines: dict[PathKey, int] = {}
            for key, value in self.mapping(source, path, merged_lines).items():
                if key not in result:
                    result[key] = value
                    lines.update((p, n) for p, n in merged_lines.items()
                                 if p[:len(path) + 1] == (*path, key))
        return result

    def build(self, node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> Any:
        self.made += 1
        if self.made > MAX_VALUES:
            raise self.error(node, f"more than {MAX_VALUES} values once aliases are expanded "
                             "(an alias used too often?)", path)
        if len(path) > MAX_DEPTH:
            raise self.error(node, f"nested more than {MAX_DEPTH} levels deep (an alias "
                             "inside itself?)", path[:MAX_DEPTH])
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, lines)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), lines) for i, item in enumerate(node.value)]
        return self.scalar(node, path)


def _problem(exc: yaml.YAMLError) -> str:
    return getattr(exc, "problem", None) or str(exc).splitlines()[0]


def _error_line(exc: yaml.YAMLError, text: str) -> int | None:
    """Parser errors carry a mark; reader errors (bad characters) only a character offset."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    if isinstance(exc, yaml.reader.ReaderError):
        return text.count("\n", 0, exc.position) + 1
    return None


def load_text(text: str, file: str) -> YamlDoc:
    lines: dict[PathKey, int] = {}
    try:
        _check_depth(text, file)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = {} if root is None else _Builder(file, lines).build(root, (), lines)
    except yaml.YAMLError as exc:
        raise ConfigError(problem=f"invalid YAML: {_problem(exc)}", file=file,
                          line=_error_line(exc, text)) from exc
    return YamlDoc(data=data, file=file, lines=lines)


def load_file(path: Path) -> YamlDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(problem=f"cannot read: {exc.strerror}", file=str(path)) from exc
    return load_text(text, str(path))

"""YAML documents that remember where every value came from (file and line).

Validation errors name ``file:line path.to.field``; this module keeps the line of every mapping
key and sequence item so that any path can be traced back to the text the user wrote.
"""

from __future__ import annotations

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
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


def _scalar(node: yaml.Node) -> Any:
    """A scalar as YAML types it, except dates: kept as written (ARM takes date strings)."""
    if node.tag == TIMESTAMP_TAG:
        return node.value
    return yaml.constructor.SafeConstructor().construct_object(node)


def _merge_sources(node: yaml.Node, file: str) -> list[yaml.MappingNode]:
    """The mappings a ``<<:`` key pulls in (one alias or a list of them)."""
    sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
    for source in sources:
        if not isinstance(source, yaml.MappingNode):
            raise ConfigError(problem="'<<' merges mappings only", file=file,
                              line=source.start_mark.line + 1)
    return list(sources)


def _build_mapping(node: yaml.MappingNode, path: PathKey, lines: dict[PathKey, int],
                   file: str) -> dict[str, Any]:
    """Keys written here win over merged ones (YAML merge keys); written twice is an error."""
    result: dict[str, Any] = {}
    merges: list[yaml.MappingNode] = []
    for key_node, value_node in node.value:
        if key_node.tag == MERGE_TAG:
            merges += _merge_sources(value_node, file)
            continue
        key = str(_scalar(key_node))
        if key in result:
            raise ConfigError(problem=f"duplicate key {key!r}", file=file,
                              line=key_node.start_mark.line + 1, field=dotted((*path, key)))
        lines[(*path, key)] = key_node.start_mark.line + 1
        result[key] = _build(value_node, (*path, key), lines, file)
    for source in merges:
        merged_lines: dict[PathKey, int] = {}
        for key, value in _build_mapping(source, path, merged_lines, file).items():
            if key not in result:
                result[key] = value
                lines.update((p, n) for p, n in merged_lines.items()
                             if p[:len(path) + 1] == (*path, key))
    return result


def _build(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        return _build_mapping(node, path, lines, file)
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return _scalar(node)


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
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = {} if root is None else _build(root, (), lines, file)
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

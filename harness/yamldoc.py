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


def _build(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(yaml.safe_load(yaml.serialize(key_node)))
            if key in result:
                raise ConfigError(problem=f"duplicate key {key!r}", file=file,
                                  line=key_node.start_mark.line + 1, field=dotted((*path, key)))
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _build(value_node, (*path, key), lines, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines, file) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_text(text: str, file: str) -> YamlDoc:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ConfigError(problem=f"invalid YAML: {exc.problem}", file=file,
                          line=mark.line + 1 if mark else None) from exc
    lines: dict[PathKey, int] = {}
    data = {} if root is None else _build(root, (), lines, file)
    return YamlDoc(data=data, file=file, lines=lines)


def load_file(path: Path) -> YamlDoc:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(problem=f"cannot read: {exc.strerror}", file=str(path)) from exc
    return load_text(text, str(path))

"""A small declarative schema: unknown keys are errors, every error is collected with its path.

Like tmt's schemas (``additionalProperties: false``), with a "did you mean" for misspelt keys.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ConfigError
from harness.yamldoc import PathKey, YamlDoc

TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list",
              dict: "a mapping", float: "a number"}


@dataclass(frozen=True)
class Field:
    """One value: its type, whether it is required, allowed choices, nested shapes."""

    kind: type | tuple[type, ...]
    required: bool = False
    choices: tuple[Any, ...] = ()
    keys: Mapping[str, Field] | None = None  # for mappings with a fixed set of keys
    items: Field | None = None  # for lists
    values: Field | None = None  # for mappings with free keys
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    select: Callable[[Any], Field] | None = None  # several shapes: returns this value's one
    shapes: tuple[Field, ...] = ()  # with select: every shape it can return (JSON Schema anyOf)


def _type_text(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(TYPE_NAMES.get(k, k.__name__) for k in kinds)


def _is_kind(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, kinds)


def closest(word: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def suggest(word: str, options: list[str]) -> str:
    """`` (did you mean 'x'?)`` when one option is close to ``word``, else nothing."""
    close = closest(word, options)
    return f" (did you mean {close!r}?)" if close else ""


@dataclass
class Validator:
    doc: YamlDoc
    errors: list[ConfigError] = field(default_factory=list)  # may be shared by several docs
    failed: list[PathKey] = field(default_factory=list)

    def fail(self, path: PathKey, problem: str) -> None:
        self.failed.append(path)
        self.errors.append(self.doc.error(path, problem))

    def clean(self, path: PathKey) -> bool:
        """Nothing wrong at ``path`` or inside it: its value has the shape the schema gives."""
        return not any(bad[:len(path)] == path for bad in self.failed)

    def mapping(self, value: Any, keys: Mapping[str, Field], path: PathKey = ()) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"must be a mapping, got {type(value).__name__}")
            return
        meant = set()  # a misspelt required key is reported once, as the misspelling
        for key in value:
            if key not in keys:
                self.fail((*path, key), f"unknown key{suggest(key, list(keys))}; "
                          f"allowed: {', '.join(sorted(keys))}")
                meant.add(closest(key, list(keys)))
        for key, spec in keys.items():
            if key in value:
                self.value(value[key], spec, (*path, key))
            elif spec.required and key not in meant:
                self.fail(path, f"missing required key {key!r}")

    def value(self, value: Any, spec: Field, path: PathKey) -> None:
        if value is None and spec.nullable:
            return
        if spec.select is not None:
            spec = spec.select(value)
        if not _is_kind(value, spec.kind):
            self.fail(path, f"must be {_type_text(spec.kind)}, got {value!r}")
            return
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(path, f"must be a finite number, got {value!r}")
            return
        if spec.choices and value not in spec.choices:
            shown = ", ".join(repr(c) for c in spec.choices)
            self.fail(path, f"must be one of {shown}, got {value!r}"
                      f"{suggest(str(value), [str(c) for c in spec.choices])}")
        if spec.minimum is not None and value < spec.minimum:
            self.fail(path, f"must be at least {spec.minimum:g}, got {value!r}")
        if spec.maximum is not None and value > spec.maximum:
            self.fail(path, f"must be at most {spec.maximum:g}, got {value!r}")
        if spec.keys is not None:
            self.mapping(value, spec.keys, path)
        if spec.items is not None:
            for index, item in enumerate(value):
                self.value(item, spec.items, (*path, index))
        if spec.values is not None:
            for key, item in value.items():
                self.value(item, spec.values, (*path, key))

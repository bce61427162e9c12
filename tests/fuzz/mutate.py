"""Seeded mutations: hostile values, structural changes to decoded documents, and edits of the
text itself (aliases, jinja, deep nesting, huge numbers, truncation, bad bytes)."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import yaml

STRINGS = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udcff", "\x1b[31m", "\u202e", "\ufeff", "é" * 300,
    "x" * 256, "x" * 5000, "../../../etc/passwd", "/etc/passwd", "..", ".", "packages/../..",
    "C:\\Windows", "1.0.0\n", "١.٠.٠", "１.０.０", "0755", "0o777", "99999", "-1", "latest",
    "null", "~", "yes", ".nan", "%s%n", "{{", "}}", "{{ 1/0 }}", "{{ 'a' + 1 }}", "{{ x }}",
    "{{ cycler.__init__.__globals__ }}", "{{ 10 ** 100000 }}", "{{ 'a' * 99999999 }}",
    "{% for i in range(99999) %}{% endfor %}", "{{blob:c/x}}", "{{blob:box/x|expired}}",
    "{{blob:/}}", "http://[::1/x", "http://127.0.0.1:1/c/x?sv=1&sig=%%", "https://a/b?sig=",
    "East US", "eastus", "debian-12", "debain-12", "stdout", "a\nb", "\r\n", "\t", "🦀" * 10,
    "2030-01-01", "9999-99-99", "*a", "&a", "!!python/object:os.system", "- x", "? k",
]
FLOATS = [float("nan"), float("inf"), float("-inf"), 1e308, -0.0, 0.5, 3600.0001]
INTS = [0, -1, 1, 255, 256, 512, 4095, 4096, 99999, 2**31 - 1, 2**31, 2**63 - 1, 2**63,
        -(2**63) - 1, 10**300, 10**4000]
SNIPPETS = [
    "{{ 1/0 }}", "{{ 'a' + 1 }}", "{{ undefined_name }}", "{% if %}", "{% raw %}", "{{ [1][9] }}",
    "{% include 'shared/defs.yaml' %}", "{% include '/etc/passwd' %}", "{% include '../x' %}",
    "{{ lipsum.__globals__ }}", "{{ ''.__class__.__mro__ }}", "{{ range(10) | list }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "{{ (2 ** 30000) | string }}", "{#",
    "{{ '%099999999d' % 1 }}", "{{ 'x' * 999999 }}", "{% set x = 1 %}{{ x }}",
]
TEXT_EDITS = [
    "\nbomb0: &b0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"bomb{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 10)}]\n" for i in range(1, 9)),
    "\nrec: &r [*r]\n", "\nrec: &r {k: *r}\n", "\nx: " + "[" * 3000 + "]" * 3000 + "\n",
    "\nx: " + "{a: " * 100 + "1" + "}" * 100 + "\n", "\nbig: " + "1" * 5000 + "\n",
    "\nhex: 0x" + "f" * 5000 + "\n", "\nnan: .nan\n", "\n? [a, b]\n: c\n", "\n<<: *nope\n",
    "\x00", "\t", "\ufeff", "\r\n", "\n---\nsecond: doc\n", "%YAML 1.1\n", "!!binary AAAA",
    '"\\ud800"', "'", '"', "[", "{", ":", "- ", "&a x", "*a", "\n  - *a\n",
]


class Mutator:
    """Hostile values and structural changes, all drawn from one seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def hostile(self, depth: int = 0) -> Any:
        pick = self.rng.randrange(9)
        if pick == 0:
            return self.rng.choice(INTS)
        if pick == 1:
            return self.rng.choice(FLOATS)
        if pick in (2, 3, 4):
            return self.rng.choice(STRINGS)
        if pick == 5:
            return self.rng.choice([None, True, False, {}, [], [None], {"": None}])
        if pick == 6 and depth < 3:
            return {self.rng.choice(STRINGS): self.hostile(depth + 1) for _ in range(2)}
        if pick == 7 and depth < 3:
            return [self.hostile(depth + 1) for _ in range(self.rng.randrange(4))]
        nested: Any = self.rng.choice(["x", 1, None])
        for _ in range(self.rng.choice([5, 40, 70, 150])):
            nested = [nested] if self.rng.random() < 0.5 else {"k": nested}
        return nested

    def _places(self, doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        places = [path]
        if isinstance(doc, dict):
            for key, value in doc.items():
                places += self._places(value, (*path, key))
        elif isinstance(doc, list):
            for index, value in enumerate(doc):
                places += self._places(value, (*path, index))
        return places

    def _step(self, doc: Any) -> Any:
        places = self._places(doc)
        path = self.rng.choice(places)
        if not path:
            return self.hostile() if self.rng.random() < 0.05 else doc
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        last, value = path[-1], parent[path[-1]]
        action = self.rng.randrange(8)
        if action == 0 and isinstance(parent, dict):
            del parent[last]  # drop a key
        elif action == 1 and isinstance(parent, dict):
            parent[f"{last}{self.rng.choice('x_sS')}"] = copy.deepcopy(value)  # a misspelt twin
        elif action == 2 and isinstance(parent, list):
            parent.insert(self.rng.randrange(len(parent) + 1), copy.deepcopy(value))
        elif action == 3:
            parent[last] = self.retype(value)
        elif action == 4 and isinstance(parent, dict):
            parent[self.rng.choice(STRINGS) or "k"] = self.hostile()
        else:
            parent[last] = self.hostile()
        return doc

    def retype(self, value: Any) -> Any:
        """The same value as another type (a string as a list, a number as a string...)."""
        shown = repr(value)[:50] if not isinstance(value, int) or abs(value) < 2**64 else "big"
        options: list[Any] = [shown, [value], {"v": value}, None, len(shown)]
        if isinstance(value, str):
            options += [value[:1000] * self.rng.choice([2, 100]), value.upper(), value + "\n"]
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**64:
            options += [value + 1, -value, value * 10**12, float(value)]
        return self.rng.choice(options)

    def structure(self, doc: Any, steps: int | None = None) -> Any:
        changed = copy.deepcopy(doc)
        try:
            for _ in range(steps or self.rng.choice([1, 1, 2, 3, 6])):
                changed = self._step(changed)
        except RecursionError:  # nested values nested again: too deep for this walk
            return copy.deepcopy(doc)
        return changed

    def values_only(self, doc: Any) -> Any:
        """Leaves changed to near-valid values of their own type: a document that often still
        validates, to reach what runs after validation."""
        doc = copy.deepcopy(doc)
        leaves = [p for p in self._places(doc) if p and not isinstance(_at(doc, p), dict | list)]
        for path in self.rng.sample(leaves, min(len(leaves), self.rng.choice([1, 2, 3]))):
            parent = _at(doc, path[:-1])
            value = parent[path[-1]]
            if isinstance(value, bool):
                parent[path[-1]] = not value
            elif isinstance(value, int):
                parent[path[-1]] = self.rng.choice([0, -1, 1, 2**31, 2**62, value + 1, 255])
            elif isinstance(value, str):
                parent[path[-1]] = self.rng.choice([
                    value + self.rng.choice(STRINGS)[:20], self.rng.choice(STRINGS)[:300],
                    value.upper(), "x" * self.rng.choice([1, 117, 118, 1025]), value[:1]])
        return doc

    def text(self, text: str) -> str:
        """One edit of the text: insert an alias trick, a jinja snippet, a line twice, a cut."""
        action = self.rng.randrange(6)
        at = self.rng.randrange(len(text) + 1)
        if action == 0:
            return text[:at] + self.rng.choice(TEXT_EDITS) + text[at:]
        if action == 1:
            return text[:at] + self.rng.choice(SNIPPETS) + text[at:]
        if action == 2:
            lines = text.splitlines(keepends=True)
            if lines:
                index = self.rng.randrange(len(lines))
                lines.insert(index, lines[index])  # a duplicate key, mostly
            return "".join(lines)
        if action == 3:
            return text[:at]  # truncated
        if action == 4:
            return text[:at] + self.rng.choice(STRINGS) + text[at:]
        return text.replace(": ", ": &a ", 1) + "\nalias: *a\n"


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def dump_yaml(doc: Any, rng: random.Random) -> str:
    """YAML text of ``doc`` (block or flow style), or JSON (also YAML) when PyYAML cannot."""
    if rng.random() < 0.7:
        try:
            return yaml.safe_dump(doc, allow_unicode=rng.random() < 0.5, sort_keys=False,
                                  default_flow_style=rng.random() < 0.2)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError):
            pass
    return dump_json(doc)


def dump_json(doc: Any) -> str:
    try:
        return json.dumps(doc)
    except (ValueError, TypeError, RecursionError):
        return "[]"

"""A request file's bytes as JSON: which encodings are read, and how deep requests may nest.

JSON files are UTF-8.  A byte-order mark decides otherwise: UTF-8 with a BOM (PowerShell 5's
``-Encoding UTF8``) and UTF-16 with a BOM (PowerShell 5's ``>`` and ``Out-File``) are decoded
as the mark says.  Anything else that is not UTF-8 is refused, naming the first bad byte.

Requests may nest at most :data:`MAX_DEPTH` arrays/objects, so that nothing downstream (which
walks bodies recursively) can run out of stack.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

from harness.errors import ConfigError

MAX_DEPTH = 64  # arrays/objects one request may nest, itself included (the file's array not)
MAX_INT = 2**63  # integers in a request are 64-bit at most
SURROGATE = re.compile(r"[\ud800-\udfff]")

# (byte-order mark, codec, name shown to users); no mark: UTF-8.
ENCODINGS = ((codecs.BOM_UTF8, "utf-8", "UTF-8"),
             (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE"),
             (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE"))
NO_MARK = (b"", "utf-8", "UTF-8")


def decode_text(data: bytes, file: str) -> str:
    """``data`` as text (see the module docstring); a ConfigError naming the first bad byte."""
    mark, codec, name = next((e for e in ENCODINGS if data.startswith(e[0])), NO_MARK)
    try:
        return data[len(mark):].decode(codec)
    except UnicodeDecodeError as exc:
        offset = len(mark) + exc.start
        raise ConfigError(f"not {name} text (byte 0x{data[offset]:02x} at offset {offset}); "
                          "save it as UTF-8", file=file) from None


class _Numbers:
    """json.loads hooks: integers of 64 bits at most, finite numbers, no NaN/Infinity."""

    def __init__(self, file: str) -> None:
        self.file = file

    def refuse(self, text: str, why: str) -> ConfigError:
        shown = text[:24] + ("..." if len(text) > 24 else "")
        return ConfigError(f"invalid JSON: the number {shown} {why}", file=self.file)

    def whole(self, text: str) -> int:
        if len(text.lstrip("-")) > 19 or abs(value := int(text)) >= MAX_INT:
            raise self.refuse(text, "is out of range (64-bit integers at most)")
        return value

    def real(self, text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise self.refuse(text, "is out of range")
        return value

    def constant(self, text: str) -> float:
        raise ConfigError(f"invalid JSON: {text} is not a JSON value", file=self.file)


def _lone_surrogate(value: Any) -> str | None:
    """The first string (value or key) holding a lone surrogate (JSON's "\\ud800"), if any."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and SURROGATE.search(item):
            return item
        if isinstance(item, dict):
            pending += [*item, *item.values()]
        elif isinstance(item, list):
            pending += item
    return None


def load_json(data: bytes, file: str) -> Any:
    """The decoded JSON value of a file's bytes; a ConfigError naming what is wrong."""
    text = decode_text(data, file)
    try:
        numbers = _Numbers(file)
        value = json.loads(text, parse_int=numbers.whole, parse_float=numbers.real,
                           parse_constant=numbers.constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON at column {exc.colno}: {exc.msg}", file=file,
                          line=exc.lineno) from None
    except RecursionError:
        raise ConfigError(f"invalid JSON: nested too deeply to read (requests may nest at most "
                          f"{MAX_DEPTH} levels)", file=file) from None
    bad = _lone_surrogate(value)
    if bad is not None:
        raise ConfigError(f"invalid text: {bad[:40]!r} holds a lone surrogate (not a "
                          "character)", file=file)
    return value


def nesting_depth(value: Any) -> int:
    """How many arrays/objects deep ``value`` goes (0 for a scalar); iterative, any depth."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return deepest

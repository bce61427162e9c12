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
from typing import Any

from harness.errors import ConfigError

MAX_DEPTH = 64  # arrays/objects one request may nest, itself included (the file's array not)

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


def load_json(data: bytes, file: str) -> Any:
    """The decoded JSON value of a file's bytes; a ConfigError naming what is wrong."""
    text = decode_text(data, file)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON at column {exc.colno}: {exc.msg}", file=file,
                          line=exc.lineno) from None
    except RecursionError:
        raise ConfigError(f"invalid JSON: nested too deeply to read (requests may nest at most "
                          f"{MAX_DEPTH} levels)", file=file) from None


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

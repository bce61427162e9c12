"""Reading request bodies the way ARM does: typed fields, and errors that name the parameter.

Parameter paths are written like the seeds' error rows, e.g.
``galleryApplicationVersion.properties.publishingProfile.replicaCount``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harness.gallery.errors import fail
from harness.gallery.names import parse_datetime

Json = dict[str, Any]


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _typed(parent: Mapping[str, Any], key: str, path: str, ok: Any, reason: str) -> Any:
    """The value at ``key`` (None when absent or null), refused unless ``ok(value)``."""
    value = parent.get(key)
    if value is not None and not ok(value):
        raise fail("invalid_value", f"{path}.{key}", value=_show(value),
                   parameter=f"{path}.{key}", reason=reason)
    return value


def obj(parent: Mapping[str, Any], key: str, path: str) -> Json:
    """A nested object; absent or null is an empty object."""
    value: Json | None = _typed(parent, key, path, lambda v: isinstance(v, dict),
                                "expected an object")
    return {} if value is None else value


def opt_str(parent: Mapping[str, Any], key: str, path: str) -> str | None:
    value: str | None = _typed(parent, key, path, lambda v: isinstance(v, str),
                               "expected a string")
    return value


def req_str(parent: Mapping[str, Any], key: str, path: str) -> str:
    value = opt_str(parent, key, path)
    if value is None or value == "":
        raise fail("missing_parameter", f"{path}.{key}", parameter=f"{path}.{key}")
    return value


def opt_bool(parent: Mapping[str, Any], key: str, path: str) -> bool | None:
    value: bool | None = _typed(parent, key, path, lambda v: isinstance(v, bool),
                                "expected true or false")
    return value


def opt_int(parent: Mapping[str, Any], key: str, path: str) -> int | None:
    value: int | None = _typed(parent, key, path,
                               lambda v: isinstance(v, int) and not isinstance(v, bool),
                               "expected an integer")
    return value


def opt_list(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value: list[Any] | None = _typed(parent, key, path, lambda v: isinstance(v, list),
                                     "expected an array")
    return [] if value is None else value


def opt_date(parent: Mapping[str, Any], key: str, path: str) -> datetime | None:
    text = opt_str(parent, key, path)
    if text is None:
        return None
    parsed = parse_datetime(text)
    if parsed is None:
        raise fail("invalid_value", f"{path}.{key}", value=text, parameter=f"{path}.{key}",
                   reason="expected an ISO 8601 date-time")
    return parsed


def one_of(parent: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...],
           default: str | None = None) -> str | None:
    """A string enum, matched case-insensitively and returned in its canonical spelling."""
    value = opt_str(parent, key, path)
    if value is None:
        return default
    for choice in allowed:
        if choice.lower() == value.lower():
            return choice
    raise fail("invalid_value", f"{path}.{key}", value=value, parameter=f"{path}.{key}",
               reason="expected one of " + ", ".join(allowed))


def canonical(value: Any) -> Any:
    """A JSON value as ARM compares it on update: strings case-insensitively, nulls dropped."""
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def merge(base: Any, patch: Any) -> Any:
    """JSON merge (PATCH): objects merge key by key, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    merged = dict(base)
    for key, value in patch.items():
        merged[key] = merge(base.get(key), value) if key in base else value
    return merged

"""results.json checked against its JSON Schema (``results.schema.json``) before it is read:
every problem, one line each, instead of a traceback deep in a report writer."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

SCHEMA_FILE = Path(__file__).with_name("results.schema.json")
SHOWN = 20  # problems listed; a file wrong everywhere is not worth 10,000 lines
TYPE_TEXT = {"string": "a string", "integer": "an integer", "number": "a number",
             "boolean": "true or false", "array": "a list", "object": "a mapping",
             "null": "null"}


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return loaded


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _problem(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        kinds = error.validator_value
        kinds = [kinds] if isinstance(kinds, str) else kinds
        wanted = " or ".join(TYPE_TEXT.get(k, k) for k in kinds)
        return f"must be {wanted}, got {_short(error.instance)}"
    if error.validator == "enum":
        shown = ", ".join(_short(v) for v in error.validator_value)
        return f"must be one of {shown}, got {_short(error.instance)}"
    if error.validator in ("minimum", "maximum"):
        bound = "at least" if error.validator == "minimum" else "at most"
        return f"must be {bound} {error.validator_value:g}, got {_short(error.instance)}"
    return str(error.message)[:200]


def problems(data: Any) -> list[tuple[str, str]]:
    """(field, problem) for each way ``data`` departs from the schema, in document order."""
    import jsonschema  # here: 0.1 s every `vmapp` start would pay for nothing

    validator = jsonschema.Draft202012Validator(schema())
    found = sorted(validator.iter_errors(data),
                   key=lambda e: [(isinstance(p, str), p) for p in e.absolute_path])
    listed = [(_where(list(e.absolute_path)), _problem(e)) for e in found[:SHOWN]]
    if len(found) > SHOWN:
        listed.append(("", f"... and {len(found) - SHOWN} more problem(s)"))
    return listed

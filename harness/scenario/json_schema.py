"""A JSON Schema for scenario files, made from the schema the loader validates with, so editors
(VS Code's YAML extension, any JSON Schema tool) complete and check the same keys.

    python -m harness.scenario.json_schema > docs/scenario.schema.json
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.scenario.schema import SCENARIO
from harness.schema import Field

JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
              dict: "object"}
SCHEMA_ID = "https://vmapp-harness.invalid/scenario.schema.json"


def field_schema(field: Field) -> dict[str, Any]:
    if field.shapes:
        return {"anyOf": [field_schema(shape) for shape in field.shapes]}
    kinds = field.kind if isinstance(field.kind, tuple) else (field.kind,)
    types = [JSON_TYPES[kind] for kind in kinds] + (["null"] if field.nullable else [])
    out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types}
    if field.choices:
        out["enum"] = list(field.choices)
    if field.minimum is not None:
        out["minimum"] = field.minimum
    if field.maximum is not None:
        out["maximum"] = field.maximum
    if field.keys is not None:
        out.update(mapping_schema(field.keys))
    if field.values is not None:
        out["additionalProperties"] = field_schema(field.values)
    if field.items is not None:
        out["items"] = field_schema(field.items)
    return out


def mapping_schema(keys: Mapping[str, Field]) -> dict[str, Any]:
    """Known keys only (as the loader: an unknown key is an error)."""
    out: dict[str, Any] = {"type": "object", "additionalProperties": False,
                           "properties": {key: field_schema(f) for key, f in keys.items()}}
    required = [key for key, f in keys.items() if f.required]
    if required:
        out["required"] = required
    return out


def scenario_schema() -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "vmapp-harness scenario file",
            "description": "Generated from harness/scenario/schema.py; see docs/scenarios.md. "
                           "Files are validated after jinja2 rendering.",
            **mapping_schema(SCENARIO)}


def main() -> None:
    print(json.dumps(scenario_schema(), indent=2))


if __name__ == "__main__":
    main()

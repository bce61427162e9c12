"""The JSON Schema for editors (docs/scenario.schema.json) is the loader's schema: generated from
it, kept in step by this test, and every shipped scenario written without jinja validates."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from harness.scenario.json_schema import scenario_schema
from harness.settings import REPO_ROOT

COMMITTED = REPO_ROOT / "docs" / "scenario.schema.json"
PLAIN = [p for p in sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
         if "{{" not in p.read_text() and "{%" not in p.read_text()]


def test_committed_schema_is_the_generated_one() -> None:
    assert json.loads(COMMITTED.read_text()) == scenario_schema(), \
        "run: python -m harness.scenario.json_schema > docs/scenario.schema.json"


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(scenario_schema())


@pytest.mark.parametrize("path", PLAIN, ids=lambda p: p.name)
def test_shipped_scenarios_validate(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), scenario_schema())


def test_an_unknown_key_is_refused_as_the_loader_does() -> None:
    document = yaml.safe_load(PLAIN[0].read_text())
    document["descripton"] = "typo"
    with pytest.raises(jsonschema.ValidationError, match="descripton"):
        jsonschema.validate(document, scenario_schema())

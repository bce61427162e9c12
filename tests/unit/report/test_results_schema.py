"""results.json has a versioned JSON Schema kept in step with the dataclasses, and every verb
that reads results refuses a file that departs from it: exit 2, one line per problem."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.report.results import (
    SCHEMA_VERSION,
    Attempt,
    CellResult,
    CommandRecord,
    RunResult,
    StepRecord,
    write_results,
)
from harness.report.results_schema import SHOWN, problems, schema
from tests.unit.report.test_report_outputs import make_run

VMAPP = Path(sys.executable).with_name("vmapp")
SHAPES = {"run": RunResult, "cell": CellResult, "step": StepRecord, "attempt": Attempt,
          "command": CommandRecord}


def shape(name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema() if name == "run" else schema()["$defs"][name]
    return found


@pytest.mark.parametrize("name", list(SHAPES))
def test_schema_names_every_field_and_requires_those_without_default(name: str) -> None:
    fields = dataclasses.fields(SHAPES[name])
    extra = {"schemaVersion"} if name == "run" else set()
    assert set(shape(name)["properties"]) == {f.name for f in fields} | extra
    required = {f.name for f in fields if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING}
    assert set(shape(name)["required"]) == required | extra
    assert shape(name)["additionalProperties"] is False
    assert all(p.get("description") for p in shape(name)["properties"].values())


def test_schema_version_is_the_one_written() -> None:
    assert schema()["properties"]["schemaVersion"] == {
        "const": SCHEMA_VERSION, "description": "Version of this schema."}


def test_a_written_run_is_valid(tmp_path: Path) -> None:
    assert problems(json.loads(write_results(make_run(), tmp_path).read_text())) == []


def broken() -> dict[str, Any]:
    data = make_run().to_json()
    data["seconds"] = "600"
    data["cells"][0]["steps"][0]["index"] = "first"
    data["cells"][0]["outcome"] = "pased"
    data["cells"][1]["kept"] = 1
    data["cells"][2]["retries"][0].pop("stage")
    data["cells"][3]["timings"] = {"boot": None}
    data["cells"][3]["surprise"] = True
    return data


EXPECTED = [
    "cells[0].outcome: must be one of \"passed\", \"failed\", \"error\", \"skipped\", "
    "got \"pased\"",
    "cells[0].steps[0].index: must be an integer, got \"first\"",
    "cells[1].kept: must be true or false, got 1",
    "cells[2].retries[0]: 'stage' is a required property",
    "cells[3]: Additional properties are not allowed ('surprise' was unexpected)",
    "cells[3].timings.boot: must be a number, got null",
    "seconds: must be a number, got \"600\"",
]


def test_problems_one_per_line_in_document_order() -> None:
    assert [f"{f}: {p}" for f, p in problems(broken())] == EXPECTED


def test_a_file_wrong_everywhere_lists_the_first_problems() -> None:
    data = make_run().to_json()
    data["cells"] = [{"scenario": 1, "image": 2}] * 50
    found = problems(data)
    assert len(found) == SHOWN + 1 and found[-1] == ("", "... and 80 more problem(s)")


@pytest.fixture
def bad_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    (tmp_path / "r1").mkdir()
    path = tmp_path / "r1" / "results.json"
    path.write_text(json.dumps(broken()))
    return path


@pytest.mark.parametrize("argv", [["report", "r1"], ["report", "--merge", "r1", "r1"],
                                  ["coverage", "--results", "{path}"]],
                         ids=["report", "merge", "coverage"])
def test_every_reader_refuses_with_one_line_per_problem(
        bad_run: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([a.format(path=bad_run) for a in argv]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"vmapp: {len(EXPECTED)} error(s):",
                   *(f"  {bad_run} {line}" for line in EXPECTED)]
    assert not (bad_run.parent / "index.html").exists()


@pytest.mark.parametrize("text", ['{"schemaVersion": 1, "run_id": "r", "started": NaN}',
                                  "[" * 100_000 + "]" * 100_000,
                                  '{"schemaVersion": 1, "run_id": "r", "started": "s", '
                                  '"seconds": ' + "9" * 5000 + "}"],
                         ids=["nan", "deep", "huge-int"])
def test_hostile_json_is_refused_without_a_traceback(bad_run: Path, text: str) -> None:
    bad_run.write_text(text)
    done = subprocess.run([str(VMAPP), "report", str(bad_run.parent)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    assert "cannot read results" in done.stderr

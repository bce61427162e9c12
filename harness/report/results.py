"""The results model, written as ``results.json`` (versioned) and read back by ``vmapp report``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, ConfigErrors
from harness.images.recipe import image_title
from harness.redact import write_redacted
from harness.report.results_schema import problems

SCHEMA_VERSION = 1
OUTCOMES = ("passed", "failed", "error", "skipped")
# Where a cell's time goes, in the order it is spent ("steps" excludes checking out a machine
# (image, boot, ready, or revert to a clean snapshot), which happens inside the first step that
# needs one).
STAGES = ("image", "publish", "boot", "ready", "revert", "steps", "collect", "destroy")


@dataclass
class CommandRecord:
    """One install/update/remove command the agent ran (from its details file)."""

    app: str
    version: str
    operation: str
    command: str
    exit_code: int | None
    result: str
    stdout: str
    stderr: str
    rebooted: bool = False


@dataclass
class StepRecord:
    index: int
    kind: str
    title: str
    line: int | None
    outcome: str = "passed"
    seconds: float = 0.0
    expected: list[str] = field(default_factory=list)
    actual: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    detail: str = ""
    commands: list[CommandRecord] = field(default_factory=list)
    extension_status: str = ""
    extension_message: str = ""
    boot_ids: list[str] = field(default_factory=list)
    idempotence: str = ""  # "" not checked; "held"; else what ran when the goal came again


@dataclass
class Attempt:
    """An earlier try of a cell that hit an infrastructure error and was retried."""

    error: str
    stage: str
    seconds: float


@dataclass
class CellResult:
    scenario: str
    image: str
    outcome: str = "passed"
    message: str = ""
    seconds: float = 0.0
    description: str = ""
    file: str = ""
    markers: list[str] = field(default_factory=list)
    steps: list[StepRecord] = field(default_factory=list)
    retries: list[Attempt] = field(default_factory=list)
    artifacts: str = ""
    vm: str = ""
    machine: str = ""  # how the cell got its machine: "booted", "warm" (a copy of a ready
    # machine kept from an earlier run, reverted to its snapshot), "reverted" (to a snapshot) or
    # "kept" (vmapp cell rerun|recheck: the VM an earlier run kept, as it was)
    origin: str = ""  # the run, host and shard (merged report) or xdist worker it ran in
    kept: bool = False
    login: str = ""
    note: str = ""  # about the cell's machine since: a kept VM rerun, rechecked or destroyed
    accel: str = ""
    image_key: str = ""
    # The image version the VM got (a build of the image's recipe, BuiltImage.version), and the
    # gallery image reference it asked for when the scenario named one (".../versions/latest").
    image_version: str = ""
    image_reference: str = ""
    agent_version: str = ""
    packages: dict[str, str] = field(default_factory=dict)
    gallery_errors: dict[str, str] = field(default_factory=dict)  # version -> service answer
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds, see STAGES
    status_files: list[str] = field(default_factory=list)  # under artifacts: status, registry
    image_facts: dict[str, str] = field(default_factory=dict)  # what the guest said of its
    # image when its machine became ready: kernel, os, systemd, dpkg, python, package_count,
    # package_digest (the wine stand-in: wine too); a fact it could not give is absent

    @property
    def cell_id(self) -> str:
        return f"{self.scenario}[{self.image}]"

    @property
    def title(self) -> str:
        """The cell as logs and JUnit show it: a stand-in image says so ("[windows-wine (wine
        stand-in)]"); ``cell_id`` stays the key that commands take."""
        return f"{self.scenario}[{image_title(self.image)}]"


@dataclass
class RunResult:
    run_id: str
    started: str
    finished: str = ""
    seconds: float = 0.0
    accel: str = ""
    accel_reason: str = ""
    cells: list[CellResult] = field(default_factory=list)
    host: dict[str, str] = field(default_factory=dict)
    interrupted: bool = False  # stopped by the user before every cell ran
    shard: str = ""  # "K/N" when the run was one shard of a split matrix

    def counts(self) -> dict[str, int]:
        return {o: sum(1 for c in self.cells if c.outcome == o) for o in OUTCOMES}

    @property
    def ok(self) -> bool:
        return all(c.outcome in ("passed", "skipped") for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        return {"schemaVersion": SCHEMA_VERSION, **asdict(self)}


def latest_cells(runs: Sequence[RunResult]) -> dict[tuple[str, str], tuple[CellResult, RunResult]]:
    """(scenario, image) -> the cell from the latest run that has it, and that run.

    Runs are ordered by start time, so a partial rerun overrides only the cells it ran.
    """
    found: dict[tuple[str, str], tuple[CellResult, RunResult]] = {}
    for run in sorted(runs, key=lambda r: (r.started, r.run_id)):
        for cell in run.cells:
            found[(cell.scenario, cell.image)] = (cell, run)
    return found


def merge_runs(runs: Sequence[RunResult], run_id: str) -> RunResult:
    """One run made of the latest result of every cell of ``runs`` (reports of runs split by
    image, runner or night, seen as one matrix).  Artifact paths point into the original run
    folders, which sit beside the merged one."""
    picked = latest_cells(runs)
    cells = [replace(cell, artifacts=f"../{run.run_id}/{cell.artifacts}" if cell.artifacts
                     else "", origin=cell.origin or _origin(run))
             for cell, run in picked.values()]
    used = {run.run_id: run for _, run in picked.values()}
    ordered = sorted(used.values(), key=lambda r: (r.started, r.run_id))
    return RunResult(
        run_id=run_id, started=ordered[0].started if ordered else "",
        finished=max((r.finished for r in ordered), default=""),
        seconds=round(sum(c.seconds for c in cells), 1),
        accel="/".join(sorted({r.accel for r in ordered if r.accel})),
        accel_reason="merged from " + ", ".join(r.run_id for r in ordered),
        cells=cells, host=ordered[-1].host if ordered else {})


def _origin(run: RunResult) -> str:
    """Where a merged cell ran: run id, host and shard."""
    shard = f", shard {run.shard}" if run.shard else ""
    return f"run {run.run_id} on {run.host.get('hostname', '?')}{shard}"


def results_text(run: RunResult) -> str:
    """``run`` as results.json holds it (before redaction)."""
    return json.dumps(run.to_json(), indent=2)


def write_results(run: RunResult, folder: Path) -> Path:
    return write_redacted(folder / "results.json", results_text(run))


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def read_results(path: Path) -> RunResult:
    """A results file read back.  A missing, corrupt or foreign one is a ConfigError naming it;
    one that departs from ``results.schema.json`` is a ConfigErrors, a line per problem."""
    try:
        text = path.read_text()
    except (OSError, ValueError) as exc:
        raise ConfigError(problem=f"cannot read results: {exc}", file=str(path)) from exc
    return results_from_text(text, str(path))


def results_from_text(text: str, source: str) -> RunResult:
    """Results given as text (a file's, or a worker's message), checked as a file is; errors
    name ``source``."""
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ConfigError(problem=f"cannot read results: {exc}", file=source) from exc
    if not isinstance(data, dict) or data.get("schemaVersion") != SCHEMA_VERSION:
        raise ConfigError(problem="cannot read results: not a results file of schema version "
                          f"{SCHEMA_VERSION}", file=source)
    found = problems(data)
    if found:
        raise ConfigErrors([ConfigError(problem=p, file=source, field=f) for f, p in found])
    return _parse_results(data)


def _parse_results(data: dict[str, Any]) -> RunResult:
    """A run from data that has passed the schema."""
    data.pop("schemaVersion")
    cells = []
    for cell in data.pop("cells", []):
        steps = [StepRecord(**{**s, "commands": [CommandRecord(**c)
                                                 for c in s.get("commands", [])]})
                 for s in cell.pop("steps", [])]
        retries = [Attempt(**a) for a in cell.pop("retries", [])]
        cells.append(CellResult(**cell, steps=steps, retries=retries))
    return RunResult(**data, cells=cells)

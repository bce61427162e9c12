"""Work on a VM an earlier run kept (`vmapp cell rerun|recheck|destroy`).

A kept VM is the engineer's machine: nothing here reverts it.  A rerun or a recheck writes a run
folder of its own holding that one cell (``machine: "kept"``, a note saying the state carried
over), so the step table, the agent log and the status files are there to read again; the cell
there is still kept, so it can be named again.  Destroying one marks every report of the reports
folder that names it as kept.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from harness.errors import CleanupErrors, ConfigError, ConfigErrors, HarnessError
from harness.machines.kept import attach
from harness.machines.record import MachineGone
from harness.report.results import CellResult, RunResult, read_results
from harness.runner.cell import recheck_cell, run_cell
from harness.runner.context import RunContext, RunOptions, claim_run_folder, run_is_active
from harness.runner.pool import MachinePool, remove
from harness.runner.run import Progress, new_run, run_context, write_reports
from harness.scenario.load import load_scenario
from harness.scenario.model import Scenario
from harness.settings import REPO_ROOT, reports_dir, state_dir

CARRIED_OVER = "the VM is not reverted: what it holds now carries over into this run"


def run_id_of(vm: str) -> str:
    """The run that made machine ``vm`` (every name is vmapp-<run id>-w<worker>-...)."""
    return "-".join(vm.split("-")[1:4])


def machine_folder(vm: str) -> Path:
    """A kept machine's folder, in the state folder of the run that made it (a pytest-xdist
    worker's machines sit one folder deeper)."""
    folder = _find_folder(vm)
    if folder is None:
        raise MachineGone(stage="find kept machine", vm=vm,
                          detail=f"its folder {state_dir() / 'runs' / run_id_of(vm) / vm} is "
                          "gone (vmapp gc or vmapp cell destroy removed it?)")
    return folder


def _find_folder(vm: str) -> Path | None:
    runs = state_dir() / "runs" / run_id_of(vm)
    return next((f for f in (runs / vm, *sorted(runs.glob(f"*/{vm}"))) if f.is_dir()), None)


def scenario_of(cell: CellResult) -> Scenario:
    """The cell's scenario file as it is now (the engineer may have changed it since): its path
    as the run was given it, from where the user stands or else from the repository."""
    given = Path(cell.file)
    for path in dict.fromkeys([given, REPO_ROOT / given]):
        if path.is_file():
            return load_scenario(path)
    raise ConfigError(problem=f"{cell.cell_id}'s scenario file {cell.file} is gone",
                      field="cell")


def rerun(kept: CellResult, progress: Progress) -> tuple[RunResult, Path]:
    """The scenario's steps again on the kept VM, as it is (goal states numbered on from the
    newest its agent has seen), with a package storage of this run's own."""
    scenario = scenario_of(kept)
    provider, machine = attach(machine_folder(kept.vm))
    run, report_dir = _new_report(kept)
    progress(f"{kept.cell_id} on {kept.vm}: {CARRIED_OVER}", None)
    vm_root = claim_run_folder(state_dir() / "runs" / run.run_id)
    try:
        options = RunOptions(keep="always", retries=0)
        with run_context(run, report_dir, options, provider, vm_root, progress) as ctx:
            pool = MachinePool(provider, machine.folder.parent, ctx.machine_prefix(1))
            run.cells.append(run_cell(_prefixed(ctx, kept, progress), pool, scenario,
                                      kept.image, kept=machine))
    finally:
        shutil.rmtree(vm_root, ignore_errors=True)
        _finish(run, report_dir)
    return run, report_dir


def recheck(kept: CellResult, progress: Progress, *, every: bool = False
            ) -> tuple[RunResult, Path]:
    """The checks of the scenario's last expect step (``every``: of all of them) against the
    kept VM as it is now; nothing deployed, no package storage."""
    scenario = scenario_of(kept)
    expects = [(n, step) for n, step in enumerate(scenario.steps) if step.kind == "expect"]
    if not expects:
        raise ConfigError(problem="has no expect step to recheck", file=str(scenario.file))
    provider, machine = attach(machine_folder(kept.vm))
    run, report_dir = _new_report(kept)
    progress(f"{kept.cell_id} on {kept.vm}: {CARRIED_OVER} (nothing is deployed)", None)
    try:
        pool = MachinePool(provider, machine.folder.parent, "")
        cell_dir = report_dir / "cells" / RunContext.slug(kept.cell_id)
        cell_dir.mkdir(parents=True, exist_ok=True)
        cell = recheck_cell(pool, scenario, kept.image, machine,
                            expects if every else expects[-1:], cell_dir,
                            lambda message: progress(f"{kept.cell_id}: {message}", None))
        cell.accel, cell.artifacts = kept.accel, str(cell_dir.relative_to(report_dir))
        run.cells.append(cell)
    finally:
        _finish(run, report_dir)
    return run, report_dir


def destroy(cells: list[CellResult], progress: Progress) -> None:
    """Destroy each cell's kept VM and its folder, then mark it in every report that names it
    as kept; every failure is collected and raised at the end (a VM that could not be
    destroyed stays marked as kept)."""
    failures: list[BaseException] = []
    for cell in cells:
        progress(f"destroying {cell.vm} ({cell.cell_id})", None)
        try:
            destroyed = _destroy_machine(cell.vm)
        except CleanupErrors as exc:
            failures.extend(exc.failures)
            continue
        except HarnessError as exc:
            failures.append(exc)
            continue
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        note = f"VM {cell.vm} destroyed by vmapp cell destroy at {when}" if destroyed else \
            f"VM {cell.vm} was already gone at {when} (its folder removed)"
        for results in mark_destroyed(cell.vm, note):
            progress(f"marked in {results}", None)
    if failures:
        raise CleanupErrors(failures)


def _destroy_machine(vm: str) -> bool:
    """Destroy ``vm`` and its folder; False when its folder was gone already.  The run's state
    folder goes too once it holds no machine (Azurite's data of that run)."""
    folder = _find_folder(vm)
    if folder is None:
        return False
    runs = state_dir() / "runs" / run_id_of(vm)
    try:
        _, machine = attach(folder)
        remove(machine)
    finally:
        if not run_is_active(runs) and not _machines_left(runs):
            shutil.rmtree(runs, ignore_errors=True)
    return True


def _machines_left(folder: Path) -> bool:
    return any(folder.glob("*/machine.json")) or any(folder.glob("*/*/machine.json"))


def mark_destroyed(vm: str, note: str) -> list[Path]:
    """Every results.json of the reports folder whose cell on ``vm`` is kept: kept -> false,
    with ``note``.  Returns the files changed."""
    changed = []
    for path in sorted(reports_dir().glob("*/results.json")):
        if path.parent.is_symlink() or vm not in path.read_text(errors="replace"):
            continue
        try:
            run = read_results(path)
        except (ConfigError, ConfigErrors):
            continue  # not ours to repair
        hits = [c for c in run.cells if c.kept and c.vm == vm]
        for cell in hits:
            cell.kept, cell.note = False, f"{cell.note}; {note}" if cell.note else note
        if hits:
            write_reports(run, path.parent, point_latest=False)
            changed.append(path)
    return changed


def _new_report(kept: CellResult) -> tuple[RunResult, Path]:
    run = new_run()
    run.accel, run.accel_reason = kept.accel, f"the kept VM {kept.vm}"
    report_dir = reports_dir() / run.run_id
    report_dir.mkdir(parents=True, exist_ok=True)
    return run, report_dir


def _prefixed(ctx: RunContext, kept: CellResult, progress: Progress) -> RunContext:
    return dataclasses.replace(ctx, say=lambda message: progress(f"{kept.cell_id}: {message}",
                                                                 None))


def _finish(run: RunResult, report_dir: Path) -> None:
    """Write the command's report; one that never got to its cell (storage did not start,
    Ctrl-C) is dropped, so `latest` still names a run with the cell in it."""
    if not run.cells:
        shutil.rmtree(report_dir, ignore_errors=True)
        return
    run.finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    run.seconds = round(sum(c.seconds for c in run.cells), 1)
    write_reports(run, report_dir)


"""`make bench`, part two: what a cell costs around the scenario's own steps, on real VMs.

From runs of one fixed subset on one image, side by side:
* the per-cell overhead (everything but the steps) of a cold Vagrant cycle per cell (boot,
  ready, destroy: what Molecule and Test Kitchen do) and of a revert to a RAM snapshot per
  cell (the harness's default), and their ratio;
* the wall time of the subset run serially and with two workers.
"""

from __future__ import annotations

import os
import statistics
import tempfile

from harness.report.results import CellResult, RunResult
from harness.runner.context import RunOptions, auto_workers, vcpus_per_vm
from harness.runner.run import run_matrix
from harness.scenario.load import load_all
from harness.settings import REPO_ROOT

SUBSET = ["tar-golang", "zip-unzip", "order-increasing", "script-config"]
IMAGE = "debian-12"


def overhead(cell: CellResult) -> float:
    """Seconds of a cell not spent in its scenario's own steps."""
    return cell.seconds - cell.timings.get("steps", 0.0)


def _run(options: RunOptions) -> RunResult:
    scenarios = load_all([REPO_ROOT / "scenarios" / f"{name}.yaml" for name in SUBSET])
    run, _ = run_matrix(scenarios, images=[IMAGE], options=options)
    bad = [c.cell_id for c in run.cells if c.outcome != "passed"]
    if bad:
        raise SystemExit(f"bench: cells did not pass, figures would mean nothing: {bad}")
    return run


def vm_rows() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as reports:
        os.environ["VMAPP_REPORTS_DIR"] = reports
        cold = _run(RunOptions(fresh_vm=True, workers=1))
        serial = _run(RunOptions(workers=1))
        workers = max(2, auto_workers())
        parallel = _run(RunOptions(workers=workers, cpus=vcpus_per_vm(workers)))
    cold_each = statistics.median(overhead(c) for c in cold.cells)
    reverted = [overhead(c) for c in serial.cells if c.machine == "reverted"]
    revert_each = statistics.median(reverted)
    first = next(c for c in serial.cells if c.machine in ("booted", "warm"))
    return [
        (f"subset ({len(SUBSET)} cells on {IMAGE}, {cold.accel})", ", ".join(SUBSET)),
        ("per-cell overhead, cold Vagrant cycle (median)", f"{cold_each:.1f} s"),
        ("per-cell overhead, revert to snapshot (median)",
         f"{revert_each:.1f} s  (first cell, {first.machine}: {overhead(first):.1f} s)"),
        ("cold / revert overhead", f"x{cold_each / revert_each:.1f}"),
        ("subset wall time, fresh VM per cell, serial", f"{cold.seconds:.0f} s"),
        ("subset wall time, revert, serial", f"{serial.seconds:.0f} s"),
        (f"subset wall time, revert, {workers} workers",
         f"{parallel.seconds:.0f} s  (x{serial.seconds / parallel.seconds:.2f} of serial)"),
    ]


if __name__ == "__main__":
    for name, value in vm_rows():
        print(f"{name:50}  {value}")

"""Integration tests boot real VMs (TCG here, KVM where a probe boot works).

Each test runs through the same runner `vmapp run` uses, into a report folder under pytest's
tmp dir, and checks afterwards that libvirt holds no domain or volume of that run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.machines import libvirtd
from harness.report.results import CellResult, RunResult, read_results
from harness.runner.context import RunOptions
from harness.runner.run import run_matrix
from harness.scenario.load import load_all
from harness.settings import REPO_ROOT, state_dir

RunScenarios = Callable[..., tuple[RunResult, Path]]
# CI boots one image; `vmapp run scenarios/` gives the full matrix (Debian 12 and 13).
CI_IMAGE = "debian-12"
# What the session's runs really booted, printed at the end so CI logs show it.
BOOTED: list[str] = []


VMAPP = Path(sys.executable).with_name("vmapp")


def vmapp(*args: str, reports: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The `vmapp` command as an engineer types it, its reports under ``reports``."""
    return subprocess.run([str(VMAPP), *args], cwd=REPO_ROOT, text=True, capture_output=True,
                          timeout=timeout, env={**os.environ, "VMAPP_REPORTS_DIR": str(reports)})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


def _vm_line(run: RunResult, cell: CellResult) -> str:
    boot_ids = sorted({b[:8] for step in cell.steps for b in step.boot_ids})
    rebooted = f", rebooted into {', '.join(boot_ids)}" if boot_ids else ""
    return (f"{cell.cell_id}: {cell.outcome}, VM {cell.vm} ({run.accel}), "
            f"boot {cell.timings.get('boot', 0):.0f}s{rebooted}")


def note_vms(run: RunResult) -> RunResult:
    """Note a run's VMs for the session summary."""
    BOOTED.extend(_vm_line(run, cell) for cell in run.cells if cell.vm)
    return run


def record_booted(results: Path) -> RunResult:
    """A run made by a `vmapp` or `pytest` subprocess, from its results file."""
    return note_vms(read_results(results))


def leftovers(run_id: str) -> list[str]:
    """libvirt domains and volumes of a run that are still there."""
    conn = libvirtd.open_connection()
    try:
        return [name for name in libvirtd.harness_domains(conn) + libvirtd.leftover_volumes(conn)
                if run_id in name]
    finally:
        conn.close()


def remove_runs_since(before: set[str], reports: Path) -> list[str]:
    """libvirt domains of the runs begun since ``before`` (the run ids then in the state
    folder; the runs: those in the state folder now and in ``reports``), removed: a run whose
    process died leaves no VM behind for the next test.  Returns what it removed."""
    runs = state_dir() / "runs"
    ids = {p.name for p in runs.iterdir()} - before if runs.is_dir() else set()
    ids |= {p.name for p in reports.glob("2*")} if reports.is_dir() else set()
    conn = libvirtd.open_connection()
    removed = []
    try:
        for name in libvirtd.harness_domains(conn):
            if any(f"vmapp-{run_id}-" in name for run_id in ids):
                libvirtd.remove_domain(conn, name)
                removed.append(name)
    finally:
        conn.close()
    return removed


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section(f"real VMs booted by runs in this session: {len(BOOTED)}")
    for line in BOOTED:
        terminalreporter.write_line(line)


def _run_scenarios(reports: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunScenarios]:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(reports))
    runs: list[str] = []

    def run(*files: str, images: list[str] | None = None,
            **options: object) -> tuple[RunResult, Path]:
        scenarios = load_all([REPO_ROOT / f for f in files])
        result, folder = run_matrix(scenarios, images=images or [CI_IMAGE],
                                    options=RunOptions(**options),  # type: ignore[arg-type]
                                    progress=lambda m, c: print(m, c.outcome if c else ""))
        runs.append(note_vms(result).run_id)
        return result, folder

    yield run
    for run_id in runs:
        left = leftovers(run_id)
        assert not left, f"run {run_id} left {left}"


@pytest.fixture
def run_scenarios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunScenarios]:
    yield from _run_scenarios(tmp_path / "reports", monkeypatch)


@pytest.fixture(scope="module")
def run_scenarios_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunScenarios]:
    """One run shared by a module's tests (each cell boots a VM: share, don't repeat)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield from _run_scenarios(tmp_path_factory.mktemp("reports"), monkeypatch)

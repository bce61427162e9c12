"""Cells on one reverted VM are as isolated as in fresh VMs: a cell that leaves files, a package,
a running service, a user and a changed clock behind is followed, on the same VM reverted to its
clean snapshot, by a cell that sees none of it."""

from __future__ import annotations

from tests.integration.conftest import RunScenarios


def test_a_reverted_vm_keeps_nothing_of_the_previous_cell(run_scenarios: RunScenarios) -> None:
    run, _ = run_scenarios("tests/integration/scenarios/isolation-dirty.yaml",
                           "tests/integration/scenarios/isolation-clean.yaml", workers=1)
    dirty, clean = run.cells
    assert dirty.outcome == "passed", dirty.message
    assert clean.outcome == "passed", clean.message
    assert dirty.machine in ("booted", "warm") and clean.machine == "reverted"
    assert clean.vm == dirty.vm
    assert "revert" in clean.timings and "boot" not in clean.timings

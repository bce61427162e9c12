"""The engineer's loop on one kept VM (one boot), through the CLI: `vmapp run --keep always`,
`vmapp cell recheck` passes, a change made through `vmapp ssh` makes it fail naming the check,
`vmapp cell rerun` passes again on the same VM (not reverted), `vmapp cell destroy` leaves no
domain, no volume and no folder.  On the way, the serial console holds the boot from power-on.
The same loop on a local machine runs in the unit tests
(tests/unit/runner/test_kept_cells.py)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.settings import state_dir
from tests.integration.conftest import leftovers, record_booted, vmapp

SCENARIO = "tests/integration/scenarios/kept-loop.yaml"


def test_recheck_break_rerun_and_destroy_a_kept_vm(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    # --fresh-vm: a boot of its own (not a warm copy), so the console holds it from power-on
    done = vmapp("run", "--image", "debian-12", "--keep", "always", "--fresh-vm", SCENARIO,
                 reports=reports, timeout=1800)
    assert done.returncode == 0, done.stdout + done.stderr
    run = record_booted(reports / "latest" / "results.json")
    cell = f"{run.run_id}/kept-loop[debian-12]"
    vm = run.cells[0].vm
    console = (reports / run.run_id / run.cells[0].artifacts / "console.log").read_text()
    assert "Linux version" in console and "login:" in console  # from power-on to the prompt
    try:
        done = vmapp("cell", "recheck", cell, reports=reports, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "PASS  file /etc/vmapp-marker: exists = False (line 28)" in done.stdout

        done = vmapp("ssh", cell, "--", "sudo", "touch", "/etc/vmapp-marker", reports=reports)
        assert done.returncode == 0, done.stderr
        done = vmapp("cell", "recheck", "kept-loop[debian-12]", reports=reports, timeout=300)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "FAIL  file /etc/vmapp-marker: exists = False (line 28)" in done.stdout

        done = vmapp("cell", "rerun", cell, reports=reports, timeout=900)
        assert done.returncode == 0, done.stdout + done.stderr
        rerun = json.loads((reports / "latest" / "results.json").read_text())["cells"][0]
        assert (rerun["vm"], rerun["machine"], rerun["kept"]) == (vm, "kept", True)
        assert "goal states go on after 2" in rerun["note"]
        assert "boot" not in rerun["timings"]  # the same VM: nothing booted
    finally:
        done = vmapp("cell", "destroy", "--all", run.run_id, reports=reports, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert leftovers(run.run_id) == []
    assert not (state_dir() / "runs" / run.run_id).exists()

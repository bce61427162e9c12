"""The kept-machine loop end to end with no VM: `vmapp run --machines local --keep always`, then
`vmapp cell recheck`, a change on the machine, `recheck` failing on it, `rerun` passing again,
`destroy` leaving nothing.  Each command is a process of its own, as an engineer types them (a
local machine's namespace dies with the process that started it; its overlay is what is kept).
The same loop on a real VM: tests/integration/test_kept_vm.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.report.results import CellResult, RunResult, write_results
from harness.runner.kept import mark_destroyed
from harness.settings import REPO_ROOT

VMAPP = Path(sys.executable).with_name("vmapp")
SCENARIO = "tests/integration/scenarios/kept-loop.yaml"
CELL = "kept-loop[debian-12]"


def vmapp(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VMAPP_REPORTS_DIR": str(tmp / "reports"),
           "VMAPP_STATE_DIR": str(tmp / "state")}
    return subprocess.run([str(VMAPP), *args], cwd=REPO_ROOT, text=True, capture_output=True,
                          timeout=300, env=env)


def latest(tmp: Path) -> dict[str, Any]:
    cell: dict[str, Any] = json.loads(
        (tmp / "reports" / "latest" / "results.json").read_text())["cells"][0]
    return cell


def test_recheck_rerun_and_destroy_a_kept_local_machine(tmp_path: Path) -> None:
    done = vmapp(tmp_path, "run", "--machines", "local", "--keep", "always", SCENARIO)
    assert done.returncode == 0, done.stdout + done.stderr
    vm = latest(tmp_path)["vm"]
    run_id = latest(tmp_path)["vm"].split("-w1-")[0].removeprefix("vmapp-")
    machine = tmp_path / "state" / "runs" / run_id / vm

    done = vmapp(tmp_path, "cell", "recheck", CELL)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not reverted" in done.stdout
    assert "PASS  file /etc/vmapp-marker: exists = False (line 28)" in done.stdout
    cell = latest(tmp_path)
    assert (cell["machine"], cell["kept"], cell["vm"]) == ("kept", True, vm)
    assert [s["index"] for s in cell["steps"]] == [3]  # the last expect step only

    (machine / "upper" / "etc" / "vmapp-marker").write_text("left by hand\n")
    done = vmapp(tmp_path, "cell", "recheck", CELL)
    assert done.returncode == 1
    assert "FAIL  file /etc/vmapp-marker: exists = False (line 28)\n" \
        "        got file /etc/vmapp-marker: exists = True" in done.stdout
    assert latest(tmp_path)["message"].startswith("step 4 (")

    done = vmapp(tmp_path, "cell", "rerun", f"{run_id}/{CELL}")
    assert done.returncode == 0, done.stdout + done.stderr
    cell = latest(tmp_path)
    assert "goal states go on after 2" in cell["note"]  # the agent had seen 0 (warm-up), 1, 2
    assert [s["outcome"] for s in cell["steps"]] == ["passed"] * 4
    assert cell["note"] in (tmp_path / "reports" / "latest" / "index.html").read_text()
    status = tmp_path / "reports" / "latest" / cell["artifacts"] / "status"
    assert (status / "4.status").is_file() and not (status / "5.status").exists()

    done = vmapp(tmp_path, "cell", "recheck", "--all", CELL)
    assert done.returncode == 1  # the first expect step wants the app installed: it was removed
    assert "FAIL  file /etc/vmapp-marker: exists = True (line 21)" in done.stdout

    done = vmapp(tmp_path, "cell", "destroy", "--all", run_id)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "state" / "runs" / run_id).exists()
    runs = [json.loads(p.read_text()) for p in (tmp_path / "reports").glob("2*/results.json")]
    assert len(runs) == 5 and not any(c["kept"] for r in runs for c in r["cells"])
    assert all("destroyed by vmapp cell destroy" in r["cells"][0]["note"] for r in runs)


def test_mark_destroyed_touches_only_kept_cells_of_that_vm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    cells = [CellResult(scenario="a", image="i", kept=True, vm="vm-1"),
             CellResult(scenario="b", image="i", kept=True, vm="vm-2"),
             CellResult(scenario="c", image="i", vm="vm-1", note="passed, not kept")]
    for name in ("r1", "r2"):
        (tmp_path / name).mkdir()
        write_results(RunResult(run_id=name, started="2026-12-03T00:00:00Z", cells=cells),
                      tmp_path / name)
    (tmp_path / "latest").symlink_to("r2")
    assert mark_destroyed("vm-1", "gone") == [tmp_path / "r1" / "results.json",
                                              tmp_path / "r2" / "results.json"]
    after = json.loads((tmp_path / "r2" / "results.json").read_text())["cells"]
    assert [(c["kept"], c["note"]) for c in after] == [(False, "gone"), (True, ""),
                                                       (False, "passed, not kept")]

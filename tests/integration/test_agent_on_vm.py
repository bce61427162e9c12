"""The guest agent's rules on a real Debian VM, driven through `vmapp run` like a user would:
an ordered set with a failing middle order, updates with and without an update command, and
commands that reboot the VM mid-deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.settings import REPO_ROOT
from tests.integration.conftest import leftovers, record_booted

SCENARIOS = ["scenarios/order-middle-failure.yaml", "scenarios/update-paths.yaml",
             "scenarios/reboot-mid-deployment.yaml"]


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory
            ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], str]:
    reports = tmp_path_factory.mktemp("reports")
    vmapp = Path(sys.executable).with_name("vmapp")
    done = subprocess.run([str(vmapp), "run", "--image", "debian-12", *SCENARIOS],
                          cwd=REPO_ROOT, text=True,
                          capture_output=True, timeout=3600,
                          env={**os.environ, "VMAPP_REPORTS_DIR": str(reports)})
    print(done.stdout, done.stderr)
    record_booted(reports / "latest" / "results.json")
    results = json.loads((reports / "latest" / "results.json").read_text())
    return done, {c["scenario"]: c for c in results["cells"]}, results["run_id"]


def _ops(cell: dict[str, Any], step: int) -> list[tuple[str, str, str, int]]:
    return [(c["app"], c["version"], c["operation"], c["exit_code"])
            for c in cell["steps"][step]["commands"]]


def test_vmapp_run_prints_a_summary_and_the_report(cli_run: Any) -> None:
    done, cells, run_id = cli_run
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed, 0 failed, 0 error, 0 skipped" in done.stdout
    assert "report: " in done.stdout and "index.html" in done.stdout
    assert set(cells) == {"order-middle-failure", "update-paths", "reboot-mid-deployment"}
    assert leftovers(run_id) == []


def test_a_failed_middle_order_stops_higher_orders_but_not_unordered(cli_run: Any) -> None:
    cell = cli_run[1]["order-middle-failure"]
    ran = [(app, op) for app, _, op, _ in _ops(cell, 0)]
    assert ran[:2] == [("first", "install"), ("middle", "install")]
    assert ("loose", "install") in ran and ("third", "install") not in ran
    message = json.loads(cell["steps"][0]["extension_message"].split(": ", 1)[1])
    results = {a["applicationName"]: a["result"] for a in message["CurrentState"]}
    assert results["third"].startswith("Install SKIPPED") and "middle" in results["third"]
    assert cell["steps"][0]["extension_status"] == "success"


def test_update_with_and_without_an_update_command(cli_run: Any) -> None:
    ops = _ops(cli_run[1]["update-paths"], 1)
    assert ("withupdate", "2.0.0", "update", 0) in ops
    assert not any(app == "withupdate" and op != "update" for app, _, op, _ in ops)
    noupdate = [(v, op) for app, v, op, _ in ops if app == "noupdate"]
    assert noupdate == [("1.0.0", "remove"), ("2.0.0", "install")]


def test_reboots_mid_deployment_complete_without_running_anything_twice(cli_run: Any) -> None:
    cell = cli_run[1]["reboot-mid-deployment"]
    deploy = cell["steps"][0]
    assert len(deploy["boot_ids"]) == 2
    assert [(c["app"], c["rebooted"]) for c in deploy["commands"]] == [
        ("rebooter", True), ("rerunner", True), ("after", False)]
    assert cell["outcome"] == "passed", cell["message"]

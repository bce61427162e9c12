"""The pytest route with its worker on "another host": a real OpenSSH server on 127.0.0.1 (its
own configuration and keys), a real execnet SSH gateway (`--tx ssh=...`), the worker in a folder
of its own with its own state folder and no VMAPP_REPORTS_DIR.  Its cells run on local machines
(no VM): what this proves is that every cell, with its folder, reaches the controller's report
over xdist's channel alone.  tests/integration/test_xdist_ssh.py does the same on a real VM."""

from __future__ import annotations

import json
import platform
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.settings import REPO_ROOT
from tests.sshd import loopback_sshd, pytest_over_ssh


def test_a_worker_over_ssh_lands_its_cells_in_the_controllers_report(tmp_path: Path) -> None:
    with loopback_sshd(tmp_path / "sshd") as sshd:
        done = pytest_over_ssh(sshd, tmp_path, "scenarios/tar-golang.yaml",
                               "--vmapp-machines", "local", "--vmapp-image", "debian-12",
                               state=tmp_path / "worker-state")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "PASSED scenarios/tar-golang.yaml::tar-golang[debian-12]" in out
    report = tmp_path / "reports" / "latest"
    results = json.loads((report / "results.json").read_text())
    [cell] = results["cells"]
    assert (cell["scenario"], cell["image"], cell["outcome"]) == ("tar-golang", "debian-12",
                                                                  "passed")
    run_id = results["run_id"]
    assert cell["origin"] == f"run {run_id} on {platform.node()}, xdist worker gw0"
    assert cell["file"] == str(REPO_ROOT / "scenarios" / "tar-golang.yaml")  # the controller's
    arrived = report / cell["artifacts"]
    assert (arrived / "agent.log").stat().st_size > 0
    assert (arrived / "guest-files.tar.gz").stat().st_size > 0
    assert cell["status_files"] and all((arrived / f).is_file() for f in cell["status_files"])
    case = ET.parse(report / "junit.xml").getroot().find(".//testcase")
    assert case is not None and case.get("classname") == "scenarios.tar-golang.yaml"
    assert f"ran in: run {run_id} on {platform.node()}, xdist worker gw0" in (
        case.findtext("system-out") or "")
    pytest_case = ET.parse(tmp_path / "junit.xml").getroot().find(".//testcase")
    assert pytest_case is not None and pytest_case.get("name") == "tar-golang[debian-12]"
    # The worker wrote no report of its own (its default folder is this checkout's reports/)
    # and took its state folder with it.
    assert not (REPO_ROOT / "reports" / run_id).exists()
    assert list((tmp_path / "worker-state" / "runs").iterdir()) == []

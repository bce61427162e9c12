"""pytest-xdist with its worker on "another host": a real OpenSSH server on 127.0.0.1, a real
execnet SSH gateway (`--tx ssh=...`), the worker in a folder of its own running the cell on a
real VM with its own libvirt and storage, and the cell, with its folder, landing in the
controller's report over xdist's channel.  The sshd and the VM are gone afterwards, pass or
fail."""

from __future__ import annotations

import platform
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.settings import state_dir
from tests.integration.conftest import CI_IMAGE, leftovers, record_booted, remove_runs_since
from tests.sshd import loopback_sshd, pytest_over_ssh


def test_a_worker_over_ssh_runs_a_cell_on_a_real_vm(tmp_path: Path) -> None:
    runs = state_dir() / "runs"
    before = {p.name for p in runs.iterdir()} if runs.is_dir() else set()
    try:
        with loopback_sshd(tmp_path / "sshd") as sshd:
            done = pytest_over_ssh(sshd, tmp_path, "scenarios/tar-golang.yaml",
                                   "--vmapp-image", CI_IMAGE, state=state_dir())
    finally:
        stray = remove_runs_since(before, tmp_path / "reports")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert f"PASSED scenarios/tar-golang.yaml::tar-golang[{CI_IMAGE}]" in out
    assert stray == []
    report = tmp_path / "reports" / "latest"
    run = record_booted(report / "results.json")
    [cell] = run.cells
    assert (cell.cell_id, cell.outcome) == (f"tar-golang[{CI_IMAGE}]", "passed")
    assert cell.vm.startswith(f"vmapp-{run.run_id}-w1") and cell.machine in ("booted", "warm")
    assert cell.origin == f"run {run.run_id} on {platform.node()}, xdist worker gw0"
    assert run.accel == cell.accel and cell.accel in ("kvm", "tcg")
    arrived = report / cell.artifacts
    for name in ("agent.log", "guest-files.tar.gz"):
        assert (arrived / name).stat().st_size > 0, name
    assert (arrived / "console.log").is_file()  # empty when the machine came up warm
    assert cell.status_files and all((arrived / f).is_file() for f in cell.status_files)
    cases = {c.get("name"): c for c in ET.parse(report / "junit.xml").getroot().iter("testcase")}
    details = cases[cell.cell_id].findtext("system-out") or ""
    assert f"VM {cell.vm}" in details and f"ran in: {cell.origin}" in details
    pytest_cases = [c.get("name") for c in ET.parse(tmp_path / "junit.xml").iter("testcase")]
    assert pytest_cases == [cell.cell_id]
    assert leftovers(run.run_id) == []
    assert not (state_dir() / "runs" / run.run_id).exists()

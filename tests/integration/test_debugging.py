"""An engineer's debugging loop on a real VM, through the CLI: a failed cell's VM is kept with
`--keep on-failure`, the report says how to log in, `vmapp ssh` and `vagrant ssh` both get in,
and `vmapp gc` removes the VM, its disks and its run folder."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import proc
from harness.machines import libvirtd
from harness.settings import state_dir
from tests.integration.conftest import leftovers, record_booted, vmapp

SCENARIO = "tests/integration/scenarios/broken-install.yaml"


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    reports = tmp_path_factory.mktemp("reports")
    done = vmapp("run", "--image", "debian-12", "--keep", "on-failure", SCENARIO,
                 reports=reports, timeout=1800)
    print(done.stdout, done.stderr)
    assert done.returncode == 1, done.stdout + done.stderr
    record_booted(reports / "latest" / "results.json")
    run = json.loads((reports / "latest" / "results.json").read_text())
    yield reports, run
    vmapp("gc", reports=reports)  # whatever the tests did, nothing stays


def test_the_failed_cell_is_kept_and_the_report_says_how_to_log_in(kept: Any) -> None:
    reports, run = kept
    cell = run["cells"][0]
    assert (cell["outcome"], cell["kept"]) == ("failed", True)
    assert cell["vm"] in leftovers(run["run_id"])
    login = (reports / "latest" / "cells" / "broken-install-debian-12" / "LOGIN.txt").read_text()
    assert f"VM {cell['vm']} was kept." in login and "vagrant ssh" in login
    assert "vagrant ssh" in (reports / "latest" / "index.html").read_text()


def test_vmapp_ssh_runs_a_command_in_the_kept_vm(kept: Any) -> None:
    reports, run = kept
    done = vmapp("ssh", f"{run['run_id']}/broken-install[debian-12]", "--",
                 "cat", "/etc/debian_version", ";", "sudo", "ls",
                 "/var/lib/waagent/Microsoft.CPlat.Core.VMApplicationManagerLinux/brokenapp/1.0.0",
                 reports=reports)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("12.")
    assert "brokenapp" in done.stdout.split()


def test_vagrant_ssh_works_in_the_kept_vms_folder(kept: Any) -> None:
    _, run = kept
    first, second = run["cells"][0]["login"].splitlines()[0].split(" && ")
    folder = first.removeprefix("cd ")
    home = second.split()[0].removeprefix("VAGRANT_HOME=")
    done = subprocess.run(["vagrant", "ssh", "-c", "hostname; id -un"], cwd=folder, text=True,
                          capture_output=True, timeout=300,
                          env={**os.environ, "VAGRANT_HOME": home})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "vagrant"


def test_the_kept_vms_domain_records_its_run_maker_and_folder(kept: Any) -> None:
    """What `vmapp gc` finds it by when the run's folder is gone (vagrant-libvirt keeps it)."""
    _, run = kept
    conn = libvirtd.open_connection()
    try:
        owner = libvirtd.domain_owners(conn)[run["cells"][0]["vm"]]
    finally:
        conn.close()
    assert owner is not None and owner.run_id == run["run_id"]
    assert owner.folder.parent == state_dir() / "runs" / run["run_id"]
    assert not proc.stamp_alive(owner.owner)  # the run's process has ended


def test_vmapp_gc_removes_the_kept_vm_its_disks_and_its_run_folder(kept: Any) -> None:
    reports, run = kept
    assert (state_dir() / "runs" / run["run_id"]).is_dir()
    done = vmapp("gc", reports=reports)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"removing domain {run['cells'][0]['vm']}" in done.stdout
    assert leftovers(run["run_id"]) == []
    assert not (state_dir() / "runs" / run["run_id"]).exists()

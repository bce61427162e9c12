"""How `vmapp cell rerun|recheck|destroy` and `vmapp ssh` find a CELL (SCENARIO[IMAGE] of the
latest run, RUN/SCENARIO[IMAGE], a cell's folder in a report), and what they say when it is
unknown, was not kept or was destroyed: no VM, only report folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.where import find_cell, kept_cell
from harness.errors import ConfigError
from harness.machines.kept import attach
from harness.machines.record import MachineGone, write_record
from harness.machines.vagrant import VagrantMachine, VagrantProvider
from harness.report.results import CellResult, RunResult, write_results
from harness.runner.kept import machine_folder

VM = "vmapp-20261203-000000-abcd-w1-1-debian-12"
KEPT = CellResult(scenario="tar-golang", image="debian-12", outcome="failed", kept=True, vm=VM,
                  artifacts="cells/tar-golang-debian-12", file="scenarios/tar-golang.yaml",
                  login="cd x && vagrant ssh\n  or: ssh -p 2222 vagrant@127.0.0.1")
PASSED = CellResult(scenario="zip-unzip", image="debian-12", artifacts="cells/zip-unzip-debian-12")


def write_run(folder: Path, *cells: CellResult) -> Path:
    folder.mkdir(parents=True)
    write_results(RunResult(run_id=folder.name, started="2026-12-03T00:00:00Z",
                            cells=list(cells)), folder)
    for cell in cells:
        (folder / cell.artifacts).mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("VMAPP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.chdir(tmp_path)
    write_run(tmp_path / "reports" / "r1", KEPT, PASSED)
    (tmp_path / "reports" / "latest").symlink_to("r1")
    return tmp_path / "reports"


def test_a_cell_of_the_latest_run_a_named_run_or_a_cell_folder(reports: Path) -> None:
    assert find_cell("tar-golang[debian-12]").name == "latest/tar-golang[debian-12]"
    assert find_cell("r1/tar-golang[debian-12]").cell.vm == VM
    by_folder = find_cell("reports/r1/cells/zip-unzip-debian-12/")  # as a shell completes it
    assert (by_folder.cell.cell_id, by_folder.folder) == ("zip-unzip[debian-12]",
                                                         (reports / "r1").resolve())
    assert kept_cell(str(reports / "latest" / "cells" / "tar-golang-debian-12")).cell.kept


def test_an_unknown_cell_lists_the_runs_cells_and_the_kept_ones(reports: Path) -> None:
    with pytest.raises(ConfigError) as error:
        find_cell("tar-golang[debian-13]")
    assert error.value.problem == (
        "no cell 'tar-golang[debian-13]' in run latest (cells: tar-golang[debian-12], "
        "zip-unzip[debian-12]); kept in latest: latest/tar-golang[debian-12]")


def test_a_cell_not_kept_says_how_to_keep_one_and_which_are_kept(reports: Path) -> None:
    with pytest.raises(ConfigError) as error:
        kept_cell("r1/zip-unzip[debian-12]")
    assert error.value.problem == (
        "zip-unzip[debian-12] was not kept (run with --keep on-failure or --keep always); "
        "kept in r1: r1/tar-golang[debian-12]")


def test_a_destroyed_cell_says_what_became_of_its_vm(reports: Path) -> None:
    gone = CellResult(scenario="a", image="b", note="VM x destroyed by vmapp cell destroy")
    write_run(reports / "r2", gone)
    with pytest.raises(ConfigError) as error:
        kept_cell("r2/a[b]")
    assert error.value.problem == ("a[b] has no kept VM (VM x destroyed by vmapp cell "
                                   "destroy); no VM was kept in r2")


def test_a_folder_of_no_cell_and_a_missing_run_are_named(reports: Path) -> None:
    (reports / "r1" / "cells" / "stray").mkdir()
    with pytest.raises(ConfigError, match=r"no cell of run r1 has its files in .*stray; kept in"):
        find_cell("reports/r1/cells/stray")
    with pytest.raises(ConfigError, match=r"^cell: no results.json in r9 or .*r9 \(a cell is "):
        find_cell("r9/a[b]")


def test_the_verbs_exit_2_with_the_hint(reports: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cell", "recheck", "nope[debian-12]"]) == 2
    assert "kept in latest: latest/tar-golang[debian-12]" in capsys.readouterr().err
    assert main(["cell", "destroy"]) == 2
    assert capsys.readouterr().err == ("vmapp: cell: name a kept cell, or --all [RUN]; kept in "
                                       "latest: latest/tar-golang[debian-12]\n")
    write_run(reports / "r3", PASSED)
    assert main(["cell", "destroy", "--all", "r3"]) == 0
    assert capsys.readouterr().out == "vmapp: no VM is kept in r3\n"


def test_ssh_to_a_kept_machine_without_ssh_says_so(reports: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    local = CellResult(scenario="a", image="b", kept=True, vm=VM,
                       login="a local machine runs only while a vmapp command uses it (no SSH)")
    write_run(reports / "r4", local)
    assert main(["ssh", "r4/a[b]"]) == 2
    assert capsys.readouterr().err.startswith("vmapp: cell: a[b]'s machine has no SSH login: "
                                              "a local machine runs only")


def test_a_kept_vm_whose_folder_is_gone_is_named_with_where_it_was(reports: Path) -> None:
    with pytest.raises(MachineGone) as error:
        machine_folder(VM)
    assert str(error.value) == (
        f"find kept machine [{VM}]: its folder {reports.parent}/state/runs/20261203-000000-abcd"
        f"/{VM} is gone (vmapp gc or vmapp cell destroy removed it?)")


def test_a_kept_vagrant_vm_is_found_again_from_its_record(tmp_path: Path) -> None:
    image = tmp_path / "images" / "debian-12-0123"
    image.mkdir(parents=True)
    (image / "image.json").write_text('{"name": "debian-12", "key": "0123"}')
    folder = tmp_path / "runs" / "r" / VM
    folder.mkdir(parents=True)
    write_record(folder, "vagrant-libvirt",
                 {"run_id": "r", "driver": "qemu", "cpus": 1, "memory_mib": 1024},
                 {"name": VM, "image": str(image), "ssh_port": 40022, "boot_seconds": 60,
                  "ready_seconds": 300})
    provider, machine = attach(folder)
    assert isinstance(provider, VagrantProvider) and isinstance(machine, VagrantMachine)
    assert (machine.name, machine.ssh_port, machine.image.box_name, machine.started) == (
        VM, 40022, "vmapp/debian-12-0123", True)
    (image / "image.json").unlink()  # `vmapp images prune` took its build
    with pytest.raises(MachineGone, match=r"its image build .* is gone"):
        attach(folder)
    (folder / "machine.json").write_text('{"kind": "vagrant-libvirt", "provider": {}, '
                                         '"machine": {}}')
    with pytest.raises(MachineGone, match=r"damaged machine\.json"):
        attach(folder)


def test_a_rerun_whose_vm_is_gone_fails_before_any_report(
        reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cell", "rerun", "tar-golang[debian-12]"]) == 3
    assert capsys.readouterr().err.startswith(f"vmapp: find kept machine [{VM}]: its folder ")
    assert sorted(p.name for p in reports.iterdir()) == ["latest", "r1"]

"""The runner end to end with no VM: library scenarios through `run_cell` on local machines.

A local machine is the host's own system as an overlay in private namespaces (real agent, real
dpkg/tar/unzip, real Azurite, real testinfra checks); it reverts to a snapshot per cell as a
pooled VM does.  The scenarios it cannot stand in for are listed with the reason.  The Windows
scenarios run on ``windows-wine``: the wine stand-in, with the host's wine and the launcher and
tar.exe built with mingw (agent -> launcher -> cmd.exe/msiexec/tar.exe under wine -> cmd/reg
checks).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.netutil import is_listening
from harness.runner.cell import run_cell
from harness.runner.context import RunContext, RunOptions, cell_storage
from harness.runner.pool import MachinePool
from harness.scenario.load import load_scenario
from harness.settings import REPO_ROOT
from tests.unit.runner.local_run import local_pool

LIBRARY = REPO_ROOT / "scenarios"
NEEDS_A_VM = {
    "automatic-upgrade": "checks a systemd service, and no systemd runs in a local machine",
    "reboot-last": "its install command reboots the system (systemctl reboot)",
    "reboot-mid-deployment": "its install commands reboot the system (systemctl reboot)",
    "deb-python": "`apt --fix-broken` may need the host's apt lists",
    "deb-offline-dependency": "the host has jq and a reachable repository; the image has neither",
}
STANDIN = "windows-wine"
WINDOWS = sorted(p.stem for p in LIBRARY.glob("*.yaml")
                 if STANDIN in load_scenario(p).images)
# The VM's image named in the gallery's terms: what they boot depends on the host's cached builds,
# so they run in test_image_cells.py against a cache of builds of its own.
IMAGE_VERSIONS = sorted(p.stem for p in LIBRARY.glob("*.yaml")
                        if load_scenario(p).vm_image is not None)
LOCAL = sorted(p.stem for p in LIBRARY.glob("*.yaml")
               if p.stem not in NEEDS_A_VM and p.stem not in WINDOWS
               and p.stem not in IMAGE_VERSIONS)
# What the stand-in refuses to run (never a pass), by scenario: the reason the cell gives.
UNSUPPORTED = {"win-zip-powershell": "unsupported on stand-in: PowerShell (wine's powershell.exe "
                                     "is a stub that exits 0 and does nothing)",
               "win-installer-32bit": "unsupported on stand-in: 32-bit x86 installer (the "
                                      "stand-in runs 64-bit programs only; wine64 without wine32 "
                                      "exits 0 from a 32-bit installer and installs nothing)",
               "win-reboot-request": "unsupported on stand-in: shutdown/restart (wine's shutdown "
                                     "does nothing: there is no machine to restart)"}


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunContext,
                                                                          MachinePool]]:
    with local_pool(tmp_path_factory.mktemp("local"), "local") as run:
        yield run


@pytest.mark.parametrize("name", LOCAL)
def test_library_scenario_passes_on_a_local_machine(local_run: tuple[RunContext, MachinePool],
                                                    name: str) -> None:
    ctx, pool = local_run
    cell = run_cell(ctx, pool, load_scenario(LIBRARY / f"{name}.yaml"), "debian-12")
    assert cell.outcome == "passed", cell.message
    assert cell.machine in ("booted", "reverted", "")
    if cell.machine:  # read once when the machine came up, carried to every reverted cell
        assert cell.image_facts["package_digest"].startswith("sha256:")


@pytest.mark.parametrize("name", WINDOWS)
def test_windows_scenario_on_the_wine_stand_in(local_run: tuple[RunContext, MachinePool],
                                               name: str) -> None:
    ctx, pool = local_run
    cell = run_cell(ctx, pool, load_scenario(LIBRARY / f"{name}.yaml"), STANDIN)
    if name in UNSUPPORTED:
        assert (cell.outcome, cell.message) == ("skipped", UNSUPPORTED[name])
        assert [s.outcome for s in cell.steps] == ["skipped"] * len(cell.steps)
    else:
        assert cell.outcome == "passed", cell.message
    assert cell.title == f"{name}[windows-wine (wine stand-in)]"
    assert cell.image_facts["wine"].startswith("wine-")


def test_every_scenario_left_out_still_exists() -> None:
    missing = [name for name in NEEDS_A_VM if not (LIBRARY / f"{name}.yaml").is_file()]
    assert not missing


def test_the_host_is_untouched(local_run: tuple[RunContext, MachinePool]) -> None:
    ctx, pool = local_run
    run_cell(ctx, pool, load_scenario(LIBRARY / "tar-golang.yaml"), "debian-12")
    assert not Path("/usr/local/go").exists()


def test_idempotence_check_holds_for_every_goal_state(
        local_run: tuple[RunContext, MachinePool]) -> None:
    ctx, pool = local_run
    checked = dataclasses.replace(ctx, options=RunOptions(retries=0, idempotence=True))
    cell = run_cell(checked, pool, load_scenario(LIBRARY / "update-paths.yaml"), "debian-12")
    assert cell.outcome == "passed", cell.message
    applied = [s for s in cell.steps if s.kind in ("deploy", "update", "remove")]
    assert applied and all(s.idempotence == "held" for s in applied)


def test_a_scenario_that_restarts_storage_gets_storage_of_its_own(
        local_run: tuple[RunContext, MachinePool]) -> None:
    ctx, _pool = local_run
    with cell_storage(ctx, load_scenario(LIBRARY / "fault-storage-restart.yaml")) as own:
        assert own.storage is not None and own.storage_port != ctx.storage_port
        assert is_listening(own.storage_port)
        port, folder = own.storage_port, own.storage.data_dir
    assert not is_listening(port) and not folder.exists()
    assert is_listening(ctx.storage_port)  # the run's storage never stopped
    with cell_storage(ctx, load_scenario(LIBRARY / "tar-golang.yaml")) as same:
        assert same is ctx


def test_stopped_storage_is_back_when_the_goal_state_ends_before_its_time(
        local_run: tuple[RunContext, MachinePool], tmp_path: Path) -> None:
    scenario = tmp_path / "early.yaml"
    scenario.write_text(
        "description: a goal state with nothing to download ends long before storage is due\n"
        "gallery:\n  applications:\n    a:\n      versions:\n"
        "        1.0.0: {package: {content: a}, install: 'true', remove: 'true'}\n"
        "steps:\n  - fault: {kind: storage-restart, seconds: 600}\n  - deploy: []\n"
        "  - deploy: [{app: a, version: 1.0.0}]\n"
        "  - expect: {applications: {a: {result: Install SUCCESS}}}\n")
    ctx, pool = local_run
    cell = run_cell(ctx, pool, load_scenario(scenario), "debian-12")
    assert cell.outcome == "passed", cell.message
    assert cell.steps[1].detail.startswith("package storage started again ")
    assert "storage" not in cell.steps[2].detail


@pytest.mark.parametrize(("name", "image", "os_name"), [("tar-golang", STANDIN, "Windows"),
                                                        ("win-msi", "debian-12", "Linux")])
def test_a_scenario_put_on_the_other_os_is_not_applicable(
        local_run: tuple[RunContext, MachinePool], name: str, image: str, os_name: str) -> None:
    """`vmapp run --image windows-wine scenarios/` gives the Linux scenarios a skip saying why,
    not a failure of commands that were never meant for cmd.exe (and the other way round)."""
    ctx, pool = local_run
    scenario = load_scenario(LIBRARY / f"{name}.yaml")
    cell = run_cell(ctx, pool, scenario, image)
    own = "Windows" if os_name == "Linux" else "Linux"
    assert (cell.outcome, cell.message) == ("skipped", (
        f"not applicable: {name} is written for {own} images ({', '.join(scenario.images)}); "
        f"{image} is a {os_name} image"))
    assert cell.steps == [] and cell.vm == ""

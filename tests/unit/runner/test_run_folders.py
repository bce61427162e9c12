"""Run folders carry their owner's pid so `vmapp gc` never removes a run that is in progress."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import libvirt
import pytest

from harness.runner.context import OWNER_FILE, RunOptions, claim_run_folder, run_is_active
from harness.runner.pool import remove
from harness.runner.run import new_run, open_run


def test_a_claimed_folder_is_active_while_its_process_lives(tmp_path: Path) -> None:
    folder = claim_run_folder(tmp_path / "runs" / "r1")
    assert folder.is_dir() and run_is_active(folder)


def test_a_folder_whose_owner_exited_is_not_active(tmp_path: Path) -> None:
    folder = tmp_path / "r2"
    subprocess.run([sys.executable, "-c",
                    "from pathlib import Path; from harness.runner.context import "
                    f"claim_run_folder; claim_run_folder(Path({str(folder)!r}))"], check=True)
    assert (folder / "owner.pid").is_file()
    assert not run_is_active(folder)


def test_a_folder_without_owner_is_not_active(tmp_path: Path) -> None:
    assert not run_is_active(tmp_path)


def test_a_damaged_or_reused_owner_file_is_not_an_active_run(tmp_path: Path) -> None:
    folder = claim_run_folder(tmp_path / "run")
    assert run_is_active(folder)
    pid = (folder / OWNER_FILE).read_text().split()[0]
    for text in ("9" * 30, "", "abc", f"{pid} 1"):  # 30 digits crashed gc; start time differs
        (folder / OWNER_FILE).write_text(text)
        assert not run_is_active(folder), text


def _dead_run(folder: Path) -> Path:
    subprocess.run([sys.executable, "-c",
                    "from pathlib import Path; from harness.runner.context import "
                    f"claim_run_folder; claim_run_folder(Path({str(folder)!r}))"], check=True)
    return folder


def test_a_new_run_reaps_only_runs_killed_before_they_ended(tmp_path: Path,
                                                            conn: libvirt.virConnect) -> None:
    from harness.runner.reap import dead_runs, mark_ended, reap
    runs = tmp_path / "runs"
    live = claim_run_folder(runs / "20261203-000001-live")
    killed = _dead_run(runs / "20261203-000002-kill")
    kept = _dead_run(runs / "20261203-000003-kept")
    mark_ended(kept)  # ended, leaving a VM an engineer asked to keep
    xdist_kept = _dead_run(runs / "20261203-000004-xdst" / "gw0")
    mark_ended(xdist_kept)  # an xdist worker's folder inside its run's
    dead, alive = dead_runs(runs, killed_only=True)
    assert dead == [killed] and alive == [live]
    assert dead_runs(runs)[0] == [killed, kept, xdist_kept.parent]  # `vmapp gc`: kept ones too
    assert dead_runs(runs, older_than_hours=1)[0] == []  # both are younger than an hour
    said: list[str] = []
    reap(dead, runs, say=said.append, conn=conn)  # no domain or volume of these runs exists
    assert not killed.exists() and kept.exists() and live.exists()
    assert said == [f"removing {killed}"]


def test_a_run_is_active_while_one_of_its_workers_lives(tmp_path: Path) -> None:
    """pytest-xdist workers each claim their own subfolder (on their own host); the run's
    folder itself has no owner there."""
    run = tmp_path / "runs" / "r3"
    _dead_run(run / "gw0")
    (run / "azurite").mkdir()
    assert not run_is_active(run)
    claim_run_folder(run / "gw1")
    assert run_is_active(run)


def test_a_run_interrupted_before_its_machines_are_ready_leaves_no_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen in `make soak`: a SIGINT 2.5 s into a run (libvirt starting, KVM being probed) left
    the run's state folder, as the cleanup began only once the provider was made."""
    monkeypatch.setenv("VMAPP_STATE_DIR", str(tmp_path / "state"))

    def interrupted(message: str, _cell: object) -> None:
        raise KeyboardInterrupt(message)

    run = new_run()
    options = RunOptions(machines="local")
    with pytest.raises(KeyboardInterrupt), open_run(run, tmp_path / "report", options,
                                                    "debian-12", interrupted):
        pass
    assert not (tmp_path / "state" / "runs" / run.run_id).exists()
    assert (tmp_path / "state" / "runs").is_dir()


class _HalfwayInterrupted:
    """A machine whose destroy is interrupted between its two halves, as a SIGINT can be."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir()
        self.folder, self.started, self.done = folder, True, list[str]()

    def destroy(self) -> None:
        self.done.append("powered off")
        os.kill(os.getpid(), signal.SIGINT)
        self.done.append("undefined, disk deleted")


def test_an_interrupt_waits_until_a_machine_is_destroyed(tmp_path: Path) -> None:
    """Seen in `make soak`: a SIGINT while a machine was being destroyed left its domain shut
    off but defined, and its disk; the interrupt now comes once both are gone."""
    machine = _HalfwayInterrupted(tmp_path / "machine")
    with pytest.raises(KeyboardInterrupt):
        remove(machine)  # type: ignore[arg-type]
    assert machine.done == ["powered off", "undefined, disk deleted"]
    assert not machine.folder.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_interrupt_stays_ignored(tmp_path: Path) -> None:
    machine = _HalfwayInterrupted(tmp_path / "machine")
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        remove(machine)  # type: ignore[arg-type]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
    assert machine.done == ["powered off", "undefined, disk deleted"]

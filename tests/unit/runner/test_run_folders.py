"""Run folders carry their owner's pid so `vmapp gc` never removes a run that is in progress."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.runner.context import OWNER_FILE, claim_run_folder, run_is_active


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


def test_a_run_is_active_while_one_of_its_workers_lives(tmp_path: Path) -> None:
    """pytest-xdist workers each claim their own subfolder (on their own host); the run's
    folder itself has no owner there."""
    run = tmp_path / "runs" / "r3"
    subprocess.run([sys.executable, "-c",
                    "from pathlib import Path; from harness.runner.context import "
                    f"claim_run_folder; claim_run_folder(Path({str(run / 'gw0')!r}))"],
                   check=True)
    (run / "azurite").mkdir()
    assert not run_is_active(run)
    claim_run_folder(run / "gw1")
    assert run_is_active(run)

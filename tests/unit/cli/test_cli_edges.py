"""The CLI's edges: closed pipes, --version, `vmapp ssh` without a cell or a run, `vmapp report`
paths relative to where the user stands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main, maintenance
from harness.report.results import CellResult, RunResult, write_results

VMAPP = Path(sys.executable).with_name("vmapp")
GALLERY = ("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg/providers/"
           "Microsoft.Compute/galleries/g{n}?api-version=2022-03-03")


def with_closed_stdout(args: list[str]) -> subprocess.CompletedProcess[str]:
    """``vmapp ARGS | head -0``: the reader is gone before the first line is written."""
    proc = subprocess.Popen([str(VMAPP), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    return subprocess.CompletedProcess(args, proc.wait(timeout=120), "", err)


def test_gallery_rows_into_a_closed_pipe_ends_quietly() -> None:
    done = with_closed_stdout(["gallery", "rows", "--all"])
    assert (done.returncode, done.stderr) == (141, "")


def test_gallery_replay_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    requests = [{"method": "PUT", "path": GALLERY.format(n=n),
                 "body": {"location": "East US"}} for n in range(50)]
    (tmp_path / "r.json").write_text(json.dumps(requests))
    done = with_closed_stdout(["gallery", "replay", str(tmp_path / "r.json")])
    assert (done.returncode, done.stderr) == (141, "")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out == "vmapp 0.1.0\n"


def write_run(folder: Path, *cells: CellResult) -> None:
    folder.mkdir(parents=True)
    write_results(RunResult(run_id=folder.name, started="2026-12-03T00:00:00Z",
                            cells=list(cells)), folder)


KEPT = CellResult(scenario="tar-golang", image="debian-12", outcome="failed", kept=True,
                  login="vagrant ssh\nor: ssh -p 2222 vagrant@127.0.0.1")


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "reports"


def test_ssh_without_a_cell_says_how_and_lists_kept_cells(
        reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ssh"]) == 2
    assert capsys.readouterr().err == ("vmapp: cell: name a kept cell: vmapp ssh "
                                       "[RUN/]SCENARIO[IMAGE] [-- COMMAND]\n")
    write_run(reports / "r1", KEPT, CellResult(scenario="zip", image="debian-12"))
    (reports / "latest").symlink_to("r1")
    assert main(["ssh"]) == 2
    assert capsys.readouterr().err.endswith("; kept in latest: latest/tar-golang[debian-12]\n")


class Exec(Exception):
    """What os.execvp was asked to run (it would replace the test process)."""


def fake_execvp(*args: Any) -> None:
    raise Exec(*args)


def test_ssh_without_a_run_uses_latest(reports: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_run(reports / "r1", KEPT)
    (reports / "latest").symlink_to("r1")
    monkeypatch.setattr(maintenance.os, "execvp", fake_execvp)
    with pytest.raises(Exec) as ran:
        main(["ssh", "tar-golang[debian-12]", "--", "uptime"])
    assert ran.value.args == ("ssh", ["ssh", "-p", "2222", "vagrant@127.0.0.1", "uptime"])


def test_ssh_without_any_run_gives_a_hint(reports: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ssh", "tar-golang[debian-12]"]) == 2
    assert capsys.readouterr().err == (
        f"vmapp: cell: no results.json in latest or {reports / 'latest'} (a cell is "
        "SCENARIO[IMAGE] of the latest run, RUN/SCENARIO[IMAGE] with RUN a run id or folder, "
        "or a cell's folder in a report)\n")


def test_report_takes_paths_from_where_the_user_stands(
        reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    write_run(reports / "r1", CellResult(scenario="a", image="debian-12"))
    write_run(reports.parent / "ci-artifacts" / "r1", CellResult(scenario="b", image="x"))
    assert main(["report", "r1"]) == 0  # not in the current folder: the reports folder's
    assert capsys.readouterr().out == f"report: {reports / 'r1' / 'index.html'}\n"
    monkeypatch.chdir(reports.parent / "ci-artifacts")
    assert main(["report", "r1"]) == 0  # here it is: this one
    assert capsys.readouterr().out == (
        f"report: {reports.parent / 'ci-artifacts' / 'r1' / 'index.html'}\n")


def test_ssh_without_a_cell_and_an_unreadable_latest_still_says_how(
        reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (reports / "r1").mkdir(parents=True)
    (reports / "r1" / "results.json").write_text('{"schemaVersion": 1, "run_id": 5}')
    (reports / "latest").symlink_to("r1")
    assert main(["ssh"]) == 2
    assert capsys.readouterr().err == ("vmapp: cell: name a kept cell: vmapp ssh "
                                       "[RUN/]SCENARIO[IMAGE] [-- COMMAND]\n")


def test_ssh_to_a_kept_cell_without_a_login_is_a_clean_error(
        reports: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run(reports / "r1", CellResult(scenario="a", image="b", kept=True, login=" \n"))
    assert main(["ssh", "r1/a[b]"]) == 2
    assert capsys.readouterr().err == ("vmapp: cell: a[b] was kept but its run recorded no "
                                       "login\n")

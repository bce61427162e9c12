"""`vmapp run --junitxml PATH --reports-dir DIR` and its documented exit statuses, with the VM
work replaced by a fake matrix (no VM, no libvirt)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.cli import run as cli_run
from harness.report.results import CellResult, RunResult
from harness.runner.run import write_reports
from harness.settings import REPO_ROOT, reports_dir

SCENARIO = str(REPO_ROOT / "scenarios" / "tar-golang.yaml")


def fake_matrix(outcome: str, interrupt: bool = False) -> Any:
    def run_matrix(scenarios: list[Any], *, options: Any, progress: Any, run_id: str, shard: str,
                   cells: Any, seconds: Any) -> tuple[RunResult, Path]:
        folder = reports_dir() / run_id
        folder.mkdir(parents=True)
        run = RunResult(run_id=run_id, started="2026-12-03T00:00:00Z", cells=[
            CellResult(scenario=s.name, image="debian-12", outcome=outcome, file=str(s.file))
            for s in scenarios])
        write_reports(run, folder)
        if interrupt:
            raise KeyboardInterrupt
        return run, folder
    return run_matrix


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path / "default-reports"))
    return tmp_path


@pytest.mark.parametrize(("outcome", "interrupt", "status"), [
    ("passed", False, 0), ("skipped", False, 0), ("failed", False, 1), ("error", False, 1),
    ("passed", True, 130)])
def test_exit_status_reports_dir_and_junitxml(reports: Path, monkeypatch: pytest.MonkeyPatch,
                                              outcome: str, interrupt: bool,
                                              status: int) -> None:
    monkeypatch.setattr(cli_run, "run_matrix", fake_matrix(outcome, interrupt))
    junit = reports / "ci" / "out" / "junit.xml"
    assert main(["run", SCENARIO, "--reports-dir", str(reports / "mine"),
                 "--junitxml", str(junit)]) == status
    (folder,) = [p for p in (reports / "mine").iterdir() if p.name != "latest"]
    assert (folder / "index.html").is_file() and not (reports / "default-reports").exists()
    assert junit.read_bytes() == (folder / "junit.xml").read_bytes()
    case = ET.parse(junit).getroot().find("./testsuite/testcase")
    assert case is not None and case.get("classname") == "scenarios.tar-golang.yaml"


@pytest.mark.parametrize(("argv", "problem"), [
    (["--junitxml", "{tmp}"], "--junitxml: {tmp} is a folder; give a file name"),
    (["--junitxml", "{tmp}/file/junit.xml"], "--junitxml: cannot create {tmp}/file: "),
    (["--reports-dir", "{tmp}/file/reports"], "--reports-dir: cannot create {tmp}/file/reports"),
    (["--retries", "-1"], "--retries: must be 0 or more, got -1")])
def test_bad_outputs_are_refused_before_anything_starts(
        reports: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        argv: list[str], problem: str) -> None:
    monkeypatch.setattr(cli_run, "run_matrix", None)  # would fail if called
    (reports / "file").write_text("")
    assert main(["run", SCENARIO, *(a.format(tmp=reports) for a in argv)]) == 2
    assert capsys.readouterr().err.startswith("vmapp: " + problem.format(tmp=reports))

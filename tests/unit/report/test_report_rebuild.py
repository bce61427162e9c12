"""`vmapp report RUN`: rebuild one run's index.html and junit.xml from its results.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.cli import main
from harness.report.results import CellResult, RunResult, read_results, write_results

RUN_ID = "20261201-000000-abcd"
VMAPP = Path(sys.executable).with_name("vmapp")


class Matrix(HTMLParser):
    """(data-cell, data-outcome) of every matrix cell, and the counts line."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str | None, str | None]] = []
        self.in_counts = False
        self.counts = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td" and "state" in (found.get("class") or "").split():
            self.cells.append((found.get("data-cell"), found.get("data-outcome")))
        self.in_counts = found.get("id") == "counts"

    def handle_data(self, data: str) -> None:
        if self.in_counts:
            self.counts += data

    def handle_endtag(self, tag: str) -> None:
        self.in_counts = False


def matrix(folder: Path) -> Matrix:
    parser = Matrix()
    parser.feed((folder / "index.html").read_text())
    return parser


def make_run() -> RunResult:
    cells = [CellResult(scenario=s, image=i, outcome=o, seconds=5.0, message=m)
             for s, i, o, m in (("tar-golang", "debian-12", "passed", ""),
                                ("tar-golang", "debian-13", "error", "boot: timed out"),
                                ("zip-unzip", "debian-12", "failed", "step 2: expected x"),
                                ("zip-unzip", "debian-13", "skipped", "image not built"))]
    return RunResult(run_id=RUN_ID, started="2026-12-01T00:00:00Z",
                     finished="2026-12-01T00:20:00Z", seconds=20.0, accel="tcg",
                     accel_reason="no /dev/kvm", cells=cells)


@pytest.fixture
def reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reports folder holding one run whose results.json is the only report file."""
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    (tmp_path / RUN_ID).mkdir()
    write_results(make_run(), tmp_path / RUN_ID)
    return tmp_path


def test_report_rebuilds_html_and_junit_from_results(reports: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    folder = reports / RUN_ID
    (folder / "index.html").write_text("stale")
    assert main(["report", RUN_ID]) == 0
    assert capsys.readouterr().out == f"report: {folder / 'index.html'}\n"
    parsed = matrix(folder)
    assert parsed.cells == [("tar-golang[debian-12]", "passed"),
                            ("tar-golang[debian-13]", "error"),
                            ("zip-unzip[debian-12]", "failed"),
                            ("zip-unzip[debian-13]", "skipped")]
    assert parsed.counts == "1 passed, 1 failed, 1 error, 1 skipped"
    suite = ET.parse(folder / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "4", "failures": "1", "errors": "1", "skipped": "1"}
    assert read_results(folder / "results.json") == make_run()  # the input is left as it was


def test_report_follows_a_changed_results_json(reports: Path) -> None:
    """The matrix comes from results.json each time, not from the earlier HTML."""
    folder = reports / RUN_ID
    assert main(["report", str(folder)]) == 0  # a folder path works as well as a run id
    run = make_run()
    run.cells[1].outcome = "passed"  # the debian-13 boot error, rerun and fixed by hand
    run.cells.append(CellResult(scenario="zip-unzip", image="debian-14", outcome="passed"))
    write_results(run, folder)
    assert main(["report", str(folder)]) == 0
    parsed = matrix(folder)
    assert dict(parsed.cells)["tar-golang[debian-13]"] == "passed"
    assert (None, None) in parsed.cells  # tar-golang has no debian-14 cell: shown missing
    assert dict(parsed.cells)["zip-unzip[debian-14]"] == "passed"
    assert parsed.counts == "3 passed, 1 failed, 0 error, 1 skipped"


def test_report_defaults_to_latest(reports: Path) -> None:
    (reports / "latest").symlink_to(RUN_ID)
    assert main(["report"]) == 0
    assert matrix(reports / RUN_ID).cells[0] == ("tar-golang[debian-12]", "passed")


def test_console_script_rebuilds_a_deleted_index(reports: Path) -> None:
    folder = reports / RUN_ID
    assert main(["report", RUN_ID]) == 0
    (folder / "index.html").unlink()
    env = {k: v for k, v in os.environ.items() if k != "VMAPP_REPORTS_DIR"}
    done = subprocess.run([str(VMAPP), "report", str(folder)], capture_output=True, text=True,
                          timeout=120, env=env, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"report: {folder.resolve() / 'index.html'}\n"
    assert len(matrix(folder).cells) == 4


@pytest.mark.parametrize("name", ["no-such-run", "empty"])
def test_a_folder_without_results_is_a_clean_error(reports: Path, name: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (reports / "empty").mkdir()
    assert main(["report", name]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"vmapp: run: no results.json in {name} or {reports / name}\n"
    assert not (reports / name / "index.html").exists()


def test_a_missing_folder_path_via_the_console_script_is_a_clean_error(tmp_path: Path) -> None:
    done = subprocess.run([str(VMAPP), "report", str(tmp_path / "gone")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr == f"vmapp: run: no results.json in {tmp_path / 'gone'}\n"
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("content", ["{not json", json.dumps({"schemaVersion": 99, "cells": []})],
                         ids=["corrupt", "other-schema"])
def test_an_unreadable_results_json_is_a_clean_error(reports: Path, content: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    (reports / RUN_ID / "results.json").write_text(content)
    assert main(["report", RUN_ID]) == 2
    assert "results.json" in capsys.readouterr().err

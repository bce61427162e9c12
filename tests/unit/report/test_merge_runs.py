"""Runs split by image (or runner, or night) merge into one matrix: the latest cell wins."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.report.results import CellResult, RunResult, merge_runs, read_results, write_results


def run(run_id: str, started: str, *cells: tuple[str, str, str], accel: str = "tcg"
        ) -> RunResult:
    return RunResult(run_id=run_id, started=started, finished=started.replace("T00", "T01"),
                     accel=accel, cells=[
                         CellResult(scenario=s, image=i, outcome=o, seconds=10.0,
                                    artifacts=f"cells/{s}-{i}") for s, i, o in cells])


NIGHT = run("r1", "2026-12-01T00:00:00Z", ("tar", "debian-12", "passed"),
            ("zip", "debian-12", "failed"))
RERUN = run("r2", "2026-12-02T00:00:00Z", ("zip", "debian-12", "passed"),
            ("tar", "debian-13", "error"), accel="kvm")


def test_latest_run_wins_per_cell_and_artifacts_point_home() -> None:
    merged = merge_runs([RERUN, NIGHT], "m1")  # given out of order: start times decide
    cells = {c.cell_id: (c.outcome, c.artifacts) for c in merged.cells}
    assert cells == {"tar[debian-12]": ("passed", "../r1/cells/tar-debian-12"),
                     "zip[debian-12]": ("passed", "../r2/cells/zip-debian-12"),
                     "tar[debian-13]": ("error", "../r2/cells/tar-debian-13")}
    assert (merged.run_id, merged.started, merged.finished) == (
        "m1", "2026-12-01T00:00:00Z", "2026-12-02T01:00:00Z")
    assert (merged.accel, merged.accel_reason) == ("kvm/tcg", "merged from r1, r2")
    assert merged.seconds == 30.0


def test_a_run_whose_cells_were_all_replaced_is_not_named() -> None:
    old = run("r0", "2026-11-30T00:00:00Z", ("zip", "debian-12", "failed"))
    assert merge_runs([old, RERUN], "m").accel_reason == "merged from r2"


@pytest.fixture
def two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A reports folder holding NIGHT and RERUN."""
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    for result in (NIGHT, RERUN):
        (tmp_path / result.run_id).mkdir()
        write_results(result, tmp_path / result.run_id)
    return tmp_path


def test_vmapp_report_merge_writes_one_matrix(two_runs: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--merge", "r1", "r2"]) == 0
    out = capsys.readouterr().out
    assert "3 cells from r1, r2" in out
    folder = Path(out.split("report: ", 1)[1].split()[0]).parent
    assert folder.parent == two_runs and folder.name.startswith("merged-")
    assert len(read_results(folder / "results.json").cells) == 3
    html = (folder / "index.html").read_text()
    assert 'data-cell="tar[debian-13]" data-outcome="error"' in html
    assert 'data-cell="zip[debian-12]" data-outcome="passed"' in html
    merged = read_results(folder / "results.json")
    assert all(c.origin for c in merged.cells)
    for cell in merged.cells:  # each cell's panel says where it ran
        assert f'ran in <span class="origin">{cell.origin}</span>' in html


def test_several_runs_without_merge_are_refused(two_runs: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "r1", "r2"]) == 2
    assert "add --merge" in capsys.readouterr().err

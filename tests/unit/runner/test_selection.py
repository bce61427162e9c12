"""Cell selection: shards that split the matrix the same way on every host, balanced by earlier
durations, and `--failed` / `vmapp list` through the CLI (nothing booted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.errors import ConfigError
from harness.report.results import CellResult, RunResult
from harness.runner.run import write_reports
from harness.runner.selection import cell_id, key, matrix, parse_shard, shard
from harness.scenario.load import load_all
from harness.settings import REPO_ROOT

LIBRARY = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def cells() -> list:  # type: ignore[type-arg]
    return matrix(load_all(LIBRARY), None)


def test_shards_cover_the_matrix_once_and_keep_its_order(cells: list) -> None:  # type: ignore[type-arg]
    parts = [shard(cells, k, 3, {}) for k in (1, 2, 3)]
    ids = [cell_id(c) for part in parts for c in part]
    assert sorted(ids) == sorted(cell_id(c) for c in cells) and len(set(ids)) == len(ids)
    for part in parts:
        assert part == [c for c in cells if c in part]  # matrix order inside a shard
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1  # counts, no history


def test_shards_are_balanced_by_earlier_durations(cells: list) -> None:  # type: ignore[type-arg]
    seconds = {key(c): (600.0 if i == 0 else 10.0) for i, c in enumerate(cells)}
    first, second = shard(cells, 1, 2, seconds), shard(cells, 2, 2, seconds)
    heavy = cells[0]
    alone = first if heavy in first else second
    other = second if alone is first else first
    assert len(alone) < len(other)  # the 600 s cell's shard takes fewer cells
    assert shard(cells, 1, 2, seconds) == first  # deterministic


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "2"])
def test_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_shard(text)


def test_vmapp_list_and_failed_take_the_cells_that_did_not_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    run = RunResult(run_id="r1", started="2026-12-03T00:00:00Z", cells=[
        CellResult(scenario="tar-golang", image="debian-12", outcome="passed",
                   file=str(REPO_ROOT / "scenarios/tar-golang.yaml")),
        CellResult(scenario="zip-unzip", image="debian-13", outcome="failed",
                   file=str(REPO_ROOT / "scenarios/zip-unzip.yaml")),
        CellResult(scenario="order-none", image="debian-12", outcome="error",
                   file=str(REPO_ROOT / "scenarios/order-none.yaml"))])
    (tmp_path / "r1").mkdir()
    write_reports(run, tmp_path / "r1")
    assert main(["list", "--failed"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[:-1]] == ["order-none[debian-12]",
                                                      "zip-unzip[debian-13]"]
    assert out[-1] == "2 cell(s)"
    assert main(["list", "--failed", "r1", "-k", "zip"]) == 0
    assert capsys.readouterr().out.splitlines()[0].split()[0] == "zip-unzip[debian-13]"
    assert main(["list", "--failed", "no-such-run"]) == 2
    assert json.loads((tmp_path / "r1" / "results.json").read_text())["run_id"] == "r1"


def test_durations_come_from_the_newest_runs_the_latest_record_winning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli.select import history
    from harness.runner.selection import durations
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    for n in range(12):
        run = RunResult(run_id=f"20261203-0000{n:02d}-abcd", started="2026-12-03T00:00:00Z",
                        cells=[CellResult(scenario="a", image="debian-12", outcome="passed",
                                          seconds=float(n + 1))])
        (tmp_path / run.run_id).mkdir()
        write_reports(run, tmp_path / run.run_id)
    (tmp_path / "20261203-000099-bad0").mkdir()
    (tmp_path / "20261203-000099-bad0" / "results.json").write_text("{not json")
    runs = history()
    assert [r.run_id for r in runs] == [f"20261203-0000{n:02d}-abcd" for n in range(3, 12)]
    assert durations(runs) == {("a", "debian-12"): 12.0}

"""A cell and its folder travel from an xdist worker to the controller as one parcel (over
execnet: the tests pass it through execnet's own serializer), and arrive whole; a parcel that
is not one, or that would write outside the cell's folder, is refused and nothing is written."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import execnet
import pytest

from harness.errors import ConfigError, ConfigErrors
from harness.report.parcel import pack_cell, receive_cell, unpack_cell
from harness.report.results import CellResult, RunResult, StepRecord, results_text

SECRET = "sig=AbCdEf0123456789%2B%2F"


def worker_run() -> tuple[RunResult, CellResult]:
    cell = CellResult(scenario="tar-golang", image="debian-12", outcome="failed",
                      message=f"step 2: expect: download of https://x/y?{SECRET} failed",
                      artifacts="cells/tar-golang-debian-12", accel="tcg",
                      origin="run r1 on worker-host, xdist worker gw0",
                      steps=[StepRecord(index=0, kind="deploy", title="deploy", line=3)],
                      status_files=["status/1.status"])
    run = RunResult(run_id="r1", started="2026-12-03T00:00:00Z", accel="tcg",
                    accel_reason="TCG requested", host={"hostname": "worker-host"})
    run.cells.append(CellResult(scenario="earlier", image="debian-12"))  # not sent again
    return run, cell


def cell_folder(report_dir: Path) -> Path:
    folder = report_dir / "cells" / "tar-golang-debian-12"
    (folder / "status").mkdir(parents=True)
    (folder / "agent.log").write_text("agent started\n")
    (folder / "status" / "1.status").write_text('[{"status": {"status": "error"}}]')
    (folder / "guest-files.tar.gz").write_bytes(bytes(range(256)) * 40)  # binary
    return folder


def over_execnet(parcel: dict[str, Any]) -> Any:
    return execnet.loads(execnet.dumps(parcel))


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_cell_and_its_folder_arrive_whole(tmp_path: Path) -> None:
    run, cell = worker_run()
    sent = cell_folder(tmp_path / "worker")
    parcel = over_execnet(pack_cell(run, cell, tmp_path / "worker"))
    got_run, got = unpack_cell(parcel, tmp_path / "controller", "gw0")
    assert (got_run.accel, got_run.accel_reason, got_run.host) == (
        "tcg", "TCG requested", {"hostname": "worker-host"})
    assert got_run.cells == [got]
    assert got.message.replace("REDACTED", SECRET.removeprefix("sig=")) == cell.message
    assert (got.cell_id, got.outcome, got.origin, got.steps, got.status_files) == (
        cell.cell_id, cell.outcome, cell.origin, cell.steps, cell.status_files)
    arrived = tmp_path / "controller" / got.artifacts
    assert files_under(arrived) == files_under(sent)
    assert sorted(p.name for p in (tmp_path / "controller").iterdir()) == ["cells"]


def test_no_secret_travels(tmp_path: Path) -> None:
    run, cell = worker_run()
    parcel = pack_cell(run, cell, tmp_path)
    assert SECRET not in parcel["results"] and "sig=REDACTED" in parcel["results"]


def test_a_cell_without_a_folder_travels_alone(tmp_path: Path) -> None:
    run, _ = worker_run()
    cell = CellResult(scenario="a", image="debian-12", outcome="error", message="no libvirt")
    _, got = unpack_cell(over_execnet(pack_cell(run, cell, tmp_path / "w")), tmp_path / "c",
                         "gw1")
    assert (got.outcome, got.message) == ("error", "no libvirt")
    assert not (tmp_path / "c").exists()


def test_an_arriving_folder_replaces_one_of_the_same_name(tmp_path: Path) -> None:
    run, cell = worker_run()
    cell_folder(tmp_path / "worker")
    stale = cell_folder(tmp_path / "controller") / "from-an-earlier-try.txt"
    stale.write_text("old")
    unpack_cell(pack_cell(run, cell, tmp_path / "worker"), tmp_path / "controller", "gw0")
    assert not stale.exists() and (stale.parent / "agent.log").is_file()


def tar_of(*members: tarfile.TarInfo) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    return out.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size = kind, target, 1 if kind == tarfile.REGTYPE else 0
    return info


def good_parcel(tmp_path: Path) -> dict[str, Any]:
    run, cell = worker_run()
    return pack_cell(run, cell, tmp_path / "nothing-here")


@pytest.mark.parametrize(("change", "problem"), [
    (lambda p: "not a dict", "not a cell parcel of version 1"),
    (lambda p: {**p, "parcel": 2}, "not a cell parcel of version 1"),
    (lambda p: {**p, "files": "text"}, "files: must be bytes"),
    (lambda p: {**p, "results": "{"}, "cannot read results"),
    (lambda p: {**p, "results": results_text(RunResult(run_id="r", started="", cells=[
        CellResult(scenario="a", image="i"), CellResult(scenario="b", image="i")]))},
     "a parcel holds one cell, not 2"),
    (lambda p: {**p, "results": results_text(RunResult(run_id="r", started=""))},
     "a parcel holds one cell, not 0"),
    (lambda p: {**p, "results": p["results"].replace('"cells/tar-golang-debian-12"',
                                                     '"cells/../../etc"')},
     "'cells/../../etc' is not a cell folder"),
    (lambda p: {**p, "files": b"not gzip"}, "cannot unpack the cell's files"),
    (lambda p: {**p, "files": tar_of(member("cells/tar-golang-debian-12/ok"),
                                     member("results.json"))},
     "not plain files in the cell's folder: results.json"),
    (lambda p: {**p, "files": tar_of(member("cells/tar-golang-debian-12/../../../x"))},
     "not plain files in the cell's folder"),
    (lambda p: {**p, "files": tar_of(member("/etc/cron.d/x"))},
     "not plain files in the cell's folder: /etc/cron.d/x"),
    (lambda p: {**p, "files": tar_of(member("cells/tar-golang-debian-12/l", tarfile.SYMTYPE,
                                            "/etc/shadow"))},
     "not plain files in the cell's folder: cells/tar-golang-debian-12/l"),
])
def test_what_is_not_a_parcel_is_refused_and_nothing_written(
        tmp_path: Path, change: Any, problem: str) -> None:
    parcel = good_parcel(tmp_path)
    with pytest.raises((ConfigError, ConfigErrors)) as refused:
        unpack_cell(change(parcel), tmp_path / "controller", "t.yaml::t[debian-12] from gw3")
    assert problem in str(refused.value) and "from gw3" in str(refused.value)
    assert not (tmp_path / "controller").exists()


def test_results_that_fail_the_schema_are_refused_field_by_field(tmp_path: Path) -> None:
    parcel = good_parcel(tmp_path)
    parcel["results"] = parcel["results"].replace('"outcome": "failed"', '"outcome": "meh"')
    with pytest.raises(ConfigErrors) as refused:
        unpack_cell(parcel, tmp_path, "gw0")
    assert str(refused.value) == ('gw0 cells[0].outcome: must be one of "passed", "failed", '
                                  '"error", "skipped", got "meh"')


def test_an_unreadable_parcel_becomes_an_error_cell_that_says_why(tmp_path: Path) -> None:
    facts, cell = receive_cell({"parcel": 99}, tmp_path, "tar-golang[debian-13]", "from gw0")
    assert facts is None
    assert (cell.cell_id, cell.outcome) == ("tar-golang[debian-13]", "error")
    assert cell.message.startswith("the worker's cell could not be read: from gw0: not a cell")


def test_a_readable_parcel_is_received_as_it_is_unpacked(tmp_path: Path) -> None:
    run, cell = worker_run()
    facts, got = receive_cell(pack_cell(run, cell, tmp_path), tmp_path, "x[y]", "gw0")
    assert facts is not None and got.cell_id == "tar-golang[debian-12]"

"""results.json round trip, JUnit XML structure and the HTML matrix, from one realistic run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.report.html import write_html
from harness.report.junit import write_junit
from harness.report.results import (
    SCHEMA_VERSION,
    Attempt,
    CellResult,
    CommandRecord,
    RunResult,
    StepRecord,
    read_results,
    write_results,
)


def make_run() -> RunResult:
    install_ok = CommandRecord(app="go_linux", version="1.0.0", operation="install",
                               command="tar -C /usr/local -xzf go_linux", exit_code=0,
                               result="SUCCESS", stdout="", stderr="")
    install_bad = CommandRecord(app="brokenapp", version="1.0.0", operation="install",
                                command="exit 7", exit_code=7, result="FAILED",
                                stdout="unpacking",
                                stderr="<script>alert(1)</script> cannot unpack",
                                rebooted=True)
    passed = CellResult(
        scenario="tar-golang", image="debian-12", outcome="passed", seconds=61.2,
        description="tar package", file="scenarios/tar-golang.yaml", markers=["demo"],
        steps=[StepRecord(index=0, kind="deploy", title="deploy go_linux@1.0.0", line=17,
                          seconds=20.5, commands=[install_ok], extension_status="success",
                          boot_ids=["b1"]),
               StepRecord(index=1, kind="expect", title="expect", line=19,
                          expected=["file /usr/local/go: exists = True"],
                          actual=["file /usr/local/go: exists = True"])],
        artifacts="cells/tar-golang-debian-12", vm="vmapp-run1-tar", accel="tcg",
        image_key="abc123", image_version="2026.1203.64347",
        image_reference="/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/galleries/"
                        "g/images/debian-12/versions/latest", agent_version="1.0.9",
        packages={"go_linux@1.0.0": "sha256:aa"},
        timings={"publish": 1.2, "boot": 33.4, "ready": 5.0, "steps": 20.5, "destroy": 2.0})
    failed = CellResult(
        scenario="broken-install", image="debian-12", outcome="failed",
        message="expected brokenapp: result='Install SUCCESS'", seconds=40.0,
        file="tests/integration/scenarios/broken-install.yaml",
        steps=[StepRecord(index=0, kind="deploy", title="deploy brokenapp@1.0.0", line=14,
                          commands=[install_bad]),
               StepRecord(index=1, kind="expect", title="expect", line=16, outcome="failed",
                          failures=["brokenapp: result='Install SUCCESS', got result='FAILED'"],
                          detail="see the agent log")],
        kept=True, login="vmapp ssh run1/broken-install[debian-12]")
    error = CellResult(
        scenario="tar-golang", image="debian-13", outcome="error",
        message="boot [vmapp-x]: timed out", seconds=300.0,
        retries=[Attempt(error="ssh: refused", stage="ssh", seconds=120.0)])
    skipped = CellResult(scenario="broken-install", image="debian-13", outcome="skipped",
                         message="image not built")
    return RunResult(run_id="20261122-000000-abcd", started="2026-11-22T00:00:00Z",
                     finished="2026-11-22T00:10:00Z", seconds=600.0, accel="tcg",
                     accel_reason="no /dev/kvm", cells=[passed, failed, error, skipped],
                     host={"kernel": "6.1"})


def test_counts_and_ok() -> None:
    run = make_run()
    assert run.counts() == {"passed": 1, "failed": 1, "error": 1, "skipped": 1}
    assert not run.ok
    assert RunResult(run_id="r", started="s", cells=[make_run().cells[0]]).ok
    assert run.cells[1].cell_id == "broken-install[debian-12]"


def test_results_round_trip(tmp_path: Path) -> None:
    run = make_run()
    path = write_results(run, tmp_path)
    assert path == tmp_path / "results.json"
    raw = json.loads(path.read_text())
    assert raw["schemaVersion"] == SCHEMA_VERSION
    assert raw["cells"][1]["steps"][0]["commands"][0]["exit_code"] == 7
    assert read_results(path) == run


def test_results_of_another_schema_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({**make_run().to_json(), "schemaVersion": 99}))
    with pytest.raises(ConfigError) as caught:
        read_results(path)
    assert str(caught.value) == (f"{path}: cannot read results: not a results file of schema "
                                 "version 1")


def junit(tmp_path: Path) -> ET.Element:
    return ET.parse(write_junit(make_run(), tmp_path / "junit.xml")).getroot()


def test_junit_counts(tmp_path: Path) -> None:
    root = junit(tmp_path)
    assert root.tag == "testsuites"
    expected = {"tests": "4", "failures": "1", "errors": "1", "time": "600.0"}
    assert root.attrib == {"name": "vmapp-harness", **expected}  # junit-10.xsd: no skipped
    (suite,) = root
    assert suite.get("name") == "vmapp run 20261122-000000-abcd"
    assert suite.get("timestamp") == "2026-11-22T00:00:00Z"
    assert {k: suite.get(k) for k in expected} == expected
    assert suite.get("skipped") == "1"
    props = {p.get("name"): p.get("value") for p in suite.findall("./properties/property")}
    assert props == {"run_id": "20261122-000000-abcd", "accel": "tcg",
                     "accel_reason": "no /dev/kvm", "interrupted": "False"}


def test_junit_cases_failure_error_skipped(tmp_path: Path) -> None:
    cases = junit(tmp_path).findall("./testsuite/testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("scenarios.tar-golang.yaml", "tar-golang[debian-12]"),
        ("tests.integration.scenarios.broken-install.yaml", "broken-install[debian-12]"),
        ("tar-golang", "tar-golang[debian-13]"),  # no file known: the scenario's name
        ("broken-install", "broken-install[debian-13]")]
    outcomes = [[child.tag for child in c if child.tag != "system-out"] for c in cases]
    assert outcomes == [[], ["failure"], ["error"], ["skipped"]]
    failure = cases[1].find("failure")
    assert failure is not None
    assert (failure.get("type"), failure.get("message")) == (
        "ProductFailure", "expected brokenapp: result='Install SUCCESS'")
    assert (failure.text or "").splitlines() == [
        "[PASSED ] step 1: deploy brokenapp@1.0.0 (line 14)",
        "    brokenapp@1.0.0 install: `exit 7` exit 7: <script>alert(1)</script> cannot unpack",
        "[FAILED ] step 2: expect (line 16)",
        "    expected brokenapp: result='Install SUCCESS', got result='FAILED'",
        "    see the agent log"]
    error = cases[2].find("error")
    assert error is not None
    assert (error.get("type"), error.get("message")) == ("InfrastructureError",
                                                         "boot [vmapp-x]: timed out")
    skipped = cases[3].find("skipped")
    assert skipped is not None and skipped.get("message") == "image not built"
    assert cases[0].attrib == {"classname": "scenarios.tar-golang.yaml",
                               "name": "tar-golang[debian-12]", "time": "61.2"}


def test_junit_cell_details_in_system_out(tmp_path: Path) -> None:
    cases = junit(tmp_path).findall("./testsuite/testcase")
    assert (cases[0].findtext("system-out") or "").splitlines()[-6:] == [
        "file: scenarios/tar-golang.yaml",
        "image: debian-12 (key abc123), accel tcg, agent 1.0.9, VM vmapp-run1-tar",
        "image version: 2026.1203.64347 (the VM asked for /subscriptions/s/resourceGroups/r/"
        "providers/Microsoft.Compute/galleries/g/images/debian-12/versions/latest)",
        "artifacts: cells/tar-golang-debian-12",
        "package go_linux@1.0.0: sha256:aa",
        "time: publish 1.2s, boot 33.4s, ready 5.0s, steps 20.5s, destroy 2.0s"]
    assert (cases[2].findtext("system-out") or "").endswith(
        "retried after infrastructure error(s): ssh: refused")
    assert (cases[1].findtext("system-out") or "").endswith(
        "VM kept: vmapp ssh run1/broken-install[debian-12]")


class Cells(HTMLParser):
    """Collects the matrix cells (td.state) and the text of elements with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.ids: dict[str, str] = {}
        self.open_id: str | None = None
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts += 1
        if tag == "td" and "state" in (found.get("class") or "").split():
            self.cells.append(found)
        if tag in ("span", "b") and found.get("id"):
            self.open_id = found["id"]
            self.ids[self.open_id] = ""

    def handle_data(self, data: str) -> None:
        if self.open_id:
            self.ids[self.open_id] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("span", "b"):
            self.open_id = None


def test_html_matrix_shows_every_state(tmp_path: Path) -> None:
    path = write_html(make_run(), tmp_path / "index.html")
    text = path.read_text()
    parser = Cells()
    parser.feed(text)
    assert [(c.get("data-cell"), c.get("data-outcome")) for c in parser.cells] == [
        ("tar-golang[debian-12]", "passed"), ("tar-golang[debian-13]", "error"),
        ("broken-install[debian-12]", "failed"), ("broken-install[debian-13]", "skipped")]
    assert [c.get("class") for c in parser.cells] == [
        "state passed", "state error", "state failed", "state skipped"]
    assert parser.ids == {"accel": "tcg", "counts": "1 passed, 1 failed, 1 error, 1 skipped"}
    assert parser.scripts == 0  # stderr is escaped, not executed
    assert "&lt;script&gt;alert(1)&lt;/script&gt; cannot unpack" in text
    assert 'id="broken-install[debian-12]" open' in text
    assert "(retried)" in text
    assert "vmapp ssh run1/broken-install[debian-12]" in text


def test_html_marks_missing_cells(tmp_path: Path) -> None:
    run = make_run()
    run.cells = run.cells[:3]
    parser = Cells()
    parser.feed(write_html(run, tmp_path / "index.html").read_text())
    assert [c.get("class") for c in parser.cells] == [
        "state passed", "state error", "state failed", "state missing"]


def test_html_of_a_run_still_going_says_so(tmp_path: Path) -> None:
    run = make_run()
    assert 'id="in-progress"' not in write_html(run, tmp_path / "done.html").read_text()
    run.finished, run.cells = "", run.cells[:2]
    text = write_html(run, tmp_path / "going.html").read_text()
    assert '<b id="in-progress">in progress</b> (2 cell(s) done so far)' in text


def test_html_shows_where_a_cells_time_went(tmp_path: Path) -> None:
    text = write_html(make_run(), tmp_path / "index.html").read_text()
    assert ('time: publish 1 s &middot; boot 33 s &middot; ready 5 s &middot; steps 20 s '
            '&middot; destroy 2 s') in text


def test_html_of_an_interrupted_run_says_so(tmp_path: Path) -> None:
    run = make_run()
    run.interrupted, run.cells = True, run.cells[:1]
    text = write_html(run, tmp_path / "index.html").read_text()
    assert '<b id="interrupted">interrupted</b> after 1 cell(s), 600 s' in text


def test_html_counts_then_failures_first(tmp_path: Path) -> None:
    """The counts open the page (before the acceleration's long reason), then a list of what
    failed or errored, failures first, each linking to its cell, then the matrix."""
    run = make_run()
    run.accel_reason = "qemu: " + "long message " * 50
    text = write_html(run, tmp_path / "index.html").read_text()
    body = text.split("<body>", 1)[1]
    order = [body.index(marker) for marker in (
        'id="counts"', 'id="accel"', 'id="failures"', 'id="matrix"', '<details class="cell"')]
    assert order == sorted(order)
    failures = body.split('id="failures"', 1)[1].split("</section>", 1)[0]
    assert failures.count("<li") == 2
    assert failures.index('data-cell="broken-install[debian-12]"') < failures.index(
        'data-cell="tar-golang[debian-13]"')
    assert '<a href="#broken-install[debian-12]">' in failures
    assert ": boot [vmapp-x]: timed out</li>" in failures


def test_html_without_failures_has_no_failures_list(tmp_path: Path) -> None:
    run = make_run()
    run.cells = [run.cells[0]]
    assert 'id="failures"' not in write_html(run, tmp_path / "index.html").read_text()


def test_odd_characters_reach_every_report_whole(tmp_path: Path) -> None:
    """A lone surrogate from a scenario's description and terminal colours or NULs in a
    command's output: every file is written, and junit.xml stays well-formed."""
    run = make_run()
    run.cells[0].description = "half a pair: \ud800"
    run.cells[1].steps[0].commands[0].stderr = "\x1b[31mred\x1b[0m \x00 done"
    run.cells[1].message = "bell \x07"
    (tmp_path / "index.html").write_text("previous")
    assert read_results(write_results(run, tmp_path)).cells[0].description == "half a pair: \ud800"
    assert "half a pair: \\ud800" in write_html(run, tmp_path / "index.html").read_text()
    cases = ET.parse(write_junit(run, tmp_path / "junit.xml")).getroot().iter("testcase")
    failure = next(c for c in cases if c.find("failure") is not None).find("failure")
    assert failure is not None and failure.get("message") == "bell \\x07"
    assert "\\x1b[31mred\\x1b[0m \\x00 done" in (failure.text or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html", "junit.xml",
                                                          "results.json"]  # no .part left


def test_a_stand_in_image_says_so_in_junit_names_and_html_columns(tmp_path: Path) -> None:
    reason = "unsupported on stand-in: PowerShell (wine's powershell.exe is a stub)"
    run = RunResult(run_id="r1", started="2026-12-03T00:00:00Z", cells=[
        CellResult(scenario="win-zip", image="windows-wine", outcome="skipped", message=reason),
        CellResult(scenario="tar-golang", image="debian-12")])
    [standin, linux] = ET.parse(write_junit(run, tmp_path / "junit.xml")).getroot().iter(
        "testcase")
    assert (standin.get("name"), linux.get("name")) == (
        "win-zip[windows-wine (wine stand-in)]", "tar-golang[debian-12]")
    assert [s.get("message") for s in standin.iter("skipped")] == [reason]
    html = write_html(run, tmp_path / "index.html").read_text()
    assert "<th>windows-wine (wine stand-in)</th>" in html and "<th>debian-12</th>" in html
    assert run.cells[0].cell_id == "win-zip[windows-wine]"  # what commands take stays the same

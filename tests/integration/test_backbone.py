"""The backbone: scenarios from YAML to verdict on real VMs, told apart as pass, failure, error.

One run covers a passing scenario (the seeds' tar example), a broken install command (a product
failure, with its exit code and stderr in every report) and an impossible readiness deadline
(an infrastructure error, retried once in a fresh VM).  The HTML report is then opened in a real
headless browser.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.report.results import CellResult, RunResult
from tests.browser import rendered_dom, screenshot
from tests.integration.conftest import RunScenarios
from tests.unit.report.test_report_secrets import LEAKS, report_files


@pytest.fixture(scope="module")
def matrix_run(request: pytest.FixtureRequest) -> tuple[RunResult, Path]:
    run_scenarios: RunScenarios = request.getfixturevalue("run_scenarios_module")
    return run_scenarios("scenarios/tar-golang.yaml",
                         "tests/integration/scenarios/broken-install.yaml",
                         "tests/integration/scenarios/boot-timeout.yaml")


def _cell(run: RunResult, scenario: str) -> CellResult:
    return next(c for c in run.cells if c.scenario == scenario)


def test_tar_scenario_passes_on_a_real_vm(matrix_run: tuple[RunResult, Path]) -> None:
    run, folder = matrix_run
    cell = _cell(run, "tar-golang")
    assert (cell.cell_id, cell.outcome) == ("tar-golang[debian-12]", "passed"), cell.message
    assert run.accel in ("tcg", "kvm") and run.accel_reason
    install = cell.steps[0].commands[0]
    assert (install.operation, install.command, install.exit_code) == (
        "install", "tar -C /usr/local -xzf go_linux", 0)
    assert cell.steps[2].commands[0].command == "rm -rf /usr/local/go"
    assert cell.steps[1].expected and not cell.steps[1].failures
    cell_dir = folder / cell.artifacts
    assert "Install SUCCESS" in (cell_dir / "agent.log").read_text()
    if cell.machine == "booted":  # a warm machine's console holds only the cell's own time
        assert "vmapp-guest login" in (cell_dir / "console.log").read_text()
    assert (cell_dir / "console.log").is_file()
    assert (cell_dir / "guest-files.tar.gz").stat().st_size > 0
    assert {"status/1.status", "status/2.status", "status/applicationRegistry.active"} <= set(
        cell.status_files)
    last = json.loads((cell_dir / "status" / "2.status").read_text())
    assert last[0]["status"]["status"] == "success"
    assert 'href="cells/tar-golang-debian-12/status/2.status"' in (
        folder / "index.html").read_text()
    assert (folder.parent / "latest").resolve() == folder


def test_broken_install_is_a_product_failure_with_exit_code_and_stderr(
        matrix_run: tuple[RunResult, Path]) -> None:
    run, _ = matrix_run
    cell = _cell(run, "broken-install")
    assert cell.outcome == "failed", cell.message
    assert not cell.retries, "a product failure must not be retried"
    install = cell.steps[0].commands[0]
    assert install.exit_code == 7
    assert "brokenapp: cannot unpack archive" in install.stderr
    assert "unpacking brokenapp" in install.stdout
    assert "exit status=7" in cell.message
    assert "broken-install.yaml:16" in cell.message


def test_impossible_readiness_is_an_infrastructure_error_retried_once(
        matrix_run: tuple[RunResult, Path]) -> None:
    run, _ = matrix_run
    cell = _cell(run, "boot-timeout")
    assert cell.outcome == "error", cell.message
    assert len(cell.retries) == 1 and cell.retries[0].stage == "vagrant up"
    assert "vagrant up" in cell.message


def test_junit_tells_failure_from_error(matrix_run: tuple[RunResult, Path]) -> None:
    _, folder = matrix_run
    cases = {c.get("name"): c for c in ET.parse(folder / "junit.xml").getroot().iter("testcase")}
    passed = cases["tar-golang[debian-12]"]
    assert passed.find("failure") is None and passed.find("error") is None
    failure = cases["broken-install[debian-12]"].find("failure")
    assert failure is not None and failure.get("type") == "ProductFailure"
    assert "exit 7" in (failure.text or "") and "cannot unpack archive" in (failure.text or "")
    error = cases["boot-timeout[debian-12]"].find("error")
    assert error is not None and error.get("type") == "InfrastructureError"
    assert passed.get("classname") == "scenarios.tar-golang.yaml"  # as the pytest route names it
    assert re.search(r"^image: debian-12 \(key \w+\), accel (kvm|tcg), agent \S+, VM vmapp-",
                     passed.findtext("system-out") or "", re.M)
    results = json.loads((folder / "results.json").read_text())
    assert [c["outcome"] for c in results["cells"]] == ["passed", "failed", "error"]


def test_no_secret_in_a_real_report(matrix_run: tuple[RunResult, Path]) -> None:
    """Every file of the run's report folder, the guest tarball's members included: the
    packages were published with SAS links, none of their signatures is left."""
    _, folder = matrix_run
    files = report_files(folder)
    assert any(name.endswith(".settings") for name in files)  # the agent's copy of the links
    assert {name: LEAKS.findall(data) for name, data in files.items() if LEAKS.search(data)} == {}


def test_html_matrix_in_a_real_browser(matrix_run: tuple[RunResult, Path],
                                       tmp_path: Path) -> None:
    _, folder = matrix_run
    dom = rendered_dom(folder / "index.html")
    states = dict(re.findall(r'data-cell="([^"]+)" data-outcome="([a-z]+)"', dom))
    assert states == {"tar-golang[debian-12]": "passed", "broken-install[debian-12]": "failed",
                      "boot-timeout[debian-12]": "error"}
    assert "brokenapp: cannot unpack archive" in dom and "retried after infrastructure" in dom
    shot = screenshot(folder / "index.html", tmp_path / "report.png")
    assert shot.stat().st_size > 10_000

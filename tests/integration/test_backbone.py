"""The backbone: a real scenario from YAML to verdict on a real VM, and a broken one."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.integration.conftest import RunScenarios


def test_tar_scenario_passes_on_a_real_vm(run_scenarios: RunScenarios) -> None:
    run, folder = run_scenarios("scenarios/tar-golang.yaml")
    cell = run.cells[0]
    assert (cell.cell_id, cell.outcome) == ("tar-golang[debian-12]", "passed"), cell.message
    assert run.accel in ("tcg", "kvm")
    install = cell.steps[0].commands[0]
    assert (install.operation, install.command, install.exit_code) == (
        "install", "tar -C /usr/local -xzf go_linux", 0)
    assert cell.steps[2].commands[0].command == "rm -rf /usr/local/go"
    results = json.loads((folder / "results.json").read_text())
    assert results["cells"][0]["outcome"] == "passed"
    case = ET.parse(folder / "junit.xml").getroot().find(".//testcase")
    assert case is not None and case.get("name") == "tar-golang[debian-12]"
    cell_dir = folder / cell.artifacts
    assert "Install SUCCESS" in (cell_dir / "agent.log").read_text()
    assert "vmapp-guest login" in (cell_dir / "console.log").read_text()
    assert (folder.parent / "latest").resolve() == folder


def test_broken_install_is_a_product_failure_with_exit_code_and_stderr(
        run_scenarios: RunScenarios) -> None:
    run, folder = run_scenarios("tests/integration/scenarios/broken-install.yaml")
    cell = run.cells[0]
    assert cell.outcome == "failed", cell.message
    assert not cell.retries, "a product failure must not be retried"
    install = cell.steps[0].commands[0]
    assert install.exit_code == 7
    assert "brokenapp: cannot unpack archive" in install.stderr
    assert "unpacking brokenapp" in install.stdout
    assert "exit status=7" in cell.message
    failure = ET.parse(folder / "junit.xml").getroot().find(".//testcase/failure")
    assert failure is not None and "exit 7" in (failure.text or "")
    assert "brokenapp: cannot unpack archive" in (failure.text or "")
    html = (folder / "index.html").read_text()
    assert "exit 7" in html and "brokenapp: cannot unpack archive" in html

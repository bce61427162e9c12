"""Scenarios as pytest items: `pytest -n 2 scenarios/...` (pytest-xdist) spreads the cells over
two workers with VMs of their own, names items `scenario[image]`, prints the step table for a
failure, and writes JUnit plus one report of the harness's own for the whole session."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.settings import REPO_ROOT, state_dir
from tests.integration.conftest import leftovers, record_booted


def test_pytest_runs_scenarios_as_items(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", f"--junitxml={junit}",
         "-n", "2",
         "--vmapp-image", "debian-12",
         "scenarios/tar-golang.yaml", "scenarios/order-middle-failure.yaml",
         "tests/integration/scenarios/broken-install.yaml"],
        cwd=REPO_ROOT, text=True, capture_output=True, timeout=3600,
        env={**os.environ, "VMAPP_REPORTS_DIR": str(tmp_path / "reports")})
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "1 failed, 2 passed" in out
    assert "PASSED scenarios/tar-golang.yaml::tar-golang[debian-12]" in out
    assert "FAILED tests/integration/scenarios/broken-install.yaml::broken-install[debian-12]" \
        in out
    assert "[FAILED ] step 2: expect (line 16)" in out
    assert "exit 7: brokenapp: cannot unpack archive" in out
    assert "Traceback" not in out
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert cases["broken-install[debian-12]"].find("failure") is not None
    assert cases["tar-golang[debian-12]"].find("failure") is None
    assert (tmp_path / "reports" / "latest" / "index.html").is_file()
    assert "vmapp report: " in out
    run = record_booted(tmp_path / "reports" / "latest" / "results.json")
    assert [c.cell_id for c in run.cells] == [
        "tar-golang[debian-12]", "order-middle-failure[debian-12]", "broken-install[debian-12]"]
    assert {c.vm.split("-")[4] for c in run.cells} == {"w1", "w2"}  # both workers ran cells
    assert leftovers(run.run_id) == []
    assert not (state_dir() / "runs" / run.run_id).exists()  # its storage went with the session

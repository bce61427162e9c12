"""The pytest route on the wine stand-in (``--vmapp-machines local``, no VM): a cell the
stand-in refuses is a pytest *skip* carrying the reason, never a pass, and the JUnit name
says "wine stand-in"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

from harness.settings import REPO_ROOT

REASON = ("unsupported on stand-in: PowerShell (wine's powershell.exe is a stub that exits 0 "
          "and does nothing)")


def test_a_refused_cell_is_a_skip_with_its_reason(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "scenarios", tmp_path / "scenarios")
    env = dict(os.environ, VMAPP_REPORTS_DIR=str(tmp_path / "reports"),
               VMAPP_STATE_DIR=str(tmp_path / "state"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs",
                           "--vmapp-machines", "local", "--vmapp-retries", "0",
                           "scenarios/win-zip-powershell.yaml"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout and "passed" not in done.stdout.splitlines()[-1]
    [line] = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED [1] ")]
    assert line.endswith(f": {REASON}")
    junit = tmp_path / "reports" / "latest" / "junit.xml"
    [case] = ET.parse(junit).getroot().iter("testcase")
    assert case.get("name") == "win-zip-powershell[windows-wine (wine stand-in)]"
    [skipped] = case.iter("skipped")
    assert skipped.get("message") == REASON

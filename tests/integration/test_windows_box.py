"""A user's own Windows box, end to end: the Windows scenarios of the library on it, through
the same runner as `vmapp run`.  NEVER RUN WHERE THE HARNESS IS DEVELOPED (no Windows can be had
there): it runs only where ``VMAPP_WINDOWS_IMAGE`` names a ``guest: windows`` recipe in images/
(docs/windows.md, "A real Windows box"), its password variable set:

    VMAPP_WINDOWS_IMAGE=windows-box VMAPP_WINDOWS_PASSWORD=... \\
        .venv/bin/pytest tests/integration/test_windows_box.py
"""

from __future__ import annotations

import os

import pytest

from harness.images.recipe import find_recipe
from tests.integration.conftest import RunScenarios

IMAGE = os.environ.get("VMAPP_WINDOWS_IMAGE", "")
# Installed and removed by Windows itself: an MSI (msiexec) and the seeds' exe pattern (NSIS).
SCENARIOS = ["scenarios/win-msi.yaml", "scenarios/win-exe.yaml"]

pytestmark = pytest.mark.skipif(not IMAGE, reason="set VMAPP_WINDOWS_IMAGE to a guest: windows "
                                "recipe of images/ to run this on your Windows box")


def test_windows_scenarios_pass_on_the_user_s_box(run_scenarios: RunScenarios) -> None:
    assert find_recipe(IMAGE).guest == "windows", f"{IMAGE} is not a user's Windows box"
    run, folder = run_scenarios(*SCENARIOS, images=[IMAGE], workers=1)
    bad = {c.cell_id: c.message for c in run.cells if c.outcome != "passed"}
    assert not bad, f"{bad} (report: {folder})"
    assert len(run.cells) == len(SCENARIOS)

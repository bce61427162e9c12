"""A stopped run ends its running cells at once: a cell whose machine was destroyed under it
does not wait out its deadline trying to reconnect (seen: a SIGTERMed run's worker kept going)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from harness.report.results import CellResult
from harness.runner.cell import run_cell
from harness.runner.pool import MachinePool
from harness.scenario.load import load_scenario
from harness.storage.azurite import Azurite
from tests.unit.runner.local_run import local_context

SCENARIO = """\
description: an install that takes ten minutes
images: [debian-12]
gallery:
  applications:
    slow:
      versions:
        1.0.0:
          package: {content: "slow"}
          install: touch /var/tmp/slow-started && sleep 600
          remove: "true"
steps:
  - deploy:
      - {app: slow, version: 1.0.0}
"""


def test_a_cell_ends_when_the_run_stops_its_machine(tmp_path: Path) -> None:
    (tmp_path / "slow.yaml").write_text(SCENARIO)
    scenario = load_scenario(tmp_path / "slow.yaml")
    with Azurite(tmp_path / "azurite") as azurite:
        ctx = local_context(tmp_path / "local", azurite, "stop")
        pool = MachinePool(ctx.provider, tmp_path / "machines", "vmapp-stop-w1")
        results: list[CellResult] = []
        cell = threading.Thread(target=lambda: results.append(
            run_cell(ctx, pool, scenario, "debian-12")))
        cell.start()
        deadline = time.monotonic() + 120
        while not any((m.folder / "upper/var/tmp/slow-started").exists()
                      for m in pool.leased.values()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert pool.leased, "the cell never got its machine"
        pool.stop()
        cell.join(timeout=120)  # without the fix: until the apply deadline, tens of minutes
        assert not cell.is_alive()
    assert results[0].outcome == "error"
    assert "destroyed" in results[0].message

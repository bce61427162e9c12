"""An engineer's reproduction from a folder outside the repository: the scenario file and a real
.deb downloaded from the Debian archive beside it (`package: {file: ...}`), on a real VM."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.integration.conftest import RunScenarios

SCENARIO = """\
description: the archive's own hello .deb, kept beside this file, installs and runs
images: [debian-12]
gallery:
  applications:
    hello:
      versions:
        2.10.0:
          package: {file: downloads/DEB}
          install: dpkg -i hello
          remove: dpkg -r hello
steps:
  - deploy:
      - {app: hello, version: 2.10.0}
  - expect:
      applications:
        hello: {result: Install SUCCESS}
      checks:
        - {package: hello, installed: true}
        - {command: "hello", stdout_contains: "Hello, world!"}
"""


def test_a_scenario_outside_the_repo_installs_a_downloaded_deb(
        tmp_path: Path, run_scenarios: RunScenarios) -> None:
    repro = tmp_path / "repro"
    downloads = repro / "downloads"
    downloads.mkdir(parents=True)
    subprocess.run(["apt-get", "download", "-q", "hello"], cwd=downloads, check=True,
                   capture_output=True)
    (deb,) = downloads.glob("hello_*.deb")
    (repro / "customer-bug.yaml").write_text(SCENARIO.replace("DEB", deb.name))
    run, _ = run_scenarios(str(repro / "customer-bug.yaml"), workers=1)
    (cell,) = run.cells
    assert cell.outcome == "passed", cell.message
    assert cell.packages["hello@2.10.0"].endswith(f"({deb.stat().st_size} bytes)")

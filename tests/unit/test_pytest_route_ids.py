"""The pytest route's item ids: `--lf` reruns only the cells that failed (pytest parses the ids
it stores, so an item's id must carry its "[image]" the same way), nothing booted here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from harness.settings import REPO_ROOT


def test_last_failed_selects_only_the_failed_cell(tmp_path: Path) -> None:
    shutil.copytree(REPO_ROOT / "scenarios", tmp_path / "scenarios")
    cache = tmp_path / ".pytest_cache" / "v" / "cache"
    cache.mkdir(parents=True)
    failed = "scenarios/zip-unzip.yaml::zip-unzip[debian-13]"
    (cache / "lastfailed").write_text(json.dumps({failed: True}))
    done = subprocess.run([sys.executable, "-m", "pytest", "--lf", "--collect-only", "-q",
                           "scenarios/"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    collected = [line for line in done.stdout.splitlines() if "::" in line]
    assert collected == [failed]

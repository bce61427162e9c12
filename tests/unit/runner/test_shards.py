"""Two shards run as separate processes (separate state folders, as on two hosts), merged with
`vmapp report --merge`, give the same cells and outcomes as one unsharded run of the same subset.
The cells run on local machines (the host's system in namespaces): the sharding, the runs and the
merge are real, only the VMs are left out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from harness.settings import REPO_ROOT

SUBSET = ["tar-golang", "order-increasing", "gallery-five-apps", "script-config"]
VMAPP = Path(sys.executable).with_name("vmapp")


def vmapp(*args: str, reports: Path, state: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VMAPP_REPORTS_DIR": str(reports), "VMAPP_STATE_DIR": str(state)}
    return subprocess.run([str(VMAPP), *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def outcomes(results: Path) -> dict[str, str]:
    data: dict[str, Any] = json.loads(results.read_text())
    return {c["scenario"] + "[" + c["image"] + "]": c["outcome"] for c in data["cells"]}


def test_two_shards_merged_equal_one_unsharded_run(tmp_path: Path) -> None:
    files = [f"scenarios/{name}.yaml" for name in SUBSET]
    run = ["run", "--machines", "local", "-j", "1", "--image", "debian-12", *files]
    whole = vmapp(*run, reports=tmp_path / "whole", state=tmp_path / "state-whole")
    assert whole.returncode == 0, whole.stdout + whole.stderr
    shards = tmp_path / "shards"
    for k in (1, 2):
        done = vmapp(*run, "--shard", f"{k}/2", reports=shards, state=tmp_path / f"state-{k}")
        assert done.returncode == 0, done.stdout + done.stderr
    runs = sorted(p.name for p in shards.iterdir() if p.name.startswith("2"))
    parts = [outcomes(shards / r / "results.json") for r in runs]
    assert len(parts) == 2 and all(parts) and not set(parts[0]) & set(parts[1])
    merged = vmapp("report", "--merge", *runs, reports=shards, state=tmp_path / "state-m")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    folder = next(p for p in shards.iterdir() if p.name.startswith("merged-"))
    assert outcomes(folder / "results.json") == outcomes(tmp_path / "whole" / "latest" /
                                                         "results.json")
    assert set(outcomes(folder / "results.json")) == {f"{n}[debian-12]" for n in SUBSET}
    origins = {c["origin"] for c in json.loads((folder / "results.json").read_text())["cells"]}
    assert {o.rsplit("shard ", 1)[-1] for o in origins} == {"1/2", "2/2"}  # who ran each cell
    assert all(o.startswith(("run 2", "run 1")) and " on " in o for o in origins)

"""The example nightly pipelines (examples/ci/) pass their format's schema, as the CI systems'
own linters would check them (check-jsonschema ships the GitHub and GitLab schemas)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.settings import REPO_ROOT

EXAMPLES = {"github-nightly.yml": "vendor.github-workflows",
            "gitlab-nightly.yml": "vendor.gitlab-ci"}


@pytest.mark.parametrize(("name", "schema"), sorted(EXAMPLES.items()))
def test_example_pipeline_is_valid(name: str, schema: str) -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run([str(checker), "--builtin-schema", schema,
                           str(REPO_ROOT / "examples" / "ci" / name)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_example_pipeline_is_checked() -> None:
    assert {p.name for p in (REPO_ROOT / "examples" / "ci").glob("*.yml")} == set(EXAMPLES)


def test_pipelines_run_one_shard_per_job_and_merge() -> None:
    for name in EXAMPLES:
        text = (REPO_ROOT / "examples" / "ci" / name).read_text()
        assert "vmapp run --shard" in text and "vmapp report --merge" in text

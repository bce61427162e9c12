"""Scenario tests: loading must never start a process (no VM, no package build)."""

from __future__ import annotations

import pytest

from harness import proc


@pytest.fixture
def no_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any process start raises SpawnForbidden, which would fail the test."""
    monkeypatch.setattr(proc, "ALLOW_SPAWN", False)

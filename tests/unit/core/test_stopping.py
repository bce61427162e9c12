"""A Ctrl-C that lands while Python runs a ``__del__`` method is swallowed; the stop it asked
for is raised again at the run's next cell, boot or step."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from harness import stopping
from harness.runner.run import _work
from harness.scenario.load import load_scenario
from harness.settings import REPO_ROOT
from tests.unit.runner.local_run import local_pool


@pytest.fixture
def handled() -> None:
    stopping.install()  # restored after the test (tests/unit/conftest.py)


class Collected:
    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        sum(range(10_000))  # the handler runs here, inside __del__


def test_a_stop_swallowed_by_a_finalizer_is_raised_at_the_next_check(
        handled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    swallowed: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", swallowed.append)
    collected = Collected()
    del collected  # no KeyboardInterrupt here: Python reports it as unraisable
    assert [type(u.exc_value) for u in swallowed] == [KeyboardInterrupt]
    with pytest.raises(KeyboardInterrupt, match="signal SIGINT"):
        stopping.check()


def test_no_stop_asked_for_checks_pass(handled: None) -> None:
    stopping.check()


def test_a_run_asked_to_stop_starts_no_further_cell(handled: None, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        stopping.handle(signal.SIGTERM, None)  # as if its raise had been lost
    finished: list[object] = []
    scenario = load_scenario(REPO_ROOT / "scenarios" / "tar-golang.yaml")
    with local_pool(tmp_path, "r1") as (ctx, _pool), \
            pytest.raises(KeyboardInterrupt, match="signal SIGTERM"):
        _work(ctx, 1, iter([(scenario, "debian-12")]), finished.append,
              lambda _m, _c: None, threading.Event(), [])
    assert finished == []

"""wait_until: returns the first truthy value, retries listed errors, times out naming the wait."""

from __future__ import annotations

import time

import pytest

from harness.errors import WaitTimeout
from harness.waiting import Deadline, wait_until


def test_returns_first_truthy_value() -> None:
    answers = iter([None, 0, "", "ready", "later"])
    assert wait_until(lambda: next(answers), stage="s", what="w", timeout=5,
                      interval=0.001) == "ready"
    assert next(answers) == "later"


def test_retries_listed_exceptions() -> None:
    calls = []

    def check() -> int:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionRefusedError("not yet")
        return 42

    assert wait_until(check, stage="s", what="w", timeout=5, interval=0.001,
                      retry_on=(ConnectionRefusedError,)) == 42
    assert len(calls) == 3


def test_other_exceptions_propagate_at_once() -> None:
    def check() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        wait_until(check, stage="s", what="w", timeout=5, retry_on=(OSError,))


def test_timeout_names_stage_check_vm_and_last_error() -> None:
    def check() -> None:
        raise OSError("refused")

    start = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        wait_until(check, stage="ssh", what="port 22", timeout=0.2, interval=0.05, vm="vm1",
                   retry_on=(OSError,))
    elapsed = time.monotonic() - start
    assert 0.2 <= elapsed < 2
    error = caught.value
    assert (error.stage, error.vm, error.check, error.seconds) == ("ssh", "vm1", "port 22", 0.2)
    assert str(error) == ("ssh: timed out after 0s waiting for port 22 "
                          "(last error: OSError: refused)")


def test_timeout_without_error() -> None:
    with pytest.raises(WaitTimeout) as caught:
        wait_until(lambda: False, stage="boot", what="a login prompt", timeout=0.05,
                   interval=0.01)
    assert caught.value.last_error == ""
    assert str(caught.value) == "boot: timed out after 0s waiting for a login prompt"


def test_check_runs_at_least_once_even_with_zero_timeout() -> None:
    assert wait_until(lambda: "now", stage="s", what="w", timeout=0) == "now"


def test_deadline() -> None:
    deadline = Deadline(10, start=time.monotonic() - 4)
    assert 5.5 < deadline.remaining() <= 6
    assert 4 <= deadline.elapsed() < 4.5
    assert not deadline.expired()
    past = Deadline(1, start=time.monotonic() - 5)
    assert past.expired()
    assert past.remaining() == 0.0
    assert past.expires == pytest.approx(past.start + 1)

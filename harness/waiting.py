"""The one wait helper: every wait in the project goes through :func:`wait_until`."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from harness.errors import WaitTimeout

T = TypeVar("T")


@dataclass
class Deadline:
    """A point in monotonic time; ``remaining()`` never goes below zero."""

    seconds: float
    start: float = field(default_factory=time.monotonic)

    @property
    def expires(self) -> float:
        return self.start + self.seconds

    def remaining(self) -> float:
        return max(0.0, self.expires - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.expires

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def wait_until(
    check: Callable[[], T | None],
    *,
    stage: str,
    what: str,
    timeout: float,
    interval: float = 0.5,
    vm: str = "",
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``check`` until it returns something truthy and return that value.

    Exceptions listed in ``retry_on`` count as "not yet" and the last one is reported if the
    deadline passes.  The timeout names ``what`` was awaited and the ``stage``.
    """
    deadline = Deadline(timeout)
    last_error = ""
    while True:
        try:
            value = check()
        except retry_on as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            if value:
                return value
        if deadline.expired():
            raise WaitTimeout(
                stage=stage, detail="", vm=vm, check=what, seconds=timeout, last_error=last_error
            )
        time.sleep(min(interval, max(deadline.remaining(), 0.01)))

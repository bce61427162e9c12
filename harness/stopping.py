"""Stop signals (Ctrl-C, SIGTERM, SIGHUP): a stop asked for, kept until the process ends, and
blocks they wait for.

Python swallows an exception raised while it runs a ``__del__`` method or a finalizer
("Exception ignored in ..."): a Ctrl-C or SIGTERM that lands while libvirt's, paramiko's or a
subprocess's objects are collected is lost (`make soak` saw a run go on booting after a SIGINT
1.8 s in).  So `vmapp run`'s handler records the request before it raises KeyboardInterrupt,
and :func:`check` raises it again where a run makes progress (before a cell, a boot, a step),
never in cleanup.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_requested: list[str] = []
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C; what CI sends on cancel


def handle(signum: int, _frame: FrameType | None) -> None:
    """The signal handler: the stop is recorded, then KeyboardInterrupt raised."""
    _requested.append(f"signal {signal.Signals(signum).name}")
    raise KeyboardInterrupt(_requested[0])


def install() -> None:
    """Make :func:`handle` the handler of every stop signal not ignored (main thread only)."""
    for signum in SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, handle)


def check() -> None:
    """Raise KeyboardInterrupt if a stop was asked for (even if its first raise was lost)."""
    if _requested:
        raise KeyboardInterrupt(_requested[0])


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait until the block is done, then arrive as they would
    have: a machine destroyed halfway is a leak (`make soak` saw a SIGINT leave a domain shut
    off but defined, and its disk).  Only the main thread receives signals; a signal ignored
    stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum, handler in held.items():
        if handler is not signal.SIG_IGN:
            signal.signal(signum, lambda number, _frame: caught.append(number))
    try:
        yield
    finally:
        for signum, handler in held.items():
            signal.signal(signum, handler)
        if caught:
            signal.raise_signal(caught[0])


def forget() -> None:
    """For tests: no stop asked for."""
    _requested.clear()

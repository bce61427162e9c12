"""Run one interface on N seeded inputs, in process, timing each one.

A *traceback* is any exception other than the clean refusal (``ConfigError``/``ConfigErrors``).
A *hang* is an input that took longer than ``slow`` seconds; one still running after ``stuck``
seconds is interrupted (KeyboardInterrupt from a watchdog thread) and counted as a hang too.
"""

from __future__ import annotations

import _thread
import random
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.fuzz.targets import CLEAN, TARGETS


@dataclass
class Finding:
    index: int
    kind: str  # "traceback" or "hang"
    case: Any
    detail: str


@dataclass
class Stats:
    interface: str
    inputs: int = 0
    refused: int = 0
    tracebacks: int = 0
    hangs: int = 0
    max_seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.interface:11} inputs {self.inputs:6}  refused {self.refused:6}  "
                f"tracebacks {self.tracebacks}  hangs {self.hangs}  "
                f"max seconds {self.max_seconds:.2f}")


class _Watchdog:
    """Interrupts the main thread when one input runs past ``stuck`` seconds."""

    def __init__(self, stuck: float) -> None:
        self.stuck, self.fired = stuck, False
        self.started: float | None = None
        self.stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        while not self.stop.wait(0.25):
            started = self.started
            if started is not None and time.monotonic() - started > self.stuck:
                self.fired, self.started = True, None
                _thread.interrupt_main()


def fuzz(interface: str, iterations: int, seed: int, *, slow: float = 2.0,
         stuck: float = 30.0) -> Stats:
    stats = Stats(interface)
    rng = random.Random(f"{interface}:{seed}")
    watchdog = _Watchdog(stuck)
    try:
        with tempfile.TemporaryDirectory(prefix=f"vmapp-fuzz-{interface}-") as tmp:
            target = TARGETS[interface](rng, Path(tmp))
            for index in range(iterations):
                case = target.make()
                watchdog.fired = False
                started = watchdog.started = time.monotonic()
                try:
                    target.feed(case)
                except CLEAN:
                    stats.refused += 1
                except KeyboardInterrupt:
                    if not watchdog.fired:
                        raise
                except BaseException as exc:  # every other exception is a finding
                    stats.tracebacks += 1
                    text = "".join(traceback.format_exception(exc))
                    stats.findings.append(Finding(index, "traceback", case, text[-3000:]))
                finally:
                    watchdog.started = None
                seconds = time.monotonic() - started
                stats.inputs += 1
                stats.max_seconds = max(stats.max_seconds, seconds)
                if seconds > slow or watchdog.fired:
                    stats.hangs += 1
                    stats.findings.append(Finding(index, "hang", case, f"{seconds:.1f}s"))
    finally:
        watchdog.stop.set()
    return stats

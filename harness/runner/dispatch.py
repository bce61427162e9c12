"""Which cell a parallel worker runs next.

A worker's machine is a booted VM of one image, reverted per cell in a few seconds; a machine of
another image costs a boot (a minute and a half under TCG).  So a worker stays on its image
while that image has cells, and the workers spread over the images at the start.  A worker whose
image is done moves to the image with the most work left per worker on it, unless that work is
too little to pay for a boot: the workers already there finish it sooner.  Within
an image the longest cells go first (durations of earlier runs), so a run does not end on one
long cell.  Results are still reported in matrix order.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from collections.abc import Mapping

from harness.runner.selection import Cell, Key, cell_id, key

BOOT_SECONDS = 90.0  # a boot to a ready, snapshotted machine under TCG, when no run recorded one


class Dispatcher:
    """Thread-safe: every worker asks ``next`` with the image its machine runs (None at first)."""

    def __init__(self, cells: list[Cell], seconds: Mapping[Key, float],
                 boot_seconds: float = BOOT_SECONDS) -> None:
        known = [seconds[key(c)] for c in cells if key(c) in seconds]
        default = statistics.median(known) if known else 1.0
        self._cost = {key(c): seconds.get(key(c), default) for c in cells}
        self._images = list(dict.fromkeys(image for _, image in cells))  # matrix order
        self._todo: dict[str, list[Cell]] = {image: [] for image in self._images}
        for cell in sorted(cells, key=lambda c: (-self._cost[key(c)], cell_id(c))):
            self._todo[cell[1]].append(cell)
        self._boot = boot_seconds
        self._workers_on: Counter[str] = Counter()
        self._lock = threading.Lock()

    def next(self, image: str | None) -> Cell | None:
        """The next cell for a worker whose machine runs ``image``; None: the worker stops."""
        with self._lock:
            if image is not None and self._todo.get(image):
                return self._todo[image].pop(0)
            chosen = self._move_to(image)
            if chosen is None:
                if image is not None:
                    self._workers_on[image] -= 1
                return None
            if image is not None:
                self._workers_on[image] -= 1
            self._workers_on[chosen] += 1
            return self._todo[chosen].pop(0)

    def _move_to(self, image: str | None) -> str | None:
        """The image most in need of one more worker.  A worker that already has a machine
        moves only if that pays for the boot: ``left / n`` for the ``n`` workers there now,
        against a boot plus ``left / (n + 1)``."""
        waiting = [i for i in self._images if self._todo[i]]
        if not waiting:
            return None
        best = max(waiting, key=lambda i: (self._left(i) / (self._workers_on[i] + 1),
                                           -self._images.index(i)))
        there = self._workers_on[best]
        if image is None or there == 0 or self._left(best) > self._boot * there * (there + 1):
            return best
        return None

    def _left(self, image: str) -> float:
        return sum(self._cost[key(c)] for c in self._todo[image])

"""Which cells a command runs: the matrix, only what failed last time, one shard of N.

Pure: results come in as data, so `vmapp list`, `vmapp run` and the tests share it.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Iterable, Mapping

from harness.errors import ConfigError
from harness.images.recipe import find_recipe, split_image, unknown_image
from harness.report.results import RunResult
from harness.scenario.model import Scenario

Cell = tuple[Scenario, str]
Key = tuple[str, str]  # (scenario, image)


def images_of(scenario: Scenario, images: list[str] | None) -> list[str]:
    """The images a scenario runs on: ``images`` (``--image``) or its own.  A scenario whose VM
    names its image itself keeps its reference (``NAME@VERSION`` counts as NAME) and, when the
    reference names a recipe's definition, runs on that one only."""
    wanted = images or list(scenario.images)
    choice = scenario.vm_image
    if choice is not None:
        wanted = [split_image(image)[0] for image in wanted]
        if choice.definition:
            wanted = [image for image in wanted if image == choice.definition]
    return list(dict.fromkeys(wanted))


def _os_type(image: str) -> str:
    name = split_image(image)[0]
    return find_recipe(name).gallery.os_type if unknown_image(name) is None else ""


def other_os(scenario: Scenario, image: str) -> str:
    """Why a cell is not applicable: ``--image`` put a scenario written for one OS's images on
    an image of the other (its applications and checks are for that OS); "" when it is."""
    own = {_os_type(name) for name in scenario.images} - {""}
    this = _os_type(image)
    if not own or not this or this in own:
        return ""
    return (f"not applicable: {scenario.name} is written for {' and '.join(sorted(own))} images "
            f"({', '.join(scenario.images)}); {image} is a {this} image")


def matrix(scenarios: list[Scenario], images: list[str] | None) -> list[Cell]:
    """The cells, one image after another (in order of first mention): a run cut short leaves
    whole columns of the compatibility matrix rather than scattered cells."""
    cells = [(s, image) for s in scenarios for image in images_of(s, images)]
    order = list(dict.fromkeys(image for _, image in cells))
    return sorted(cells, key=lambda cell: order.index(cell[1]))


def key(cell: Cell) -> Key:
    return cell[0].name, cell[1]


def cell_id(cell: Cell) -> str:
    return f"{cell[0].name}[{cell[1]}]"


def not_passed(run: RunResult) -> set[Key]:
    """The cells of ``run`` that failed or errored (what `--failed` reruns)."""
    return {(c.scenario, c.image) for c in run.cells if c.outcome in ("failed", "error")}


def durations(runs: Iterable[RunResult]) -> dict[Key, float]:
    """Each cell's latest recorded duration, from earlier runs (oldest first)."""
    found: dict[Key, float] = {}
    for run in runs:
        for c in run.cells:
            if c.seconds > 0:
                found[(c.scenario, c.image)] = c.seconds
    return found


def parse_shard(text: str) -> tuple[int, int]:
    """``K/N`` -> (K, N), 1 <= K <= N."""
    number, _, total = text.partition("/")
    try:
        k, n = int(number), int(total)
    except ValueError:
        k = n = 0
    if not 1 <= k <= n:
        raise ConfigError(problem=f"must be K/N with 1 <= K <= N, got {text!r}", field="--shard")
    return k, n


def shard(cells: list[Cell], k: int, n: int, seconds: Mapping[Key, float]) -> list[Cell]:
    """Shard ``k`` of ``n``: longest cells first onto the least loaded shard (durations from
    earlier results; a cell never seen counts as the median, or 1 with no history), ties broken
    by cell id, so every host computes the same split.  Matrix order is kept inside a shard."""
    known = [seconds[key(c)] for c in cells if key(c) in seconds]
    default = statistics.median(known) if known else 1.0
    weighted = sorted(cells, key=lambda c: (-seconds.get(key(c), default), cell_id(c)))
    loads = [(0.0, index) for index in range(n)]
    owner: dict[Key, int] = {}
    for cell in weighted:
        load, index = heapq.heappop(loads)
        owner[key(cell)] = index
        heapq.heappush(loads, (load + seconds.get(key(cell), default), index))
    return [c for c in cells if owner[key(c)] == k - 1]

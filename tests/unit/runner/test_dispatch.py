"""Parallel workers stay on their image, spread over images, take long cells first and do not
boot a machine for less work than a boot costs."""

from __future__ import annotations

import threading
from pathlib import Path

from harness.runner.dispatch import Dispatcher
from harness.runner.selection import Cell, cell_id, matrix
from harness.scenario.model import Scenario


def scenario(name: str) -> Scenario:
    return Scenario(name=name, file=Path(f"{name}.yaml"), description=name,
                    images=("debian-12", "debian-13"), location="westus", vm_location="westus",
                    apps={}, steps=())


def cells(*names: str) -> list[Cell]:
    return matrix([scenario(n) for n in names], None)


def ids(taken: list[Cell | None]) -> list[str | None]:
    return [cell_id(c) if c else None for c in taken]


def test_two_workers_spread_over_two_images_and_stay_there() -> None:
    d = Dispatcher(cells("a", "b"), {}, boot_seconds=90)
    first, second = d.next(None), d.next(None)
    assert ids([first, second]) == ["a[debian-12]", "a[debian-13]"]
    assert ids([d.next("debian-13"), d.next("debian-12")]) == ["b[debian-13]", "b[debian-12]"]
    assert d.next("debian-12") is None and d.next("debian-13") is None


def test_longest_cells_of_an_image_go_first() -> None:
    seconds = {("a", "debian-12"): 10.0, ("b", "debian-12"): 300.0, ("c", "debian-12"): 60.0}
    d = Dispatcher([c for c in cells("a", "b", "c") if c[1] == "debian-12"], seconds)
    assert ids([d.next(None), d.next("debian-12"), d.next("debian-12")]) == [
        "b[debian-12]", "c[debian-12]", "a[debian-12]"]


def test_a_cell_never_seen_counts_as_the_median() -> None:
    seconds = {("a", "debian-12"): 10.0, ("b", "debian-12"): 30.0, ("c", "debian-12"): 50.0}
    d = Dispatcher([c for c in cells("a", "b", "c", "new") if c[1] == "debian-12"], seconds)
    order = ids([d.next(None), d.next("debian-12"), d.next("debian-12"), d.next("debian-12")])
    assert order == ["c[debian-12]", "b[debian-12]", "new[debian-12]", "a[debian-12]"]


def test_a_worker_with_a_machine_moves_only_when_the_work_pays_for_a_boot() -> None:
    one_image = [c for c in cells("a", "b", "c", "d") if c[1] == "debian-12"]
    small = Dispatcher(one_image, {}, boot_seconds=90)  # 4 cells of 1 s each
    assert small.next(None) is not None
    assert small.next(None) is not None  # a new worker boots anyway: everyone boots at first
    assert small.next("debian-13") is None  # a worker with a machine does not, for 2 s of work
    seconds = {(n, "debian-12"): 200.0 for n in "abcd"}
    big = Dispatcher(one_image, seconds, boot_seconds=90)
    assert big.next(None) is not None  # 600 s left for 1 worker: a second one pays off
    assert big.next("debian-13") is not None


def test_workers_go_where_most_work_per_worker_is_left_and_no_cell_is_left_alone() -> None:
    seconds = {("a", "debian-12"): 10.0, ("a", "debian-13"): 500.0,
               ("b", "debian-13"): 500.0, ("c", "debian-13"): 500.0}
    d = Dispatcher([c for c in cells("a", "b", "c") if c[0].name == "a" or c[1] == "debian-13"],
                   seconds, boot_seconds=90)
    # 1500 s on debian-13 (750 per worker with two) outweighs 10 s on debian-12.
    assert ids([d.next(None), d.next(None)]) == ["a[debian-13]", "b[debian-13]"]
    assert ids([d.next("debian-13")]) == ["c[debian-13]"]
    # debian-12 has nobody: the next worker free goes there, however little is left.
    assert ids([d.next("debian-13"), d.next("debian-13")]) == ["a[debian-12]", None]


def test_every_cell_is_handed_out_once_to_concurrent_workers() -> None:
    all_cells = cells(*[f"s{n}" for n in range(40)])
    d = Dispatcher(all_cells, {}, boot_seconds=0)
    taken: list[Cell] = []
    lock = threading.Lock()

    def worker() -> None:
        image = None
        while (cell := d.next(image)) is not None:
            image = cell[1]
            with lock:
                taken.append(cell)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(cell_id, taken)) == sorted(map(cell_id, all_cells))

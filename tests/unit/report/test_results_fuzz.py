"""A seeded fuzzer for results.json: a valid file mutated at random is either read, and then
every report renders from it, or refused as a ConfigError(s); never a traceback."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

from harness.errors import ConfigError, ConfigErrors
from harness.report.coverage import coverage_table
from harness.report.results import merge_runs, read_results
from harness.runner.run import write_reports
from tests.unit.report.test_report_outputs import make_run

ODD = [None, True, 0, -1, 1.5, 10**30, 1e308, "", "\ud800", "x\x00y", "\x1b[31m", [], {},
       [1], {"a": 1}, "sig=secret", "9" * 40]
ROUNDS = 300


def spots(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``value``."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += spots(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += spots(item, (*path, index))
    return found


def mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(spots(data)[1:])
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = rng.random()
        if action < 0.2 and isinstance(parent, dict):
            del parent[path[-1]]
        elif action < 0.3 and isinstance(parent, dict):
            parent[rng.choice(["extra", "cells", "steps", "outcome"]) + "_"] = rng.choice(ODD)
        else:
            parent[path[-1]] = rng.choice(ODD)
    return data


def test_mutated_results_are_read_and_rendered_or_refused(tmp_path: Path) -> None:
    rng = random.Random(14)
    base = make_run().to_json()
    read = refused = 0
    for round_ in range(ROUNDS):
        folder = tmp_path / f"r{round_}"
        folder.mkdir()
        (folder / "results.json").write_text(json.dumps(mutate(base, rng)))
        try:
            run = read_results(folder / "results.json")
        except (ConfigError, ConfigErrors):
            refused += 1
            continue
        read += 1
        write_reports(run, folder, point_latest=False)
        merge_runs([run, make_run()], "m")
        coverage_table([], [run])
    assert read > 20 and refused > 100  # both branches really exercised

"""Which cells `vmapp run` and `vmapp list` take: files, images, names, markers, what failed in
an earlier run, one shard of N (a CI matrix of hosts each runs one)."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from harness.cli.where import run_folder
from harness.errors import ConfigError, ConfigErrors
from harness.images.build import builds
from harness.images.recipe import split_image, unknown_image
from harness.report.results import RunResult, read_results
from harness.runner.selection import (
    Cell,
    cell_id,
    durations,
    key,
    matrix,
    not_passed,
    parse_shard,
    shard,
)
from harness.scenario.load import load_all, scenario_files
from harness.settings import REPO_ROOT, reports_dir

DEFAULT_SCENARIOS = [REPO_ROOT / "scenarios"]


def add_selection(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenarios", nargs="*", type=Path,
                   help="scenario files or folders (default: scenarios/, or with --failed the "
                        "files of the cells that failed)")
    p.add_argument("--image", action="append", dest="images",
                   help="run on this image instead of the scenarios' own (repeatable); "
                        "NAME@VERSION: on that image version (a cached build) of it")
    p.add_argument("-k", dest="select", default="",
                   help="only scenarios whose name contains this text")
    p.add_argument("-m", dest="marker", default="",
                   help="only scenarios carrying this marker (see each file's `markers`)")
    p.add_argument("--failed", nargs="?", const="latest", default=None, metavar="RUN",
                   help="only the cells that failed or errored in RUN (default latest)")
    p.add_argument("--shard", default=None, metavar="K/N",
                   help="only shard K of N: a split balanced by earlier durations, the same on "
                        "every host (one CI job per shard, then `vmapp report --merge`)")


def _image_problem(image: str) -> str | None:
    """Why ``NAME`` or ``NAME@VERSION`` is no image to run on: no recipe, or no cached build
    with that image version."""
    name, version = split_image(image)
    problem = unknown_image(name)
    if problem is None and image != name:
        known = [build.version for build in builds(name)]
        if version not in known:
            problem = (f"no build of {name} has the image version {version!r} (its builds "
                       f"here: {', '.join(known) or 'none'}; `vmapp images list`)")
    return problem


def _check_images(images: list[str] | None) -> None:
    """Every ``--image`` has a recipe (and the build it names), checked before anything
    starts."""
    problems = [ConfigError(problem=problem, field="--image")
                for image in images or () if (problem := _image_problem(image))]
    if problems:
        raise ConfigErrors(problems)


def selected_cells(args: argparse.Namespace) -> list[Cell]:
    """The cells the arguments name, in matrix order; every argument checked first."""
    _check_images(args.images)
    wanted: set[tuple[str, str]] | None = None
    paths = list(args.scenarios)
    if args.failed is not None:
        earlier = read_results(run_folder(args.failed, field="--failed") / "results.json")
        wanted = not_passed(earlier)
        if not paths:
            paths = sorted({Path(c.file) for c in earlier.cells
                            if (c.scenario, c.image) in wanted and c.file})
    k, n = parse_shard(args.shard) if args.shard else (1, 1)
    scenarios = [s for s in load_all(scenario_files(paths or DEFAULT_SCENARIOS))
                 if args.select in s.name and (not args.marker or args.marker in s.markers)]
    cells = matrix(scenarios, args.images)
    if wanted is not None:
        cells = [c for c in cells if key(c) in wanted]
    if n > 1:
        cells = shard(cells, k, n, durations(history()))
    return cells


def history(newest: int = 10) -> list[RunResult]:
    """Earlier results to balance shards and hand out long cells first by: the newest runs of
    the reports folder that can be read, oldest first."""
    folders = sorted(p.parent for p in reports_dir().glob("*/results.json")
                     if not p.parent.is_symlink())
    runs: list[RunResult] = []
    for folder in folders[-newest:]:
        with contextlib.suppress(ConfigError):
            runs.append(read_results(folder / "results.json"))
    return runs


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("list", help="the cells `vmapp run` would run with these arguments "
                       "(nothing is booted)")
    add_selection(p)
    p.set_defaults(handler=handle_list)


def handle_list(args: argparse.Namespace) -> int:
    cells = selected_cells(args)
    for cell in cells:
        print(f"{cell_id(cell):50} {cell[0].file}")
    print(f"{len(cells)} cell(s)")
    return 0

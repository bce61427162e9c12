"""`vmapp run`: scenarios x images on real VMs, with live progress and a summary table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.errors import ConfigError, ConfigErrors
from harness.images.recipe import unknown_image
from harness.report.results import CellResult
from harness.runner.context import KEEP_CHOICES, RunOptions
from harness.runner.run import run_matrix
from harness.scenario.load import load_all, scenario_files
from harness.settings import REPO_ROOT

DEFAULT_SCENARIOS = [REPO_ROOT / "scenarios"]
MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run scenarios on real VMs and write a report")
    p.add_argument("scenarios", nargs="*", type=Path,
                   help="scenario files or folders (default: scenarios/)")
    p.add_argument("--image", action="append", dest="images",
                   help="run on this image instead of the scenarios' own (repeatable)")
    p.add_argument("--keep", choices=KEEP_CHOICES, default="never",
                   help="keep the VM afterwards (default: never)")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   help="auto = KVM only if a probe boot works")
    p.add_argument("--retries", type=int, default=1,
                   help="retries of infrastructure errors, each in a fresh VM (default 1)")
    p.add_argument("-k", dest="select", default="",
                   help="only scenarios whose name contains this text")
    p.add_argument("-m", dest="marker", default="",
                   help="only scenarios carrying this marker (see each file's `markers`)")
    p.set_defaults(handler=handle)


def _say(message: str, cell: CellResult | None) -> None:
    if cell is None:
        print(f"  .. {message}", flush=True)
        return
    retried = f" after {len(cell.retries)} retry" if cell.retries else ""
    print(f"  {MARK[cell.outcome]:5} {cell.cell_id} ({cell.seconds:.0f}s{retried})", flush=True)
    if cell.outcome != "passed":
        for line in cell.message.splitlines()[:12]:
            print(f"        {line}", flush=True)
    if cell.kept:
        print(f"        VM kept: {cell.login}", flush=True)


def _check_images(images: list[str] | None) -> None:
    """Every ``--image`` has a recipe, checked before anything starts."""
    problems = [ConfigError(problem=problem, field="--image")
                for name in images or () if (problem := unknown_image(name))]
    if problems:
        raise ConfigErrors(problems)


def handle(args: argparse.Namespace) -> int:
    _check_images(args.images)
    files = scenario_files(args.scenarios or DEFAULT_SCENARIOS)
    scenarios = [s for s in load_all(files)
                 if args.select in s.name and (not args.marker or args.marker in s.markers)]
    if not scenarios:
        print("vmapp: no scenarios selected", file=sys.stderr)
        return 2
    options = RunOptions(keep=args.keep, accel=args.accel, retries=args.retries)
    print(f"vmapp: {len(scenarios)} scenario(s)", flush=True)
    run, folder = run_matrix(scenarios, images=args.images, options=options, progress=_say)
    counts = run.counts()
    print()
    print(f"{'cell':50} {'outcome':8} {'time':>6}")
    for cell in run.cells:
        print(f"{cell.cell_id:50} {MARK[cell.outcome]:8} {cell.seconds:5.0f}s")
    print(f"\n{counts['passed']} passed, {counts['failed']} failed, {counts['error']} error, "
          f"{counts['skipped']} skipped in {run.seconds:.0f}s ({run.accel})")
    print(f"report: {folder / 'index.html'}")
    return 0 if run.ok else 1

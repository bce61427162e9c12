"""`vmapp cell rerun|recheck|destroy`: the engineer's loop on a VM a run kept (`--keep`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.run import MARK, say_progress
from harness.cli.where import CELL_FORMS, kept_cell, kept_hint, run_folder
from harness.errors import ConfigError
from harness.report.results import CellResult, RunResult, read_results
from harness.runner import kept

CELL_HELP = f"the kept cell: {CELL_FORMS}"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cell", help="work on a kept VM: rerun a scenario, recheck its "
                       "expectations, destroy it")
    verbs = p.add_subparsers(dest="cell_verb", required=True, metavar="VERB")
    v = verbs.add_parser("rerun", help="run the scenario's steps again on the kept VM, as it "
                         "is (not reverted), into a new report")
    v.add_argument("cell", metavar="CELL", help=CELL_HELP)
    v.set_defaults(handler=handle_rerun)
    v = verbs.add_parser("recheck", help="judge the scenario's expectations against the kept "
                         "VM as it is now (nothing deployed), into a new report")
    v.add_argument("cell", metavar="CELL", help=CELL_HELP)
    v.add_argument("--all", action="store_true", dest="every",
                   help="every expect step of the scenario (default: its last one)")
    v.set_defaults(handler=handle_recheck)
    v = verbs.add_parser("destroy", help="destroy a kept VM and its folder; the reports that "
                         "name it say so")
    v.add_argument("cell", nargs="?", metavar="CELL",
                   help=f"{CELL_HELP}; with --all, a RUN (default latest)")
    v.add_argument("--all", action="store_true", dest="every",
                   help="every kept cell of the run")
    v.set_defaults(handler=handle_destroy)


def handle_rerun(args: argparse.Namespace) -> int:
    found = kept_cell(args.cell)
    print(f"vmapp: rerunning {found.name} on its kept VM {found.cell.vm}", flush=True)
    run, folder = kept.rerun(found.cell, say_progress)
    return _summary(run, folder)


def handle_recheck(args: argparse.Namespace) -> int:
    found = kept_cell(args.cell)
    print(f"vmapp: rechecking {found.name} on its kept VM {found.cell.vm}", flush=True)
    run, folder = kept.recheck(found.cell, say_progress, every=args.every)
    for cell in run.cells:
        _print_checks(cell)
    return _summary(run, folder)


def handle_destroy(args: argparse.Namespace) -> int:
    if args.every:
        run = args.cell or "latest"
        results = read_results(run_folder(run, field="run") / "results.json")
        cells = [c for c in results.cells if c.kept]
        if not cells:
            print(f"vmapp: no VM is kept in {run}")
            return 0
    elif args.cell:
        cells = [kept_cell(args.cell).cell]
    else:
        raise ConfigError(problem=f"name a kept cell, or --all [RUN]{kept_hint('latest')}",
                          field="cell")
    kept.destroy(cells, say_progress)
    print(f"vmapp: destroyed {len(cells)} kept VM(s)")
    return 0


def _print_checks(cell: CellResult) -> None:
    """Each expectation of each step, PASS or FAIL, and what was not rechecked."""
    for step in cell.steps:
        where = f" (line {step.line})" if step.line else ""
        print(f"step {step.index + 1}{where} {step.title}:")
        for expected, actual in zip(step.expected, step.actual, strict=True):
            failed = any(f.startswith(f"{expected}, got") for f in step.failures)
            print(f"  {'FAIL' if failed else 'PASS':5} {expected}")
            if failed:
                print(f"        got {actual}")
        if step.detail:
            print(f"  {step.detail}")


def _summary(run: RunResult, folder: Path) -> int:
    for cell in run.cells:
        print(f"{cell.cell_id:50} {MARK[cell.outcome]:8} {cell.seconds:5.0f}s")
        if cell.note:
            print(f"  {cell.note}")
    print(f"report: {folder / 'index.html'}")
    return 0 if run.ok and run.cells else 1


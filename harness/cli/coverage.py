"""`vmapp coverage`: the seed rule -> scenario -> last result table, printed or put in a file."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.select import DEFAULT_SCENARIOS
from harness.errors import ConfigError
from harness.report.coverage import coverage_table, replace_between_markers
from harness.report.results import read_results
from harness.scenario.load import load_all, scenario_files
from harness.settings import reports_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("coverage", help="table of seed rules, the scenarios proving them and "
                       "their last results")
    p.add_argument("scenarios", nargs="*", type=Path,
                   help="scenario files or folders (default: scenarios/)")
    p.add_argument("--results", nargs="+", action="extend", type=Path, metavar="PATH",
                   help="results.json file(s); a cell shows its outcome in the latest run that "
                   "has it (default: reports/latest/results.json when it exists); give scenario "
                   "paths before it")
    p.add_argument("--write", type=Path, metavar="FILE",
                   help="replace the text between <!-- coverage:start --> and "
                   "<!-- coverage:end --> in FILE (e.g. README.md) instead of printing")
    p.set_defaults(handler=handle)


def default_results() -> list[Path]:
    """The latest run's results, if there has been a run: a fresh clone shows none."""
    latest = reports_dir() / "latest" / "results.json"
    return [latest] if latest.is_file() else []


def handle(args: argparse.Namespace) -> int:
    scenarios = load_all(scenario_files(args.scenarios or DEFAULT_SCENARIOS))
    paths = args.results if args.results is not None else default_results()
    runs = [read_results(path) for path in paths]  # an unreadable one is a ConfigError
    if args.write is None:
        print(coverage_table(scenarios, runs, base=Path.cwd()), end="")
        return 0
    try:
        text = args.write.read_text()
    except OSError as exc:
        raise ConfigError(problem=f"cannot read: {exc}", file=str(args.write),
                          field="--write") from exc
    table = coverage_table(scenarios, runs, base=args.write.resolve().parent)
    args.write.write_text(replace_between_markers(text, table, file=str(args.write)))
    print(f"{args.write}: coverage table of {len(scenarios)} scenario(s) from "
          f"{len(runs)} results file(s)")
    return 0

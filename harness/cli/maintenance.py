"""`vmapp report`, `vmapp ssh`, `vmapp gc`: rebuild reports, log into kept VMs, clean up."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from harness.errors import ConfigError, ConfigErrors
from harness.report.results import merge_runs, read_results
from harness.runner.context import new_run_id
from harness.runner.reap import dead_runs, reap
from harness.runner.run import write_reports
from harness.settings import reports_dir, state_dir


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="rebuild the JUnit and HTML reports from results.json, "
                       "or merge several runs into one matrix")
    p.add_argument("runs", nargs="*", default=["latest"], metavar="RUN",
                   help="run folder, relative to where you stand, or run id in the reports "
                   "folder (default latest)")
    p.add_argument("--merge", action="store_true",
                   help="one report from the RUNs, each cell from the latest run that has it")
    p.set_defaults(handler=handle_report)
    p = sub.add_parser("ssh", help="log into a kept VM: [RUN/]SCENARIO[IMAGE] (RUN defaults to "
                       "latest)")
    p.add_argument("cell", nargs="?", metavar="CELL",
                   help="[RUN/]SCENARIO[IMAGE], e.g. latest/'tar-golang[debian-12]'; RUN is a "
                   "run id or folder (default latest)")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="run this in the VM instead of a login shell (after --)")
    p.set_defaults(handler=handle_ssh)
    p = sub.add_parser("gc", help="remove harness VMs and run folders that are no longer wanted")
    p.add_argument("--older-than", type=float, default=0, metavar="HOURS",
                   help="only runs older than this (default: all, kept VMs included)")
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(handler=handle_gc)


def run_folder(run: str, field: str = "run") -> Path:
    """A run's report folder: ``run`` as a path from where the user stands, else as a run id
    (or folder) in the reports folder."""
    places = list(dict.fromkeys([Path(run), reports_dir() / run]))
    for folder in places:
        if (folder / "results.json").is_file():
            return folder.resolve()
    raise ConfigError(problem="no results.json in " + " or ".join(str(p) for p in places),
                      field=field)


def _kept_cells(run: str) -> str:
    """Which cells of ``run`` have a kept VM, as a hint; nothing when the run cannot be read."""
    try:
        cells = read_results(run_folder(run) / "results.json").cells
    except (ConfigError, ConfigErrors):
        return ""
    kept = [f"{run}/{c.cell_id}" for c in cells if c.kept]
    return f"; kept in {run}: {', '.join(kept)}" if kept else f"; no VM was kept in {run}"


def handle_report(args: argparse.Namespace) -> int:
    folders = [run_folder(run) for run in args.runs]
    if not args.merge:
        if len(folders) > 1:
            raise ConfigError(problem="several runs given: add --merge to combine them",
                              field="run")
        write_reports(read_results(folders[0] / "results.json"), folders[0], point_latest=False)
        print(f"report: {folders[0] / 'index.html'}")
        return 0
    if len({f.parent for f in folders}) > 1:  # the merged report links to their cells
        raise ConfigError(problem="runs to merge must sit in one reports folder", field="run")
    run_id = "merged-" + new_run_id()
    merged = merge_runs([read_results(f / "results.json") for f in folders], run_id)
    folder = folders[0].parent / run_id
    folder.mkdir(parents=True)
    write_reports(merged, folder)
    print(f"report: {folder / 'index.html'} ({len(merged.cells)} cells from "
          f"{merged.accel_reason.removeprefix('merged from ')})")
    return 0


def handle_ssh(args: argparse.Namespace) -> int:
    if not args.cell:
        raise ConfigError(problem="name a kept cell: vmapp ssh [RUN/]SCENARIO[IMAGE] "
                          f"[-- COMMAND]{_kept_cells('latest')}", field="cell")
    run, _, cell_id = args.cell.rpartition("/")
    run = run or "latest"
    try:
        folder = run_folder(run, field="cell")
    except ConfigError as exc:
        raise ConfigError(problem=f"{exc.problem} (a cell is RUN/SCENARIO[IMAGE]; RUN is a run "
                          "id or folder, latest when left out)", field="cell") from None
    results = read_results(folder / "results.json")
    for cell in results.cells:
        if cell.cell_id == cell_id:
            if not cell.kept:
                raise ConfigError(problem=f"{cell_id} was not kept (run with --keep on-failure "
                                  "or --keep always)", field="cell")
            login = cell.login.strip().splitlines()[-1:]
            if not login:
                raise ConfigError(problem=f"{cell_id} was kept but its run recorded no login",
                                  field="cell")
            remote = args.command[1:] if args.command[:1] == ["--"] else args.command
            os.execvp("ssh", login[0].split("or: ", 1)[-1].split() + remote)
    known = ", ".join(c.cell_id for c in results.cells)
    raise ConfigError(problem=f"no cell {cell_id!r} in run {run} (cells: {known})", field="cell")


def handle_gc(args: argparse.Namespace) -> int:
    dead, live = dead_runs(state_dir() / "runs", older_than_hours=args.older_than)
    for folder in live:
        print(f"keeping run {folder.name}: its process is still running")
    reap(dead, dry_run=args.dry_run)
    return 0

"""`vmapp report`, `vmapp ssh`, `vmapp gc`: rebuild reports, log into kept VMs, clean up."""

from __future__ import annotations

import argparse
import os

from harness.cli.where import kept_cell, kept_hint, run_folder
from harness.errors import ConfigError
from harness.report.results import merge_runs, read_results
from harness.runner.context import new_run_id
from harness.runner.reap import dead_runs, reap
from harness.runner.run import write_reports
from harness.settings import state_dir


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
                          f"[-- COMMAND]{kept_hint('latest')}", field="cell")
    cell = kept_cell(args.cell).cell
    login = cell.login.strip().splitlines()[-1:]
    if not login:
        raise ConfigError(problem=f"{cell.cell_id} was kept but its run recorded no login",
                          field="cell")
    command = login[0].split("or: ", 1)[-1].split()
    if command[:1] != ["ssh"]:
        raise ConfigError(problem=f"{cell.cell_id}'s machine has no SSH login: {login[0]}",
                          field="cell")
    remote = args.command[1:] if args.command[:1] == ["--"] else args.command
    os.execvp("ssh", command + remote)
    return 0  # not reached: the process is ssh now


def handle_gc(args: argparse.Namespace) -> int:
    runs = state_dir() / "runs"
    dead, live = dead_runs(runs, older_than_hours=args.older_than)
    for folder in live:
        print(f"keeping run {folder.name}: its process is still running")
    reap(dead, runs, dry_run=args.dry_run)
    return 0

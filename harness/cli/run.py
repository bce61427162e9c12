"""`vmapp run`: scenarios x images on real VMs, with live progress and a summary table."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from harness import stopping
from harness.cli.select import add_selection, history, selected_cells
from harness.errors import ConfigError
from harness.report.results import CellResult
from harness.runner.context import (
    KEEP_CHOICES,
    MACHINE_CHOICES,
    RunOptions,
    auto_workers,
    new_run_id,
    vcpus_per_vm,
)
from harness.runner.run import run_matrix
from harness.runner.selection import durations
from harness.settings import reports_dir

MARK = {"passed": "PASS", "failed": "FAIL", "error": "ERROR", "skipped": "SKIP"}
EXIT_CODES = """\
exit status:
  0    every cell passed (or was skipped)
  1    some cell failed (the product) or errored (the infrastructure, after its retries)
  2    bad input: scenario files or arguments; nothing was started
  3    the harness itself could not run (libvirt, Azurite, --accel kvm without KVM)
  130  interrupted (Ctrl-C): the report keeps the cells that finished
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run scenarios on real VMs and write a report",
                       description="Run scenarios x images, each cell on a clean VM (booted once "
                       "per image and worker, reverted to a snapshot per cell), and write "
                       "reports/<run-id>/ (index.html, junit.xml, results.json).",
                       epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_selection(p)
    p.add_argument("--keep", choices=KEEP_CHOICES, default="never",
                   help="keep the VM afterwards (default: never)")
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto",
                   help="auto = KVM only if a probe boot works")
    p.add_argument("--retries", type=int, default=1,
                   help="retries of infrastructure errors, each in a fresh VM (default 1)")
    p.add_argument("--fresh-vm", action="store_true",
                   help="boot a VM per cell instead of reverting one VM per image to a clean "
                        "snapshot (the default)")
    p.add_argument("-j", "--workers", type=_workers, default=None, metavar="N",
                   help="cells at once, each worker with VMs of its own (default: from cores "
                        f"and memory, here {auto_workers()})")
    p.add_argument("--machines", choices=MACHINE_CHOICES, default="vagrant",
                   help="vagrant: real VMs (default); local: the host's own system as an overlay "
                        "in private namespaces, no VM (a quick dry run of scenarios that need no "
                        "systemd services and do not reboot; root only)")
    p.add_argument("--idempotence", action="store_true",
                   help="apply every deploy/update/remove goal state a second time: nothing "
                        "may run again (a failure otherwise), shown per step in the report")
    p.add_argument("--reports-dir", type=Path, metavar="DIR",
                   help="write the run's report folder under DIR (default: $VMAPP_REPORTS_DIR "
                   "or reports/)")
    p.add_argument("--junitxml", type=Path, metavar="PATH",
                   help="also write the JUnit XML to PATH, as pytest's --junitxml does")
    p.set_defaults(handler=handle)


def _workers(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _writable_folder(folder: Path, option: str) -> None:
    """Make ``folder`` (an output's place) now, so a bad path fails before any VM starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(problem=f"cannot create {folder}: {exc.strerror or exc}",
                          field=option) from None


def _check_arguments(args: argparse.Namespace) -> None:
    if args.retries < 0:
        raise ConfigError(problem=f"must be 0 or more, got {args.retries}", field="--retries")
    if args.reports_dir is not None:
        _writable_folder(args.reports_dir, "--reports-dir")
        os.environ["VMAPP_REPORTS_DIR"] = str(args.reports_dir.resolve())  # runner reads it
    if args.junitxml is not None:
        if args.junitxml.is_dir():
            raise ConfigError(problem=f"{args.junitxml} is a folder; give a file name",
                              field="--junitxml")
        _writable_folder(args.junitxml.parent, "--junitxml")


def say_progress(message: str, cell: CellResult | None) -> None:
    """Live progress of a run (a line per event, a cell's outcome when it ends)."""
    if cell is None:
        print(f"  .. {message}", flush=True)
        return
    retried = f" after {len(cell.retries)} retry" if cell.retries else ""
    print(f"  {MARK[cell.outcome]:5} {cell.title} ({cell.seconds:.0f}s{retried})", flush=True)
    if cell.outcome != "passed":
        for line in cell.message.splitlines()[:12]:
            print(f"        {line}", flush=True)
    if cell.kept:
        print(f"        VM kept: {cell.login}", flush=True)


def handle(args: argparse.Namespace) -> int:
    """Exit status as EXIT_CODES says; 2 and 3 come from harness errors (see cli/errors.py)."""
    _check_arguments(args)
    cells = selected_cells(args)
    if not cells:
        print("vmapp: no cells selected", file=sys.stderr)
        return 2
    scenarios = list({id(s): s for s, _ in cells}.values())
    workers = args.workers or auto_workers()
    options = RunOptions(keep=args.keep, accel=args.accel, retries=args.retries,
                         fresh_vm=args.fresh_vm, workers=workers, cpus=vcpus_per_vm(workers),
                         idempotence=args.idempotence, machines=args.machines)
    stopping.install()  # SIGTERM and SIGHUP (what CI sends on cancel) like Ctrl-C
    print(f"vmapp: {len(cells)} cell(s) of {len(scenarios)} scenario(s), {workers} worker(s)",
          flush=True)
    run_id = new_run_id()
    try:
        run, folder = run_matrix(scenarios, options=options, progress=say_progress,
                                 run_id=run_id, cells=cells, shard=args.shard or "",
                                 seconds=durations(history()))
    finally:  # an interrupted run's JUnit XML too: CI shows the cells that finished
        junit = reports_dir() / run_id / "junit.xml"
        if args.junitxml is not None and junit.is_file():
            shutil.copyfile(junit, args.junitxml)
    counts = run.counts()
    print()
    print(f"{'cell':50} {'outcome':8} {'time':>6}")
    for cell in run.cells:
        print(f"{cell.title:50} {MARK[cell.outcome]:8} {cell.seconds:5.0f}s")
    print(f"\n{counts['passed']} passed, {counts['failed']} failed, {counts['error']} error, "
          f"{counts['skipped']} skipped in {run.seconds:.0f}s ({run.accel})")
    print(f"report: {folder / 'index.html'}")
    return 0 if run.ok else 1

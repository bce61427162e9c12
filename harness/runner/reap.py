"""Runs own what they start, and what a dead run left goes: its domains, their volumes, the
volumes made before a domain existed, and its state folder.

Only runs of this state folder whose owning process is gone are touched (a shared runner's other
users and live runs are spared).  `vmapp gc` reaps them all, kept VMs included (or only older
ones); a new run first reaps the runs that died without ending (killed: no ``ENDED`` marker),
sparing the VMs an engineer asked to keep.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from harness.errors import CleanupErrors, InfrastructureError
from harness.machines import libvirtd
from harness.runner.context import run_is_active

ENDED_FILE = "ENDED"  # written when a run ends and leaves its folder (kept VMs)


def mark_ended(folder: Path) -> None:
    """The run ended on its own terms: what it left is kept on purpose."""
    if folder.is_dir():
        (folder / ENDED_FILE).write_text("the run ended; its kept VMs stay until `vmapp gc`\n")


def dead_runs(runs: Path, *, older_than_hours: float = 0, killed_only: bool = False
              ) -> tuple[list[Path], list[Path]]:
    """(dead run folders to reap, live ones) among ``runs``; ``killed_only``: only runs that
    died without ending."""
    cutoff = time.time() - older_than_hours * 3600
    folders = [d for d in sorted(runs.glob("*")) if d.is_dir()]
    live = [d for d in folders if run_is_active(d)]
    dead = [d for d in folders if d not in live and d.stat().st_mtime <= cutoff
            and not (killed_only and _ended(d))]
    return dead, live


def _ended(run: Path) -> bool:
    """The run (or, on the pytest-xdist route, one of its workers' folders) ended."""
    return (run / ENDED_FILE).exists() or any(run.glob(f"*/{ENDED_FILE}"))


def reap(folders: list[Path], *, dry_run: bool = False,
         say: Callable[[str], None] = print) -> None:
    """Remove the domains, volumes and folders of these dead runs; every failure collected."""
    if not folders:
        return
    ids = {d.name for d in folders}
    failures: list[BaseException] = []
    verb = "would remove" if dry_run else "removing"
    libvirtd.ensure_daemons()
    conn = libvirtd.open_connection()
    try:
        for name in libvirtd.harness_domains(conn):
            if "-".join(name.split("-")[1:4]) in ids:
                say(f"{verb} domain {name}")
                if not dry_run:
                    _collect(failures, partial(libvirtd.remove_domain, conn, name))
        for volume in libvirtd.leftover_volumes(conn):
            if any(run_id in volume for run_id in ids):
                say(f"{verb} volume {volume}")
                if not dry_run:
                    _collect(failures, partial(libvirtd.remove_volume, conn, volume))
    finally:
        conn.close()
    for folder in folders:
        say(f"{verb} {folder}")
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
    if failures:
        raise CleanupErrors(failures)


def _collect(failures: list[BaseException], action: Callable[[], None]) -> None:
    try:
        action()
    except CleanupErrors as exc:
        failures.extend(exc.failures)
    except InfrastructureError as exc:
        failures.append(exc)

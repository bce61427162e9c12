"""Runs own what they start, and what a dead run left goes: its domains, their volumes, the
volumes made before a domain existed, and its state folder.

Only runs of this state folder whose owning process is gone are touched (a shared runner's other
users and live runs are spared); a domain whose run folder is gone is found by its description
(run, owner process, folder: libvirtd.owner_description).  `vmapp gc` reaps them all, kept VMs
included (or only older ones); a new run first reaps the runs that died without ending (killed:
no ``ENDED`` marker), sparing the VMs an engineer asked to keep.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import libvirt

from harness import proc
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


def reap(folders: list[Path], runs: Path, *, dry_run: bool = False,
         say: Callable[[str], None] = print, conn: libvirt.virConnect | None = None) -> None:
    """Remove the domains, volumes and folders of these dead runs, and the domains of dead runs
    of ``runs`` whose folder is gone (found by their description); every failure collected.  A
    run's folder stays while something of the run could not go: it is how the next run or gc
    finds what is left."""
    ids = {d.name for d in folders}
    failed: dict[str, list[BaseException]] = {}
    verb = "would remove" if dry_run else "removing"
    with _connection(conn) as libvirt_conn:
        owners = libvirtd.domain_owners(libvirt_conn)
        for name, owner in owners.items():
            run_id = "-".join(name.split("-")[1:4])
            why = "" if run_id in ids else _orphaned(owner, runs)
            if run_id in ids or why:
                say(f"{verb} domain {name}{why}")
                if not dry_run:
                    _collect(failed.setdefault(run_id, []),
                             partial(libvirtd.remove_domain, libvirt_conn, name))
        for volume in libvirtd.leftover_volumes(libvirt_conn):
            run_id = next((i for i in ids if i in volume), "")
            if run_id:
                say(f"{verb} volume {volume}")
                if not dry_run:
                    _collect(failed.setdefault(run_id, []),
                             partial(libvirtd.remove_volume, libvirt_conn, volume))
    for folder in folders:
        if failed.get(folder.name):
            say(f"keeping {folder}: its run's domains or volumes could not all be removed")
            continue
        say(f"{verb} {folder}")
        if not dry_run:
            shutil.rmtree(folder, ignore_errors=True)
    if failures := [exc for run_failures in failed.values() for exc in run_failures]:
        raise CleanupErrors(failures)


def _orphaned(owner: libvirtd.DomainOwner | None, runs: Path) -> str:
    """Why a domain is a dead run's though its run folder is gone ("": it is not, or its record
    does not say: left alone): made for a folder under ``runs`` that no longer exists, by a
    process that no longer runs."""
    runs = runs.absolute()
    if owner is None or not owner.folder.is_relative_to(runs) or owner.folder == runs:
        return ""
    run_folder = runs / owner.folder.relative_to(runs).parts[0]
    if run_folder.exists() or proc.stamp_alive(owner.owner):
        return ""
    return f" (run {owner.run_id}: its folder {run_folder} is gone, its process ended)"


@contextlib.contextmanager
def _connection(conn: libvirt.virConnect | None) -> Iterator[libvirt.virConnect]:
    """``conn``, or one to the system's libvirtd (started if need be) for the block."""
    if conn is not None:
        yield conn
        return
    libvirtd.ensure_daemons()
    opened = libvirtd.open_connection()
    try:
        yield opened
    finally:
        opened.close()


def _collect(failures: list[BaseException], action: Callable[[], None]) -> None:
    try:
        action()
    except CleanupErrors as exc:
        failures.extend(exc.failures)
    except InfrastructureError as exc:
        failures.append(exc)

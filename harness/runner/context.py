"""Per-run shared state: ids, folders, package storage and the acceleration in use."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.ports import Provider
from harness.scenario.model import Scenario
from harness.storage.azurite import Azurite
from harness.storage.blobs import BlobStore

KEEP_CHOICES = ("never", "on-failure", "always")
MACHINE_CHOICES = ("vagrant", "local")  # real VMs | the host's system in namespaces, no VM


@dataclass(frozen=True)
class RunOptions:
    keep: str = "never"
    retries: int = 1
    cpus: int = 2
    memory_mib: int = 1024
    accel: str = "auto"  # auto | kvm | tcg
    fresh_vm: bool = False  # boot a machine per cell instead of reverting a snapshot
    workers: int = 1  # cells at once, each worker with machines of its own
    idempotence: bool = False  # apply each goal state a second time: nothing may run
    machines: str = "vagrant"  # vagrant (VMs) | local (the host's system in namespaces, no VM)


GIB = 1024 ** 3
MEMORY_PER_WORKER = 2 * GIB  # a 1 GiB guest's QEMU takes ~720 MB; leave the host room


def auto_workers() -> int:
    """Cells at once on this host: one per core, as memory allows (2 cores here: 2)."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError):
        memory = cores * MEMORY_PER_WORKER
    return max(1, min(cores, memory // MEMORY_PER_WORKER))


def vcpus_per_vm(workers: int) -> int:
    """Split the cores between the workers' VMs (at least one each, at most two)."""
    return max(1, min(2, (os.cpu_count() or 1) // workers))


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


OWNER_FILE = "owner.pid"


def claim_run_folder(folder: Path) -> Path:
    """Create a run's folder with the owner's pid and start time in it, so `vmapp gc` spares
    it while that very process lives."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / OWNER_FILE).write_text(f"{proc.process_stamp()}\n")
    return folder


def run_is_active(folder: Path) -> bool:
    """True while the process that owns the run folder, or one of its subfolders (each
    pytest-xdist worker claims its own, on whatever host it runs), is alive (the same
    process: a pid reused by another one does not count)."""
    if _owner_alive(folder):
        return True
    try:
        return any(_owner_alive(sub) for sub in folder.iterdir() if sub.is_dir())
    except OSError:
        return False


def _owner_alive(folder: Path) -> bool:
    """Whether ``folder``'s owner process lives; a damaged owner file means not."""
    try:
        return proc.stamp_alive((folder / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return False


def _quiet(_message: str) -> None:
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class RunContext:
    run_id: str
    report_dir: Path
    vm_root: Path
    store: BlobStore
    storage_port: int
    accel: str  # "kvm" or "tcg"
    provider: Provider
    options: RunOptions
    say: Callable[[str], None] = _quiet  # live progress inside a cell (boot, each step)
    storage: Azurite | None = None  # the server behind ``store`` when the cell has its own

    @staticmethod
    def slug(text: str) -> str:
        return _slug(text)

    def cell_dir(self, cell_id: str) -> Path:
        folder = self.report_dir / "cells" / _slug(cell_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def machine_prefix(self, worker: int) -> str:
        """Every machine (libvirt object) the harness makes starts with vmapp-<run id>."""
        return f"vmapp-{self.run_id}-w{worker}"


@contextlib.contextmanager
def cell_storage(ctx: RunContext, scenario: Scenario) -> Iterator[RunContext]:
    """The run's package storage; or, for a scenario that stops and restarts storage, a server
    of the cell's own (started in the cell's thread, which keeps it alive), so that no other
    cell of the run sees that outage."""
    if not any(s.fault is not None and s.fault.kind == "storage-restart" for s in scenario.steps):
        yield ctx
        return
    folder = Path(tempfile.mkdtemp(prefix="azurite-", dir=ctx.vm_root))
    try:
        with Azurite(folder) as azurite:
            yield dataclasses.replace(
                ctx, store=BlobStore(azurite.account_url, azurite.account, azurite.key),
                storage_port=azurite.port, storage=azurite)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

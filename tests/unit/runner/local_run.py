"""A run context on local machines (the host's system in namespaces, no VM) for runner tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from harness.machines.local import LocalProvider
from harness.runner.context import RunContext, RunOptions
from harness.runner.pool import MachinePool
from harness.storage.azurite import Azurite
from harness.storage.blobs import BlobStore


def local_context(root: Path, azurite: Azurite, run_id: str) -> RunContext:
    return RunContext(run_id=run_id, report_dir=root / "reports", vm_root=root,
                      store=BlobStore(azurite.account_url, azurite.account, azurite.key),
                      storage_port=azurite.port, accel="none", provider=LocalProvider(root),
                      options=RunOptions(retries=0))


@contextlib.contextmanager
def local_pool(root: Path, run_id: str) -> Iterator[tuple[RunContext, MachinePool]]:
    """A run context with its own Azurite, and one worker's pool of local machines."""
    with Azurite(root / "azurite") as azurite:
        ctx = local_context(root, azurite, run_id)
        pool = MachinePool(ctx.provider, root / "machines", f"vmapp-{run_id}-w1")
        yield ctx, pool
        pool.close()

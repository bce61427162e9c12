"""A run context on local machines (the host's system in namespaces, no VM) for runner tests."""

from __future__ import annotations

from pathlib import Path

from harness.machines.local import LocalProvider
from harness.runner.context import RunContext, RunOptions
from harness.storage.azurite import Azurite
from harness.storage.blobs import BlobStore


def local_context(root: Path, azurite: Azurite, run_id: str) -> RunContext:
    return RunContext(run_id=run_id, report_dir=root / "reports", vm_root=root,
                      store=BlobStore(azurite.account_url, azurite.account, azurite.key),
                      storage_port=azurite.port, accel="none", provider=LocalProvider(root),
                      options=RunOptions(retries=0))

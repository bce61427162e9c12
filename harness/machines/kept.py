"""A machine an earlier run kept, found again from its folder: the backend named in its
``machine.json`` makes the provider that made it and attaches to the machine."""

from __future__ import annotations

from pathlib import Path

from harness.machines.local import LocalProvider
from harness.machines.record import MachineGone, read_record
from harness.machines.vagrant import VagrantProvider
from harness.ports import Machine, Provider


def attach(folder: Path) -> tuple[Provider, Machine]:
    """The provider of the kept machine in ``folder`` and the machine, running as it was left."""
    record = read_record(folder)
    fields = record["provider"]
    provider: Provider
    try:
        if record.get("kind") == VagrantProvider.kind:
            provider = VagrantProvider(run_id=str(fields["run_id"]), driver=str(fields["driver"]),
                                       cpus=int(fields["cpus"]),
                                       memory_mib=int(fields["memory_mib"]))
        elif record.get("kind") == LocalProvider.kind:
            provider = LocalProvider(Path(fields["root"]))
        else:
            raise MachineGone(stage="find kept machine",
                              detail=f"{folder}: unknown machine kind {record.get('kind')!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise MachineGone(stage="find kept machine",
                          detail=f"{folder}: damaged machine.json ({exc!r})") from exc
    return provider, provider.attach(folder)

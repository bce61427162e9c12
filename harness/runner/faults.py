"""Fault injection: one handler per fault kind of the scenario schema (``FAULT_KEYS``).

A fault changes the world the next steps run in: storage, links, commands or the network.
Adding a kind means a row in ``harness.scenario.schema.FAULT_KEYS`` and a handler here.
"""

from __future__ import annotations

from collections.abc import Callable

from harness.runner.live import LiveCell
from harness.runner.state import CellState
from harness.scenario.model import Fault

FaultHandler = Callable[[LiveCell, CellState, Fault], str]


def _versions(cell: LiveCell, fault: Fault) -> list[str]:
    return [fault.version] if fault.version else list(cell.scenario.apps[fault.app].versions)


def blob_missing(cell: LiveCell, state: CellState, fault: Fault) -> str:
    versions = _versions(cell, fault)
    for version in versions:
        blob = cell.published.package(fault.app, version)
        cell.ctx.store.delete(blob.container, blob.name)
    return f"deleted the package blob of {fault.app}@{', '.join(versions)}"


def sas_expired(cell: LiveCell, state: CellState, fault: Fault) -> str:
    versions = _versions(cell, fault)
    state.faults.expired.update(f"{fault.app}@{v}" for v in versions)
    return f"the agent gets expired links for {fault.app}@{', '.join(versions)} from now on"


def command_fails(cell: LiveCell, state: CellState, fault: Fault) -> str:
    versions = [v for v in _versions(cell, fault)
                if fault.operation != "update"
                or cell.scenario.apps[fault.app].versions[v].update is not None]
    for version in versions:
        state.faults.failing[(f"{fault.app}@{version}", fault.operation)] = fault.exit_code
    return (f"the {fault.operation} command of {fault.app}@{', '.join(versions)} exits "
            f"{fault.exit_code} in goal states sent from now on")


def network_cut(cell: LiveCell, state: CellState, fault: Fault) -> str:
    cell.agent.channel.close_forward(cell.ctx.storage_port)
    return "closed the guest's forward to package storage"


def network_restore(cell: LiveCell, state: CellState, fault: Fault) -> str:
    cell.agent.channel.forward_to_host(cell.ctx.storage_port)
    return "reopened the guest's forward to package storage"


FAULT_HANDLERS: dict[str, FaultHandler] = {
    "blob-missing": blob_missing, "sas-expired": sas_expired, "command-fails": command_fails,
    "network-cut": network_cut, "network-restore": network_restore,
}

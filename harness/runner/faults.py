"""Fault injection: one handler per fault kind of the scenario schema (``FAULT_KEYS``).

A fault changes the world the next steps run in: storage, links, commands, the network or the
guest's disk.  Adding a kind means a row in ``harness.scenario.schema.FAULT_KEYS`` and a handler
here; a fault armed for the next goal state also acts in :class:`ArmedFaults`.
"""

from __future__ import annotations

import json
import posixpath
import shlex
import time
from collections.abc import Callable
from typing import Any

from harness.ports import AgentPoll
from harness.runner.live import LiveCell
from harness.runner.state import CellState
from harness.scenario.model import Fault
from harness.storage.azurite import Azurite

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


def mid_command(cell: LiveCell, state: CellState, fault: Fault) -> str:
    state.faults.mid_command[fault.app] = fault.kind
    what = {"power-cut": "the VM's power is cut (hard reset)",
            "agent-killed": "the agent is killed (SIGKILL), then the goal state re-sent"}
    return f"{what[fault.kind]} while {fault.app}'s command runs in the next goal state"


def disk_full(cell: LiveCell, state: CellState, fault: Fault) -> str:
    guest = cell.machine.guest
    guest.fill_disk(cell.agent.channel, fault.free_kib)
    return (f"the disk under {guest.downloads_dir} (downloads and install commands) has "
            f"{fault.free_kib} KiB of room left")


def disk_freed(cell: LiveCell, state: CellState, fault: Fault) -> str:
    guest = cell.machine.guest
    guest.free_disk(cell.agent.channel)
    return f"the disk under {guest.downloads_dir} has its room back (what was written kept)"


def _own_storage(cell: LiveCell) -> Azurite:
    """The cell's package storage server: ``cell_storage`` gives a scenario that restarts
    storage a server of its own."""
    assert cell.ctx.storage is not None, "a storage-restart cell runs with storage of its own"
    return cell.ctx.storage


def storage_restart(cell: LiveCell, state: CellState, fault: Fault) -> str:
    _own_storage(cell).stop()
    state.faults.storage_back_after = fault.seconds
    return (f"package storage stopped; it starts again {fault.seconds:g} s into the next goal "
            "state")


class ArmedFaults:
    """What armed faults do while one goal state runs, seen from the host's polls: strike when
    an app's command runs (power cut, or kill the agent and send the goal state again), and
    start stopped package storage again once its time into the goal state has come."""

    def __init__(self, cell: LiveCell, state: CellState, goal: dict[str, Any]) -> None:
        self.cell, self.faults, self.goal = cell, state.faults, goal
        self.started = time.monotonic()

    def on_poll(self, poll: AgentPoll) -> str | None:
        """Called at every poll; says what it did, if anything."""
        back = self.faults.storage_back_after
        if back is not None and time.monotonic() - self.started >= back:
            return self._storage_back()
        running = _running_apps(poll)
        for app in [a for a in self.faults.mid_command
                    if a in running and _command_started(self.cell, poll, a)]:
            kind = self.faults.mid_command.pop(app)
            if kind == "power-cut":
                self.cell.machine.reset()
                return f"power cut while {app}: {running[app]}"
            guest, channel = self.cell.machine.guest, self.cell.agent.channel
            guest.kill_agent(channel)
            guest.start_agent(channel, json.dumps(self.goal, indent=2).encode(),
                              int(self.goal["sequenceNumber"]))
            return f"agent killed while {app}: {running[app]}; goal state sent again"
        return None

    def finish(self) -> list[str]:
        """Once the goal state has ended: storage it ended before is started again."""
        return [self._storage_back()] if self.faults.storage_back_after is not None else []

    def _storage_back(self) -> str:
        _own_storage(self.cell).start()
        self.faults.storage_back_after = None
        return (f"package storage started again {time.monotonic() - self.started:.0f} s into "
                "the goal state")


def _command_started(cell: LiveCell, poll: AgentPoll, app: str) -> bool:
    """Whether ``app``'s running command has really begun. The status says RUNNING from just
    before the launch; the command's own first act is its "started" marker beside its output
    (docs/agent.md). A strike before that would hit an agent that has not yet run it, and a
    slow guest (debian-testing under TCG) was struck there."""
    try:
        operations = json.loads(poll.details.decode(errors="replace"))["operations"]
        stdout = [op["stdoutPath"] for op in operations
                  if op["app"] == app and op["result"] == "RUNNING"][-1]
    except (ValueError, KeyError, IndexError, TypeError):
        return False
    marker = posixpath.splitext(stdout)[0] + ".started"
    return cell.agent.channel.run(f"test -e {shlex.quote(marker)}").exit_code == 0


def _running_apps(poll: AgentPoll) -> dict[str, str]:
    """App -> its result, for the apps whose command runs now (``Install RUNNING``...)."""
    text = poll.status.decode(errors="replace")
    try:
        status = json.loads(text)
        message = status[0]["status"]["formattedMessage"]["message"]
        body = json.loads(message[message.index("{"):])
    except (ValueError, KeyError, IndexError, TypeError):
        return {}
    return {a["applicationName"]: a["result"] for a in body.get("CurrentState", [])
            if str(a.get("result", "")).endswith("RUNNING")}


FAULT_HANDLERS: dict[str, FaultHandler] = {
    "blob-missing": blob_missing, "sas-expired": sas_expired, "command-fails": command_fails,
    "network-cut": network_cut, "network-restore": network_restore,
    "power-cut": mid_command, "agent-killed": mid_command,
    "disk-full": disk_full, "disk-freed": disk_freed, "storage-restart": storage_restart,
}

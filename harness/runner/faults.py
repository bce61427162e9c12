"""Fault injection: one handler per fault kind of the scenario schema (``FAULT_KEYS``).

A fault changes the world the next steps run in: storage, links, commands or the network.
Adding a kind means a row in ``harness.scenario.schema.FAULT_KEYS`` and a handler here.
"""

from __future__ import annotations

import json
import posixpath
import shlex
from collections.abc import Callable
from typing import Any

from harness.ports import AgentPoll
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


def mid_command(cell: LiveCell, state: CellState, fault: Fault) -> str:
    state.faults.mid_command[fault.app] = fault.kind
    what = {"power-cut": "the VM's power is cut (hard reset)",
            "agent-killed": "the agent is killed (SIGKILL), then the goal state re-sent"}
    return f"{what[fault.kind]} while {fault.app}'s command runs in the next goal state"


def strike_mid_command(cell: LiveCell, state: CellState, goal: dict[str, Any]
                       ) -> Callable[[AgentPoll], str | None]:
    """A poll hook for one goal state: when an app with an armed fault shows a command
    running, strike once (power cut, or kill the agent and send the goal state again) and say
    what was done."""

    def strike(poll: AgentPoll) -> str | None:
        running = _running_apps(poll)
        for app in [a for a in state.faults.mid_command
                    if a in running and _command_started(cell, poll, a)]:
            kind = state.faults.mid_command.pop(app)
            if kind == "power-cut":
                cell.machine.reset()
                return f"power cut while {app}: {running[app]}"
            guest, channel = cell.machine.guest, cell.agent.channel
            guest.kill_agent(channel)
            guest.start_agent(channel, json.dumps(goal, indent=2).encode(),
                              int(goal["sequenceNumber"]))
            return f"agent killed while {app}: {running[app]}; goal state sent again"
        return None

    return strike


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
}

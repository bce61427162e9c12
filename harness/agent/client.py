"""Host side of the guest agent: push it, hand it goal states, follow its status across reboots.

The agent runs detached inside the guest (a transient systemd unit), so a command that reboots the
VM does not take the harness's connection down with the work: the client polls the status file,
reconnects when the guest comes back (a new boot id), and waits for the resumed agent to finish.
"""

from __future__ import annotations

import json
import shlex
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import GuestUnreachable, InfrastructureError
from harness.ports import Channel
from harness.redact import redact_bytes, redact_tar_gz

AGENT_SOURCE = Path(__file__).with_name("vmapp_agent.py")
GUEST_AGENT = "/usr/local/lib/vmapp/vmapp_agent.py"
GUEST_GOALS = "/var/lib/vmapp/goal-states"
EXTENSION_DIR = "/var/lib/waagent/Microsoft.CPlat.Core.VMApplicationManagerLinux-1.0.9"
DOWNLOADS_DIR = "/var/lib/waagent/Microsoft.CPlat.Core.VMApplicationManagerLinux"
AGENT_LOG = "/var/log/azure/Microsoft.CPlat.Core.VMApplicationManagerLinux/vmapp-agent.log"


class AgentCrashed(InfrastructureError):
    """The agent itself failed (not an app): the harness's own stand-in misbehaved."""


@dataclass
class Outcome:
    """What one goal state produced: the extension status and the agent's per-command details."""

    sequence: int
    status: list[dict[str, Any]]
    details: dict[str, Any]
    reboots: list[str] = field(default_factory=list)  # boot ids seen after the first

    @property
    def handler(self) -> dict[str, Any]:
        return dict(self.status[0]["status"])

    @property
    def extension_status(self) -> str:
        return str(self.handler["status"])

    @property
    def message(self) -> str:
        return str(self.handler["formattedMessage"]["message"])

    @property
    def message_body(self) -> dict[str, Any]:
        """The JSON part of "Enable succeeded: {...}"."""
        text = self.message
        start = text.find("{")
        body: dict[str, Any] = json.loads(text[start:]) if start >= 0 else {}
        return body


def boot_id(channel: Channel) -> str:
    return channel.run("cat /proc/sys/kernel/random/boot_id", sudo=False).text.strip()


class AgentClient:
    """Drives the agent through a channel factory (so it can reconnect after reboots)."""

    def __init__(self, connect: Callable[[], Channel], *, vm: str) -> None:
        self._connect = connect
        self.vm = vm
        self.channel = connect()

    def reconnect(self) -> Channel:
        try:
            self.channel.close()
        finally:
            self.channel = self._connect()
        return self.channel

    def install(self) -> None:
        self.channel.put(AGENT_SOURCE.read_bytes(), GUEST_AGENT, mode=0o755)

    def version(self) -> str:
        """The agent's own version, from its ``capabilities`` command."""
        done = self.channel.run(self.agent("capabilities"))
        if done.exit_code != 0:
            raise AgentCrashed(stage="agent capabilities", vm=self.vm, detail=done.error_text)
        return str(json.loads(done.stdout)["agentVersion"])

    def agent(self, args: str) -> str:
        return f"python3 {GUEST_AGENT} {args}"

    def apply(self, goal: dict[str, Any], *, timeout: float, on_reconnect: Callable[[Channel],
              None] = lambda _c: None, poll: float = 1.0) -> Outcome:
        seq = int(goal["sequenceNumber"])
        path = f"{GUEST_GOALS}/{seq}.json"
        self.channel.put(json.dumps(goal, indent=2).encode(), path, mode=0o600)
        first_boot = boot_id(self.channel)
        unit = f"vmapp-apply-{seq}"
        started = self.channel.run(
            f"systemd-run --unit={unit} --collect --quiet -p KillMode=process "
            f"{self.agent('apply ' + path)}")
        if started.exit_code != 0:
            raise InfrastructureError(stage="start agent", vm=self.vm,
                                      detail=started.error_text.strip())
        boots: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                current = boot_id(self.channel)
                if current != first_boot and current not in boots:
                    boots.append(current)
                if self._finished(seq, unit):
                    return self._outcome(seq, first_boot, boots)
            except GuestUnreachable:
                self._wait_for_guest(deadline)
                on_reconnect(self.channel)
                continue
            time.sleep(poll)
        raise InfrastructureError(stage="agent apply", vm=self.vm,
                                  detail=f"goal state {seq} not finished after {timeout:.0f}s")

    def _wait_for_guest(self, deadline: float) -> None:
        last = ""
        while time.monotonic() < deadline:
            try:
                self.reconnect()
                return
            except GuestUnreachable as exc:
                last = str(exc)
                time.sleep(2)
        raise InfrastructureError(stage="reconnect after reboot", vm=self.vm, detail=last)

    def _finished(self, seq: int, unit: str) -> bool:
        active = self.channel.run(f"systemctl is-active {unit} vmapp-agent-resume.service")
        if any(state in ("active", "activating") for state in active.text.split()):
            return False
        mrseq = self.channel.run(f"cat {EXTENSION_DIR}/mrseq").text.strip()
        if mrseq != str(seq):
            journal = self.channel.run(f"journalctl -u {unit} --no-pager -n 50").text
            raise AgentCrashed(stage="agent apply", vm=self.vm,
                               detail=f"goal state {seq} produced no status:\n{journal}")
        status = json.loads(self.channel.get(f"{EXTENSION_DIR}/status/{seq}.status"))
        return bool(status[0]["status"]["status"] != "transitioning")

    def _outcome(self, seq: int, first_boot: str, observed: list[str]) -> Outcome:
        status = json.loads(self.channel.get(f"{EXTENSION_DIR}/status/{seq}.status"))
        details = json.loads(self.channel.get(f"{EXTENSION_DIR}/status/{seq}.details.json"))
        # Boots the deployment spanned: those the agent journalled per command, plus those the
        # host saw while polling (a reboot between polls is still in the agent's records).
        recorded = [op.get(key) for op in details.get("operations", [])
                    for key in ("bootId", "finishedBootId")]
        boots = [b for b in dict.fromkeys([*recorded, *observed, details.get("bootId")])
                 if b and b != first_boot]
        return Outcome(sequence=seq, status=status, details=details, reboots=boots)

    def collect(self, dest: Path) -> list[str]:
        """Copy the agent's log, settings, status and download folders into ``dest``; the
        status files, also extracted, are returned."""
        dest.mkdir(parents=True, exist_ok=True)
        archive = self.channel.run(
            "tar -C / -czf - --ignore-failed-read " + " ".join(shlex.quote(p.lstrip("/")) for p in
                                                                (EXTENSION_DIR, DOWNLOADS_DIR,
                                                                 AGENT_LOG.rsplit("/", 1)[0])),
            timeout=120)
        (dest / "guest-files.tar.gz").write_bytes(redact_tar_gz(archive.stdout))
        log = self.channel.run(f"cat {AGENT_LOG}")
        (dest / "agent.log").write_bytes(redact_bytes(log.stdout))
        return status_files(dest / "guest-files.tar.gz", dest / "status")


def status_files(archive: Path, dest: Path) -> list[str]:
    """The extension's status files, the agent's per-command details and the app registry out of
    the collected archive, so the report shows them without unpacking it; their paths relative
    to ``dest``'s parent."""
    root = EXTENSION_DIR.lstrip("/") + "/"
    names = []
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                inside = member.name.removeprefix(root)
                wanted = (inside.startswith("status/") and inside.count("/") == 1) \
                    or inside == "config/applicationRegistry.active"
                source = tar.extractfile(member) if member.isfile() and wanted \
                    and member.name.startswith(root) else None
                if source is not None:
                    dest.mkdir(parents=True, exist_ok=True)
                    name = inside.rsplit("/", 1)[-1]
                    (dest / name).write_bytes(source.read())
                    names.append(f"{dest.name}/{name}")
    except (tarfile.TarError, OSError, EOFError):
        pass  # an empty or cut archive: what came before the cut, the tarball has the rest
    return sorted(names)

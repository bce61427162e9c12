"""Host side of the guest agent: push it, hand it goal states, follow its status across reboots.

How the agent is started, followed and resumed at boot is the guest OS's business
(:class:`harness.ports.GuestOS`): the client only polls the status file through the channel,
reconnects when the guest comes back (a new boot id), and waits for the resumed agent to finish.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import GuestUnreachable, InfrastructureError
from harness.ports import AgentPoll, Channel, GuestOS, archive_member
from harness.redact import redact_bytes, redact_tar_gz
from harness.waiting import Deadline, wait_until

AGENT_SOURCE = Path(__file__).with_name("vmapp_agent.py")


class AgentCrashed(InfrastructureError):
    """The agent itself failed (not an app): the harness's own stand-in misbehaved."""


@dataclass
class Outcome:
    """What one goal state produced: the extension status and the agent's per-command details."""

    sequence: int
    status: list[dict[str, Any]]
    details: dict[str, Any]
    reboots: list[str] = field(default_factory=list)  # boot ids seen after the first
    events: list[str] = field(default_factory=list)  # what the poll hook did meanwhile

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


class AgentClient:
    """Drives the agent through a channel factory (so it can reconnect after reboots)."""

    def __init__(self, connect: Callable[[], Channel], guest: GuestOS, *, vm: str) -> None:
        self._connect = connect
        self.guest = guest
        self.vm = vm
        self.channel = connect()

    def reconnect(self) -> Channel:
        try:
            self.channel.close()
        finally:
            self.channel = self._connect()
        return self.channel

    def boot_id(self) -> str:
        return self.guest.boot_id(self.channel)

    @staticmethod
    def source_digest(guest: GuestOS) -> str:
        """What the host would install on ``guest``, the agent and what its guest OS puts
        beside it (a warm machine must have this)."""
        return hashlib.sha256(AGENT_SOURCE.read_bytes()
                              + guest.install_digest().encode()).hexdigest()[:16]

    def install(self) -> None:
        self.guest.install_agent(self.channel, AGENT_SOURCE.read_bytes())

    def warm_up(self, timeout: float) -> None:
        """Apply an empty goal state (sequence number 0) once, before any cell: the agent then
        has its resume-at-boot hook in place (under TCG a systemd reload is seconds) and the
        machine looks like one whose extension has run before."""
        self.apply({"sequenceNumber": 0, "os": self.guest.name, "options": {},
                    "applications": []}, timeout=timeout)

    def version(self) -> str:
        """The agent's own version, from its ``capabilities`` command."""
        done = self.channel.run(self.guest.agent_command("capabilities"))
        if done.exit_code != 0:
            raise AgentCrashed(stage="agent capabilities", vm=self.vm, detail=done.error_text)
        return str(json.loads(done.stdout)["agentVersion"])

    def newest_sequence(self) -> int:
        """The newest goal state the agent has seen on this machine (its mrseq; 0 for none): on a
        machine that is not fresh, the next goal state must come after it."""
        mrseq = self.guest.poll(self.channel, 0).mrseq
        return int(mrseq) if mrseq.isdigit() else 0

    def newest_outcome(self) -> Outcome:
        """What the newest goal state left in the status files, as the machine holds them now."""
        seq = self.newest_sequence()
        final = self.guest.poll(self.channel, seq)
        return self._outcome(seq, final, final.boot_id, [])

    def apply(self, goal: dict[str, Any], *, timeout: float,
              on_reconnect: Callable[[Channel], None] = lambda _c: None,
              on_poll: Callable[[AgentPoll], str | None] = lambda _p: None,
              poll: float = 1.0) -> Outcome:
        """Hand the agent ``goal`` and follow it to its end, across reboots; ``on_poll`` sees
        every poll (a fault may strike there) and what it says it did is kept as an event."""
        seq = int(goal["sequenceNumber"])
        first_boot = self.guest.start_agent(self.channel, json.dumps(goal, indent=2).encode(),
                                            seq)
        boots: list[str] = []
        events: list[str] = []
        last: list[AgentPoll] = []
        deadline = Deadline(timeout)

        def finished() -> bool:
            try:
                seen = self.guest.poll(self.channel, seq)
                if seen.boot_id != first_boot and seen.boot_id not in boots:
                    boots.append(seen.boot_id)
                event = on_poll(seen)
                if event:
                    events.append(event)
                    return False
                last[:] = [seen]
                return self._finished(seq, seen)
            except GuestUnreachable:
                self.wait_for_guest(deadline)
                on_reconnect(self.channel)
                return False

        wait_until(finished, stage="agent apply", what=f"goal state {seq} to finish",
                   timeout=timeout, interval=poll, vm=self.vm)
        outcome = self._outcome(seq, last[0], first_boot, boots)
        outcome.events = events
        return outcome

    def wait_for_guest(self, deadline: Deadline) -> Channel:
        """Reconnect once the guest answers again (after a reboot or a power cut)."""
        return wait_until(self.reconnect, stage="reconnect after reboot",
                          what="the guest to answer again", timeout=deadline.remaining(),
                          interval=2, vm=self.vm, retry_on=(GuestUnreachable,))

    def _finished(self, seq: int, poll: AgentPoll) -> bool:
        if poll.busy:
            return False
        if poll.mrseq != str(seq) or not poll.status:
            raise AgentCrashed(stage="agent apply", vm=self.vm,
                               detail=f"goal state {seq} produced no status:\n"
                                      f"{self.guest.agent_journal(self.channel, seq)}")
        status = json.loads(poll.status)
        return bool(status[0]["status"]["status"] != "transitioning")

    def _outcome(self, seq: int, final: AgentPoll, first_boot: str,
                 observed: list[str]) -> Outcome:
        try:
            status = json.loads(final.status)
            details = json.loads(final.details)
        except ValueError as exc:
            raise AgentCrashed(stage="agent apply", vm=self.vm,
                               detail=f"goal state {seq} left an unreadable status or details "
                                      f"file: {exc}") from exc
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
        guest = self.guest
        archive = guest.archive(self.channel, [guest.extension_dir, guest.downloads_dir,
                                               guest.agent_log.rsplit("/", 1)[0]],
                                exclude=[f"{guest.extension_dir}/bin"])  # the agent's own copy
        (dest / "guest-files.tar.gz").write_bytes(redact_tar_gz(archive))
        try:
            log = self.channel.get(guest.agent_log)
        except GuestUnreachable:
            raise
        except InfrastructureError:  # no log written yet
            log = b""
        (dest / "agent.log").write_bytes(redact_bytes(log))
        return status_files(dest / "guest-files.tar.gz", dest / "status", guest.status_dir,
                            guest.registry_file)

def status_files(archive: Path, dest: Path, status_dir: str, registry_file: str) -> list[str]:
    """The extension's status files, the agent's per-command details and the app registry out of
    the collected archive, so the report shows them without unpacking it; their paths relative
    to ``dest``'s parent."""
    root = archive_member(status_dir) + "/"
    names = []
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                inside = member.name.removeprefix(root)
                wanted = (member.name.startswith(root) and "/" not in inside) \
                    or member.name == archive_member(registry_file)
                source = tar.extractfile(member) if member.isfile() and wanted else None
                if source is not None:
                    dest.mkdir(parents=True, exist_ok=True)
                    name = member.name.rsplit("/", 1)[-1]
                    (dest / name).write_bytes(source.read())
                    names.append(f"{dest.name}/{name}")
    except (tarfile.TarError, OSError, EOFError):
        pass  # an empty or cut archive: what came before the cut, the tarball has the rest
    return sorted(names)

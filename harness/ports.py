"""The small interfaces the runner talks to.  Nothing above ``harness.machines`` knows which
backend stands behind them: a Vagrant VM, a reverted snapshot, a local temp root or WinRM.

* :class:`Channel` -- commands, files and forwards into one running guest.
* :class:`GuestOS` -- what differs between guest systems: how the agent is started and followed,
  where its files are, how a boot is told apart, how the clock is set.
* :class:`Machine` -- a guest's lifecycle verbs.
* :class:`Provider` -- makes machines of an image.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Protocol


@dataclass(frozen=True)
class Exec:
    """One command's outcome inside a guest."""

    command: str
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode(errors="replace")

    @property
    def error_text(self) -> str:
        return self.stderr.decode(errors="replace")


class Channel(Protocol):
    """A command/file channel into a running guest."""

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec: ...

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None: ...

    def get(self, path: str) -> bytes: ...

    def forward_to_host(self, port: int) -> None:
        """Make the host's 127.0.0.1:port reachable at the guest's 127.0.0.1:port."""

    def close_forward(self, port: int) -> None:
        """Cut that route again (a "network cut" fault)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class AgentPoll:
    """One look at the agent: the boot, whether it still works, its newest sequence number and
    the status and details files of the goal state asked about (empty when there are none
    yet; final once ``busy`` is false, so the client needs no second round trip)."""

    boot_id: str
    busy: bool
    mrseq: str
    status: bytes
    details: bytes = b""


class GuestOS(Protocol):
    """The guest system's side of the agent: the runner never spells an OS command itself."""

    name: str  # the goal state's "os": linux | windows
    label: str  # how reports name the guest kind, e.g. "linux-systemd"
    extension_dir: str
    downloads_dir: str
    status_dir: str  # the extension's <seq>.status and <seq>.details.json
    registry_file: str  # the agent's registry of installed apps
    agent_log: str

    def install_agent(self, channel: Channel, source: bytes) -> None: ...

    def install_digest(self) -> str:
        """A digest of what ``install_agent`` puts beside the agent (config, programs): a warm
        copy of a ready machine holds what was installed then, so it is part of its key."""

    def agent_command(self, args: str) -> str:
        """The command line that runs the agent with ``args`` in the foreground."""

    def start_agent(self, channel: Channel, goal: bytes, seq: int) -> str:
        """Store goal state ``seq`` and start applying it detached from the channel, in one
        round trip; returns the boot id it started in."""

    def poll(self, channel: Channel, seq: int) -> AgentPoll:
        """Where goal state ``seq`` stands, in one round trip."""

    def kill_agent(self, channel: Channel) -> None:
        """SIGKILL every running agent process (a fault: the commands they started live on)."""

    def fill_disk(self, channel: Channel, free_kib: int) -> None:
        """Leave only ``free_kib`` KiB of room in the folder the agent downloads and installs in
        (a "disk full" fault), keeping what it holds: the guest's own space, never the host's."""

    def free_disk(self, channel: Channel) -> None:
        """Give that room back, keeping what was written there meanwhile."""

    def agent_journal(self, channel: Channel, seq: int) -> str:
        """What the OS logged of the agent's run of ``seq`` (for a crash report)."""

    def boot_id(self, channel: Channel) -> str: ...

    def wait_ready(self, channel: Channel, timeout: float) -> None:
        """Last readiness stage after the channel answers (e.g. systemd finished booting)."""

    def request_reboot(self, channel: Channel) -> None:
        """Ask the guest for a clean reboot (the call may lose its connection)."""

    def set_clock(self, channel: Channel, epoch: float) -> None: ...

    def checks_channel(self, channel: Channel) -> Channel:
        """The channel a scenario's checks run commands through (the guest's own shell, or
        cmd.exe for a Windows guest)."""

    def archive(self, channel: Channel, paths: list[str], exclude: list[str]) -> bytes:
        """A .tar.gz of ``paths`` without ``exclude`` (missing ones skipped), each named by
        :func:`archive_member`."""

    def facts(self, channel: Channel) -> dict[str, str]:
        """The image's own facts as the running guest reports them (kernel, OS release, tool
        versions, a digest of its package list, ...), name -> one line; a fact the guest
        cannot give is left out, never an error.  Read once per machine, for the reports."""


def archive_member(path: str) -> str:
    """The name a guest path has in :meth:`GuestOS.archive`'s tar: relative to ``/``, or to
    the drive on Windows (``C:\\Packages\\x`` is ``Packages/x``)."""
    windows = PureWindowsPath(path)
    return "/".join(windows.parts[1:]) if windows.drive else path.lstrip("/")


class Machine(Protocol):
    """A guest the harness owns, from first boot to destroy."""

    name: str
    folder: Path
    ready_seconds: int  # how long the guest may take to be ready after a (re)boot

    @property
    def guest(self) -> GuestOS: ...

    @property
    def image_key(self) -> str:
        """Which build of the image it runs."""

    @property
    def console_log(self) -> Path: ...

    @property
    def started(self) -> bool:
        """Whether boot() was attempted: there may be something to destroy."""

    def boot(self) -> None:
        """Create and start the machine; returns once its channel can connect."""

    def resume_warm(self, snapshot: str, agent: str) -> bool:
        """Instead of boot(): come up, running at ``snapshot``, from a copy of a ready machine
        of the same kind with ``agent`` (a digest of the agent) that ``save_warm`` kept, in any
        earlier run; False when there is none."""

    def save_warm(self, snapshot: str, agent: str) -> None:
        """Keep a copy of this ready machine, just snapshotted, for ``resume_warm``."""

    def connect(self) -> Channel: ...

    def reboot(self) -> None:
        """A clean reboot, asked of the guest; returns without waiting for it."""

    def power_off(self) -> None:
        """Pull the plug (no shutdown)."""

    def power_on(self) -> None: ...

    def reset(self) -> None:
        """Hard reset, as a power cut followed by power on."""

    def snapshot(self, name: str) -> None:
        """Save disk and memory as ``name`` (replacing an older one of that name)."""

    def revert(self, name: str) -> None:
        """Back to snapshot ``name``, running."""

    def login_hint(self) -> str: ...

    def destroy(self) -> None: ...


class Provider(Protocol):
    """Makes machines of an image; ``kind`` names the backend in reports."""

    kind: str

    def prepare(self, image: str) -> None:
        """Make sure the image's current build exists (built now if it is not), so that its
        builds can be listed before a machine is made."""

    def create(self, image: str, *, name: str, folder: Path, ready_seconds: int | None = None,
               build: str | None = None) -> Machine:
        """A machine of ``image``, not started yet (``ready_seconds`` overrides the image's);
        ``build``: the cache key of the build to boot (an older image version), None for the
        recipe's current build."""

    def attach(self, folder: Path) -> Machine:
        """The machine an earlier run kept in ``folder`` (one this backend made), running and
        as that run left it: nothing reverted (an engineer works on it between runs)."""

"""A machine with no VM: the host's own system as an overlay in private namespaces.

The "guest" is a mount and PID namespace whose root is an overlay of the host's ``/``: every
write lands in the machine's folder, the host's files never change, and every process the
machine starts dies with it.  The agent, its goal states and the scenario's own commands run
there for real (dpkg, tar, unzip, python3 of the host), so the runner can be driven end to end
without booting anything.  A reboot or power cut kills the namespace's init and starts it again
with a new boot id (then the agent's ``resume`` runs, as its systemd unit would); a snapshot is a
copy of the overlay's upper layer.  No systemd runs inside: scenarios that need services, or
commands that reboot the system themselves, need a real VM.  Needs root (unshare, mount).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from harness import proc
from harness.errors import GuestUnreachable, InfrastructureError
from harness.images.recipe import find_recipe, unknown_image
from harness.machines.linux import LinuxSystemd
from harness.machines.record import MachineGone, read_record, write_record
from harness.machines.winestandin import WineStandin
from harness.ports import Channel, Exec
from harness.waiting import wait_until

BOOT_ID = "/run/vmapp-local/boot_id"
READY = "/run/vmapp-local-ready"  # made once every mount of the machine is in place
BUSY = "/run/vmapp-local/apply-{seq}.busy"
INIT = """set -e
mount -t overlay overlay -o lowerdir=/,upperdir={upper},workdir={work} {merged}
mount -t proc proc {merged}/proc
mount --rbind /dev {merged}/dev
mount -t tmpfs tmpfs {merged}/tmp
mount -t tmpfs tmpfs {merged}/run
touch {merged}{ready}
exec sleep infinity
"""


class LocalChannel:
    """Commands and files inside a local machine (as root; the host's network is shared, so
    host services are already reachable)."""

    def __init__(self, machine: LocalMachine) -> None:
        self.machine = machine

    def _enter(self, command: str) -> list[str]:
        pid = self.machine.init_pid()
        return ["nsenter", "-t", str(pid), "-m", "-p", "--", "chroot", str(self.machine.merged),
                "/bin/sh", "-c", command]

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600,
            input_bytes: bytes | None = None) -> Exec:
        code, out, err = proc.capture(self._enter(command), stage="local command",
                                      timeout=timeout, input_bytes=input_bytes)
        return Exec(command=command, exit_code=code, stdout=out, stderr=err)

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        target = shlex.quote(path)
        done = self.run(f"mkdir -p {shlex.quote(os.path.dirname(path))} && cat > {target} && "
                        f"chmod {mode:o} {target}", input_bytes=data)
        if done.exit_code != 0:
            raise InfrastructureError(stage="local upload", vm=self.machine.name,
                                      detail=f"{path}: {done.error_text.strip()}")

    def get(self, path: str) -> bytes:
        done = self.run(f"cat {shlex.quote(path)}")
        if done.exit_code != 0:
            raise InfrastructureError(stage="local download", vm=self.machine.name,
                                      detail=f"{path}: {done.error_text.strip()}")
        return done.stdout

    def forward_to_host(self, port: int) -> None:
        """Nothing to do: the machine shares the host's network."""

    def close_forward(self, port: int) -> None:
        raise InfrastructureError(stage="network cut", vm=self.machine.name,
                                  detail="a local machine shares the host's network")

    def close(self) -> None:
        """Nothing to close: every command is a process of its own."""


class LocalGuest(LinuxSystemd):
    """The agent detached with a busy marker instead of a systemd unit, and a boot id file."""

    label = "local-overlay"

    def agent_command(self, args: str) -> str:
        return f"{self.python} {self.agent_path} --boot-id-file {BOOT_ID} {args}"

    def launch_command(self, path: str, seq: int) -> str:
        return detached(self.agent_command("apply " + shlex.quote(path)), BUSY.format(seq=seq))

    def busy_command(self, seq: int) -> str:
        return f"{{ [ -e {BUSY.format(seq=seq)} ] || [ -e {BUSY.format(seq='resume')} ]; }} " \
            "&& echo busy"

    def boot_id_command(self) -> str:
        return f"cat {BOOT_ID}"

    def agent_journal(self, channel: Channel, seq: int) -> str:
        return channel.run(f"tail -n 50 {BUSY.format(seq=seq)}.log").text

    def wait_ready(self, channel: Channel, timeout: float) -> None:
        """Ready as soon as the namespace exists."""

    def request_reboot(self, channel: Channel) -> None:
        raise InfrastructureError(stage="reboot", detail="a local machine reboots through "
                                  "Machine.reboot(), not from inside")

    def set_clock(self, channel: Channel, epoch: float) -> None:
        """The host's clock is the machine's."""


class LocalWineStandin(WineStandin, LocalGuest):
    """The wine stand-in on a local machine: the host's wine, the prefix in the overlay."""

    label = "wine stand-in (local overlay)"


def detached(command: str, marker: str) -> str:
    """``command`` in the background, ``marker`` existing (from before this returns) while it
    runs, its output beside; usable as the last part of an ``&&`` list."""
    m = shlex.quote(marker)
    return (f"mkdir -p {shlex.quote(os.path.dirname(marker))} && touch {m} && "
            f"{{ (setsid sh -c {shlex.quote(command)} > {m}.log 2>&1; rm -f {m}) "
            f"</dev/null >/dev/null 2>&1 & }}")


@dataclass
class LocalMachine:
    name: str
    folder: Path
    guest: LocalGuest = field(default_factory=LocalGuest)
    ready_seconds: int = 30
    started: bool = False
    boot_id: str = ""  # this boot's id: /run is a tmpfs, written again at every start
    _init: subprocess.Popen[bytes] | None = None

    image_key = "host"

    @property
    def console_log(self) -> Path:
        return self.folder / "console.log"

    @property
    def merged(self) -> Path:
        return self.folder / "merged"

    def init_pid(self) -> int:
        """The host pid of the namespace's init (what nsenter joins)."""
        if self._init is None or self._init.poll() is not None:
            raise GuestUnreachable(stage="local machine", vm=self.name, detail="not running")
        children = Path(f"/proc/{self._init.pid}/task/{self._init.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        if not pids:
            raise GuestUnreachable(stage="local machine", vm=self.name, detail="starting")
        return int(pids[0])

    def connect(self) -> LocalChannel:
        self.init_pid()
        return LocalChannel(self)

    def resume_warm(self, snapshot: str, agent: str) -> bool:
        """A local machine starts in a moment: nothing is kept warm."""
        return False

    def save_warm(self, snapshot: str, agent: str) -> None:
        """Nothing to keep (see resume_warm)."""

    def boot(self) -> None:
        self.started = True
        for sub in ("upper", "work", "merged"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        self._start(new_boot=True)

    def _start(self, *, new_boot: bool, resume: bool = False) -> None:
        init = INIT.format(upper=self.folder / "upper", work=self.folder / "work",
                           merged=self.merged, ready=READY)
        with self.console_log.open("ab") as console:
            self._init = proc.spawn_attached(
                ["unshare", "--mount", "--pid", "--fork", "--kill-child", "--propagation",
                 "private", "/bin/sh", "-c", init], stdout=console)
        channel = wait_until(self.connect, stage="local boot", what="the namespace to start",
                             vm=self.name, timeout=self.ready_seconds, interval=0.05,
                             retry_on=(GuestUnreachable,))
        wait_until(lambda: channel.run(f"test -e {READY}").exit_code == 0, stage="local boot",
                   what="the overlay to be mounted", vm=self.name, timeout=self.ready_seconds,
                   interval=0.05)
        if new_boot or not self.boot_id:
            self.boot_id = str(uuid.uuid4())
        channel.put(f"{self.boot_id}\n".encode(), BOOT_ID)
        if resume:  # what the agent's resume unit does at boot
            command = self.guest.agent_command("resume")
            channel.run(detached(command, BUSY.format(seq="resume")))

    def _stop(self, sig: signal.Signals) -> None:
        if self._init is None:
            return
        with contextlib.suppress(GuestUnreachable, ProcessLookupError):
            os.kill(self.init_pid(), sig)
        with contextlib.suppress(ProcessLookupError):
            self._init.kill()
        self._init.wait(timeout=30)
        self._init = None

    def reboot(self) -> None:
        self._stop(signal.SIGKILL)
        self._start(new_boot=True, resume=True)

    def power_off(self) -> None:
        self._stop(signal.SIGKILL)

    def power_on(self) -> None:
        self._start(new_boot=True, resume=True)

    def reset(self) -> None:
        self.reboot()

    def snapshot(self, name: str) -> None:
        saved = self.folder / "snapshots" / name
        shutil.rmtree(saved, ignore_errors=True)
        saved.parent.mkdir(parents=True, exist_ok=True)
        proc.run(["cp", "-a", str(self.folder / "upper"), str(saved)], stage="local snapshot")

    def revert(self, name: str) -> None:
        self._stop(signal.SIGKILL)
        for sub in ("upper", "work"):
            shutil.rmtree(self.folder / sub)
        proc.run(["cp", "-a", str(self.folder / "snapshots" / name), str(self.folder / "upper")],
                 stage="local revert")
        (self.folder / "work").mkdir()
        self._start(new_boot=False)

    def login_hint(self) -> str:
        return (f"a local machine runs only while a vmapp command uses it (no SSH); its files "
                f"are the overlay in {self.folder / 'upper'}, and `vmapp cell rerun|recheck` "
                "start it again")

    def destroy(self) -> None:
        self._stop(signal.SIGKILL)
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass
class LocalProvider:
    """Local machines under ``root``: they run the host's OS whatever image is asked for, with
    the agent the image's recipe says (Linux, or the wine stand-in with the host's wine)."""

    root: Path
    kind: str = "local-overlay"

    def prepare(self, image: str) -> None:
        """Nothing to build: a local machine runs the host's system whatever the image."""

    def create(self, image: str, *, name: str, folder: Path, ready_seconds: int | None = None,
               build: str | None = None) -> LocalMachine:
        """A local machine standing in for ``image`` (any ``build`` of it: the host's system)."""
        guest_kind = find_recipe(image).guest if unknown_image(image) is None else ""
        if guest_kind == "windows":
            raise InfrastructureError(stage="local machine", vm=name, detail=(
                f"{image} is a user's Windows box: it runs as a Vagrant VM only"))
        standin = guest_kind == "wine-standin"
        guest = LocalWineStandin.built() if standin else LocalGuest()
        machine = LocalMachine(name=name, folder=folder, guest=guest,
                               ready_seconds=ready_seconds or 30)
        folder.mkdir(parents=True, exist_ok=True)
        write_record(folder, self.kind, {"root": str(self.root)},
                     {"name": name, "ready_seconds": machine.ready_seconds})
        return machine

    def attach(self, folder: Path) -> LocalMachine:
        """A kept local machine, started again over its overlay: its namespace died with the
        process that ran it, so this is a new boot (files carry over, processes do not; the
        agent resumes as at a VM's boot)."""
        fields = read_record(folder)["machine"]
        if not (folder / "upper").is_dir():
            raise MachineGone(stage="find kept machine", vm=folder.name,
                              detail=f"{folder} holds no overlay (never started?)")
        try:
            machine = LocalMachine(name=str(fields["name"]), folder=folder,
                                   ready_seconds=int(fields["ready_seconds"]), started=True)
        except (KeyError, TypeError, ValueError) as exc:
            raise MachineGone(stage="find kept machine",
                              detail=f"{folder}: damaged machine.json ({exc!r})") from exc
        machine.power_on()
        return machine

"""The wine stand-in guest: a Debian machine whose agent plays the Windows extension in a wine
prefix.  Not Windows; reports call it "wine stand-in" (docs/windows.md says what it runs
faithfully and what it refuses).

The agent is the same file, run by the machine's Linux mechanics (a transient systemd unit on a
VM, a detached process on a local machine: :class:`WineStandin` is a mixin over those guest
OSes) with ``--os windows --wine-standin CONFIG``: its Windows layout (the seeds' download
folder under ``C:\\Packages\\Plugins\\...``) lies in the prefix's ``drive_c``, and every command
runs through the launcher under wine, the stand-in's refusal rules applied first.  Checks run
cmd.exe and reg.exe through the same launcher (:class:`LaunchedChannel`).  Wine has no
``tar.exe``; the stand-in puts its zip-only one where Windows has bsdtar.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import shlex
import uuid
from pathlib import Path, PureWindowsPath
from typing import Self

from harness.errors import InfrastructureError
from harness.images.mingw import LAUNCHER as LAUNCHER_PROGRAM
from harness.images.mingw import TAR as TAR_PROGRAM
from harness.images.mingw import build_program
from harness.machines.linux import LinuxSystemd
from harness.machines.standin import refusal_rules
from harness.machines.wine import BOOT_SECONDS, LAUNCHER_DIR, RUNS_DIR, WINE_ENV
from harness.ports import Channel, Exec

PREFIX = "/var/lib/vmapp/wine"  # the prefix, made when the image is built (or at first boot)
CONFIG = "/usr/local/lib/vmapp/wine-standin.json"
WINDOWS_EXTENSION = "Microsoft.CPlat.Core.VMApplicationManagerWindows"
LAUNCHER = LAUNCHER_DIR / LAUNCHER_PROGRAM.name
# where Windows has its bsdtar, with the case of wine's folders
TAR = PureWindowsPath("C:/windows/system32/tar.exe")


def prefix_path(path: str | PureWindowsPath) -> str:
    """Where a ``C:`` path of the prefix is in the guest's Linux file system (as written: the
    harness's own paths have the case wine gives them)."""
    windows = PureWindowsPath(path)
    if windows.drive.upper() != "C:" or not windows.root or ".." in windows.parts:
        raise InfrastructureError(stage="wine path", detail=(
            f"{str(path)!r}: only absolute C: paths without '..' exist in the stand-in"))
    return posixpath.join(PREFIX, "drive_c", *windows.parts[1:])


def wine_command(argv: list[str], cwd: str) -> str:
    """A shell command running ``argv`` under wine in the prefix, wine's own chatter dropped
    (to a file, never a pipe: wine's background services would hold a pipe open)."""
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in {"WINEPREFIX": PREFIX, **WINE_ENV}.items())
    return f"cd {shlex.quote(cwd)} && {env} {shlex.join(argv)} </dev/null >/dev/null 2>&1"


class WineStandin(LinuxSystemd):
    """The Windows side of the agent in a wine prefix of a Linux guest; mixed in before the
    machine's own Linux guest OS, whose agent mechanics (start, poll, kill, resume) it keeps."""

    name = "windows"
    label = "wine stand-in"
    extension_dir = prefix_path(f"C:\\Packages\\Plugins\\{WINDOWS_EXTENSION}\\1.0.9")
    downloads_dir = f"{extension_dir}/Downloads"
    status_dir = f"{extension_dir}/Status"
    registry_file = f"{extension_dir}/RuntimeSettings/applicationRegistry.active"
    agent_log = prefix_path(f"C:\\WindowsAzure\\Logs\\Plugins\\{WINDOWS_EXTENSION}"
                            "\\vmapp-agent.log")

    def __init__(self, launcher: Path, tar: Path, **linux: str) -> None:
        super().__init__(**linux)
        self.launcher = launcher
        self.tar = tar

    @classmethod
    def built(cls) -> Self:
        """This guest with its Windows programs built on the host (or taken from the cache)."""
        return cls(build_program(LAUNCHER_PROGRAM), build_program(TAR_PROGRAM))

    def config(self) -> dict[str, object]:
        """What the agent reads with ``--wine-standin``."""
        return {"prefix": PREFIX, "launcher": str(LAUNCHER), "env": WINE_ENV,
                "refusal": refusal_rules()}

    def install_agent(self, channel: Channel, source: bytes) -> None:
        super().install_agent(channel, source)
        channel.put(json.dumps(self.config(), indent=2).encode(), CONFIG)
        channel.put(self.launcher.read_bytes(), prefix_path(LAUNCHER), mode=0o755)
        channel.put(self.tar.read_bytes(), prefix_path(TAR), mode=0o755)

    def install_digest(self) -> str:
        digest = hashlib.sha256(json.dumps(self.config(), sort_keys=True).encode())
        for program in (self.launcher, self.tar):
            digest.update(program.read_bytes())
        return digest.hexdigest()

    def agent_command(self, args: str) -> str:
        return super().agent_command(f"--os windows --wine-standin {CONFIG} {args}")

    def wait_ready(self, channel: Channel, timeout: float) -> None:
        """The machine is ready, and so is the prefix: made if the image has none yet (about
        10 s here, a minute under TCG), its services settled, a persistent wineserver running
        (each command then costs a fraction of a second instead of seconds)."""
        super().wait_ready(channel, timeout)
        init = wine_command(["wineboot", "--init"], "/")
        done = channel.run(f"mkdir -p {PREFIX} && {{ [ -e {PREFIX}/system.reg ] || {init}; }} && "
                           f"{wine_command(['wineserver', '-w'], '/')} && "
                           f"{wine_command(['wineserver', '-p'], '/')}",
                           timeout=BOOT_SECONDS)
        if done.exit_code != 0:
            raise InfrastructureError(stage="wine prefix", detail=(
                f"could not make or start the prefix {PREFIX}: exit {done.exit_code}"))

    def checks_channel(self, channel: Channel) -> Channel:
        return LaunchedChannel(channel)

    def fact_commands(self) -> dict[str, str]:
        """The Linux machine's facts, and the wine that stands in for Windows."""
        return {**super().fact_commands(), "wine": "wine --version"}


class LaunchedChannel:
    """``cmd.exe /c <string>`` in the stand-in's prefix through the launcher, over the guest's
    Linux channel: the command string in a file, output and the full exit code read back from
    files (what :class:`harness.machines.wine.WineChannel` does on this host).  Files are the
    prefix's, by their ``C:`` names."""

    def __init__(self, linux: Channel) -> None:
        self.linux = linux

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        run_dir = RUNS_DIR / uuid.uuid4().hex
        files = {name: run_dir / name for name in ("command", "stdout", "stderr", "exit")}
        self.put(command.encode(), str(files["command"]))
        argv = ["wine", str(LAUNCHER), *(str(path) for path in files.values())]
        try:
            wine = self.linux.run(wine_command(argv, prefix_path("C:\\")), timeout=timeout)
            try:
                code = int(self.get(str(files["exit"])))
            except (InfrastructureError, ValueError):
                raise InfrastructureError(stage="wine command", detail=(
                    f"{command!r}: the launcher wrote no exit code (wine exited "
                    f"{wine.exit_code})")) from None
            return Exec(command=command, exit_code=code, stdout=self.get(str(files["stdout"])),
                        stderr=self.get(str(files["stderr"])))
        finally:
            self.linux.run(f"rm -rf {shlex.quote(prefix_path(run_dir))}")

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        self.linux.put(data, prefix_path(path), mode=mode)

    def get(self, path: str) -> bytes:
        return self.linux.get(prefix_path(path))

    def forward_to_host(self, port: int) -> None:
        self.linux.forward_to_host(port)

    def close_forward(self, port: int) -> None:
        self.linux.close_forward(port)

    def close(self) -> None:
        """The guest's channel is the runner's to close."""

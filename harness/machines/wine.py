"""A Channel into a wine prefix on this host: the wine stand-in guest's command path.

Commands go the way the agent's Windows side runs them: the string is written to a file and
run by the launcher (``images/windows/vmapp-launch.c``) as ``cmd.exe /c <string>``, output to
files, the full 32-bit exit code read from the launcher's side file.  Nothing is passed through
a quoting layer or a pipe (wine turns ``"`` into ``\\"`` in arguments, and its background
services keep pipes open).  Files are read and written on the host under the prefix's
``drive_c``; only ``C:`` paths exist.

This is not Windows: see docs/windows.md for what wine runs faithfully and what
:mod:`harness.machines.standin` refuses.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import uuid
from pathlib import Path, PureWindowsPath

from harness import proc
from harness.errors import InfrastructureError
from harness.ports import Exec

LAUNCHER_DIR = PureWindowsPath("C:/vmapp")
RUNS_DIR = LAUNCHER_DIR / "runs"
BOOT_SECONDS = 300
WINE_ENV = {"WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml="}  # no Mono/Gecko prompts


class WineChannel:
    """Commands and files in one wine prefix: creating the channel initialises the prefix (if
    new), starts a persistent wineserver and copies the launcher to ``C:\\vmapp``."""

    def __init__(self, prefix: Path, launcher: Path, *, vm: str = "wine stand-in") -> None:
        self.prefix = prefix
        self.vm = vm
        self._log = prefix.parent / f"{prefix.name}.wine.log"
        self._env = {"WINEPREFIX": str(prefix), **WINE_ENV}
        self._wine("wineboot", "--init", stage="wine prefix init", timeout=BOOT_SECONDS)
        # wineboot returns before the services it started are done; wait for all of them
        self._wine("wineserver", "-w", stage="wine prefix init", timeout=BOOT_SECONDS)
        self._wine("wineserver", "-p", stage="wine server start", timeout=60)
        self._launcher = LAUNCHER_DIR / launcher.name
        self.put(launcher.read_bytes(), str(self._launcher))

    def _wine(self, *argv: str, stage: str, timeout: float, cwd: Path | None = None) -> int:
        """Run a wine program with output to the prefix's log (never a pipe)."""
        child = proc.spawn(argv, log=self._log, cwd=cwd, env=self._env)
        try:
            return child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            for restart in (("wineserver", "-k"), ("wineserver", "-p")):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.spawn(restart, log=self._log, env=self._env).wait(timeout=60)
            raise InfrastructureError(stage=stage, vm=self.vm,
                                      detail=f"{' '.join(argv)}: timed out after {timeout:g}s "
                                      f"(every process in the prefix was killed)") from None

    def _log_tail(self, size: int = 600) -> str:
        """The end of the prefix's log: what wine or the launcher said last."""
        try:
            with self._log.open("rb") as log:
                log.seek(max(0, log.seek(0, os.SEEK_END) - size))
                return log.read().decode(errors="replace").strip()
        except OSError as exc:
            return f"(unreadable: {exc})"

    def host_path(self, path: str) -> Path:
        """Where a ``C:`` path of the prefix lives on the host, matching names without regard
        to case as Windows does (a name not there yet keeps the case given)."""
        windows = PureWindowsPath(path)
        if windows.drive.upper() != "C:" or not windows.root or ".." in windows.parts:
            raise InfrastructureError(stage="wine path", vm=self.vm, detail=(
                f"{path!r}: only absolute C: paths without '..' exist here"))
        here = self.prefix / "drive_c"
        for part in windows.parts[1:]:
            if not here.is_dir():
                here = here / part
                continue
            names = {entry.name.lower(): entry.name for entry in here.iterdir()}
            here = here / names.get(part.lower(), part)
        return here

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        """``cmd.exe /c command`` in ``C:\\`` (``sudo`` means nothing: a prefix has one user)."""
        run_dir = RUNS_DIR / uuid.uuid4().hex
        files = {name: run_dir / name for name in ("command", "stdout", "stderr", "exit")}
        self.put(command.encode(), str(files["command"]))
        host = {name: self.host_path(str(path)) for name, path in files.items()}
        try:
            wine = self._wine("wine", str(self._launcher), *(str(p) for p in files.values()),
                              stage="wine command", timeout=timeout, cwd=self.prefix / "drive_c")
            if not host["exit"].is_file():
                raise InfrastructureError(
                    stage="wine command", vm=self.vm,
                    detail=f"{command!r}: the launcher wrote no exit code (wine exited {wine}; "
                    f"{self._log} ends: {self._log_tail()!r})")
            return Exec(command=command, exit_code=int(host["exit"].read_text()),
                        stdout=host["stdout"].read_bytes(), stderr=host["stderr"].read_bytes())
        finally:
            shutil.rmtree(self.host_path(str(run_dir)), ignore_errors=True)

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        target = self.host_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def get(self, path: str) -> bytes:
        target = self.host_path(path)
        if not target.is_file():
            raise InfrastructureError(stage="wine download", vm=self.vm,
                                      detail=f"{path}: no such file")
        return target.read_bytes()

    def forward_to_host(self, port: int) -> None:
        """Nothing to do: the prefix's programs already share the host's loopback."""

    def close(self) -> None:
        """Stop every process of this prefix (its wineserver with them)."""
        self._wine("wineserver", "-k", stage="wine server stop", timeout=60)

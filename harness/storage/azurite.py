"""Azurite (the Azure Storage emulator) as a child process on 127.0.0.1, with its own data folder.

Installed with npm into the harness cache on first use; started per run; stopped with its whole
process group so nothing is left listening.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from harness import proc
from harness.errors import InfrastructureError
from harness.netutil import LOOPBACK, free_port, is_listening
from harness.settings import cache_dir
from harness.waiting import wait_until

AZURITE_VERSION = "3"
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def azurite_binary() -> Path:
    """Path of ``azurite-blob``, installing the npm package into the cache if needed."""
    prefix = cache_dir() / "tools" / "azurite"
    binary = prefix / "node_modules" / ".bin" / "azurite-blob"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        proc.run(
            ["npm", "install", "--no-audit", "--no-fund", "--prefix", str(prefix),
             f"azurite@{AZURITE_VERSION}"],
            stage="install azurite",
            timeout=600,
        )
    return binary


@dataclass
class Azurite:
    """A running blob emulator.  Use as a context manager."""

    data_dir: Path
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def account(self) -> str:
        return DEV_ACCOUNT

    @property
    def key(self) -> str:
        return DEV_KEY

    @property
    def account_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}/{DEV_ACCOUNT}"

    def start(self, timeout: float = 60.0) -> Azurite:
        binary = azurite_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self._process = proc.spawn(
            [str(binary), "--blobHost", LOOPBACK, "--blobPort", str(self.port),
             "--location", str(self.data_dir), "--skipApiVersionCheck", "--loose", "--silent"],
            log=self.data_dir / "azurite.log",
        )

        def up() -> bool:
            assert self._process is not None
            if self._process.poll() is not None:
                log = (self.data_dir / "azurite.log").read_text(errors="replace")[-2000:]
                raise InfrastructureError(stage="start azurite", detail=f"exited early:\n{log}")
            return is_listening(self.port)

        try:
            wait_until(up, stage="start azurite", what=f"azurite on port {self.port}",
                       timeout=timeout)
        except BaseException:  # Ctrl-C/SIGTERM or a timeout while it starts: it goes too
            self.stop()  # (left running, it wrote into the run's folder as that was removed)
            raise
        return self

    def stop(self) -> None:
        if self._process is None:
            return
        if self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait(timeout=10)
        self._process = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

"""The small interfaces the runner talks to; adapters (vagrant, ssh, winrm) implement them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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

    def close(self) -> None: ...


class Machine(Protocol):
    """A booted guest the harness owns."""

    name: str
    folder: Path

    @property
    def console_log(self) -> Path: ...

    def connect(self) -> Channel: ...

    def login_hint(self) -> str: ...

    def destroy(self) -> None: ...

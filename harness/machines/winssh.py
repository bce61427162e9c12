"""OpenSSH into a Windows guest (the communicator a box recipe may choose instead of WinRM).

NOT YET RUN AGAINST A REAL WINDOWS MACHINE.  Windows' OpenSSH server runs a command with its
default shell, cmd.exe (``cmd.exe /c <string>``), so commands go as written, with no sudo or
/bin/sh around them; files go by SFTP, which takes ``/C:/path`` names.  The reverse forward for
package storage is the SSH one (:class:`SshChannel`), so the VM's network stays restricted.
"""

from __future__ import annotations

import paramiko

from harness.errors import GuestUnreachable, InfrastructureError
from harness.machines.ssh import SshChannel
from harness.machines.winrm import make_folder_of
from harness.ports import Exec


def sftp_path(path: str) -> str:
    return "/" + path.replace("\\", "/")


class WindowsSshChannel(SshChannel):
    """Logged in with a password (Windows boxes ship one; the recipe names its variable)."""

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        """``cmd.exe /c command`` (the user is an administrator: ``sudo`` means nothing)."""
        return super().run(command, sudo=False, timeout=timeout)

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        self.check(make_folder_of(path))
        try:
            with self._client.open_sftp() as sftp, sftp.open(sftp_path(path), "wb") as handle:
                handle.write(data)
        except (paramiko.SSHException, OSError) as exc:
            raise GuestUnreachable(stage="ssh upload", vm=self.vm, detail=f"{path}: {exc}") \
                from exc

    def get(self, path: str) -> bytes:
        try:
            with self._client.open_sftp() as sftp, sftp.open(sftp_path(path), "rb") as handle:
                return bytes(handle.read())
        except FileNotFoundError as exc:
            raise InfrastructureError(stage="ssh download", vm=self.vm,
                                      detail=f"{path}: {exc}") from exc
        except (paramiko.SSHException, OSError) as exc:
            raise GuestUnreachable(stage="ssh download", vm=self.vm, detail=f"{path}: {exc}") \
                from exc

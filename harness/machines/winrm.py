"""WinRM channel into a Windows guest (pywinrm), the way Vagrant talks to Windows boxes.

NOT YET RUN AGAINST A REAL WINDOWS MACHINE: no Windows can be booted where this was written.
It is tested against a local HTTP server replaying WS-Management exchanges shaped as Windows
answers them (tests/unit/windows/test_winrm_channel.py), the way pywinrm tests itself; the real
test is a user's Windows box (docs/windows.md says how).

* ``run``: one cmd shell (UTF-8 code page) per channel, one WS-Man Command per call; the string
  goes in ``<rsp:Command>`` unchanged and Windows runs it as ``cmd.exe /c <string>``, so quoting
  is preserved and the exit code is the full 32-bit value.
* ``put``: base64 in chunks appended with ``echo`` to a ``.b64`` file beside the target, then
  ``certutil -decode`` (cmd only, no PowerShell: certutil ships with every Windows).  Meant for
  the agent and goal states, not gigabytes: packages come from storage.
* ``get``: ``certutil -encode`` and ``type``.
* ``forward_to_host``: WinRM carries no port forward, so the guest's 127.0.0.1:port is pointed
  at the host with ``netsh interface portproxy`` (built into Windows), through the address the
  host has from the guest (10.0.2.2 under QEMU's user-mode network); without that address the
  channel refuses.
* Errors: no answer, refused connections, HTTP failures and a shell the server no longer knows
  (WS-Management fault 2150858843: the guest rebooted, or its WinRM service restarted) are
  :class:`GuestUnreachable`, so the caller reconnects; rejected credentials and other
  WS-Management faults are :class:`InfrastructureError`.
"""

from __future__ import annotations

import base64
import contextlib
import time
from collections.abc import Callable
from pathlib import PureWindowsPath
from typing import TypeVar

import requests
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMError,
    WinRMOperationTimeoutError,
    WinRMTransportError,
    WSManFaultError,
)
from winrm.protocol import Protocol

from harness.errors import GuestUnreachable, InfrastructureError
from harness.ports import Exec

UTF8_CODEPAGE = 65001
CHUNK_CHARS = 6000  # base64 per echo: cmd.exe lines stop at 8191 characters
SHELL_NOT_FOUND = 2150858843  # "the shell was not found on the server"
T = TypeVar("T")


def make_folder_of(path: str) -> str:
    """cmd.exe that makes the folder of a Windows ``path`` unless it exists."""
    folder = str(PureWindowsPath(path).parent)
    return f'(if not exist "{folder}\\*" mkdir "{folder}")'


class WinRmChannel:
    """One WinRM shell; every method translates pywinrm and requests errors."""

    def __init__(self, *, host: str, port: int, user: str, password: str, vm: str,
                 scheme: str = "http", auth: str = "basic", operation_timeout: int = 20,
                 host_from_guest: str | None = None) -> None:
        self.vm = vm
        self.host_from_guest = host_from_guest
        self._endpoint = f"{scheme}://{host}:{port}/wsman"
        self._protocol = Protocol(self._endpoint, transport=auth,  # type: ignore[arg-type]
                                  username=user, password=password,
                                  server_cert_validation="ignore",
                                  operation_timeout_sec=operation_timeout,
                                  read_timeout_sec=operation_timeout + 10)
        self._shell = self._call("winrm connect", lambda: self._protocol.open_shell(
            codepage=UTF8_CODEPAGE))

    def _call(self, stage: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except InvalidCredentialsError as exc:
            raise InfrastructureError(stage=stage, vm=self.vm,
                                      detail=f"{self._endpoint}: {exc}") from exc
        except (requests.RequestException, WinRMTransportError) as exc:
            raise GuestUnreachable(stage=stage, vm=self.vm,
                                   detail=f"{self._endpoint}: {exc}") from exc
        except WSManFaultError as exc:
            fault = f"{exc.reason.strip()} (WS-Management fault {exc.wsman_fault_code})"
            if exc.wsman_fault_code == SHELL_NOT_FOUND:
                raise GuestUnreachable(stage=stage, vm=self.vm, detail=(
                    f"{self._endpoint}: the shell is gone (the guest rebooted or its WinRM "
                    f"service restarted): {fault}")) from exc
            raise InfrastructureError(stage=stage, vm=self.vm,
                                      detail=f"{self._endpoint}: {fault}") from exc
        except WinRMError as exc:
            raise InfrastructureError(stage=stage, vm=self.vm,
                                      detail=f"{self._endpoint}: {exc}") from exc

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        """``cmd.exe /c command`` (``sudo`` means nothing: the WinRM user is an administrator)."""
        stage = "winrm command"
        command_id = self._call(stage, lambda: self._protocol.run_command(self._shell, command))
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        while True:
            try:
                more, errors, code, done = self._call(
                    stage, lambda: self._protocol.get_command_output_raw(self._shell, command_id))
            except WinRMOperationTimeoutError:  # no output within the operation timeout yet
                more, errors, code, done = b"", b"", -1, False
            out += more
            err += errors
            if done:
                break
            if time.monotonic() >= deadline:
                self._call(stage, lambda: self._protocol.cleanup_command(self._shell, command_id))
                raise GuestUnreachable(stage=stage, vm=self.vm,
                                       detail=f"{command!r}: no end after {timeout:g}s")
        self._call(stage, lambda: self._protocol.cleanup_command(self._shell, command_id))
        return Exec(command=command, exit_code=code, stdout=bytes(out), stderr=bytes(err))

    def _check(self, command: str, stage: str, shown: str = "") -> Exec:
        """Run; a failure is the harness's, said with ``shown`` in place of the command when
        the command carries data (a file's base64 may hold a secret no redaction sees)."""
        done = self.run(command)
        if done.exit_code != 0:
            raise InfrastructureError(stage=stage, vm=self.vm, detail=(
                f"{(shown or command[:200])!r} exited {done.exit_code}: "
                f"{(done.error_text or done.text).strip()}"))
        return done

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        """Write ``data`` to a Windows path (``mode`` means nothing there)."""
        staged = f"{path}.b64"
        self._check(f'{make_folder_of(path)} & type nul> "{staged}"', "winrm upload")
        text = base64.b64encode(data).decode()
        for start in range(0, len(text), CHUNK_CHARS):
            chunk = text[start:start + CHUNK_CHARS]
            self._check(f'echo {chunk}>> "{staged}"', "winrm upload",
                        shown=f'echo <{len(chunk)} base64 characters>>> "{staged}"')
        self._check(f'certutil -f -decode "{staged}" "{path}" >nul && del "{staged}"',
                    "winrm upload")

    def get(self, path: str) -> bytes:
        staged = f"{path}.b64"
        done = self._check(f'certutil -f -encode "{path}" "{staged}" >nul && type "{staged}" && '
                           f'del "{staged}"', "winrm download")
        body = [line for line in done.text.splitlines() if line and not line.startswith("-----")]
        return base64.b64decode("".join(body))

    def forward_to_host(self, port: int) -> None:
        if self.host_from_guest is None:
            raise InfrastructureError(
                stage="winrm reverse forward", vm=self.vm,
                detail=f"WinRM cannot carry host port {port} into the guest; give the guest a "
                "route to the host's storage (or use the OpenSSH communicator)")
        self._check(f"{self._portproxy('delete', port)} >nul 2>&1 & "
                    f"{self._portproxy('add', port)} connectaddress={self.host_from_guest} "
                    f"connectport={port}", "winrm reverse forward")

    def close_forward(self, port: int) -> None:
        """Cut the guest's route to a host service (a "network cut" fault)."""
        if self.host_from_guest is not None:
            self._check(f"{self._portproxy('delete', port)} >nul 2>&1 & exit /b 0",
                        "winrm close forward")

    @staticmethod
    def _portproxy(verb: str, port: int) -> str:
        return f"netsh interface portproxy {verb} v4tov4 listenaddress=127.0.0.1 listenport={port}"

    def close(self) -> None:
        # a shell that cannot be closed dies with the guest or times out on its own
        with contextlib.suppress(requests.RequestException, WinRMTransportError, WinRMError):
            self._protocol.close_shell(self._shell)

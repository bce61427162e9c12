"""SSH channel into a guest over paramiko, with reverse forwards for host services.

The guest's user-mode network (``restrict=on``) cannot reach the host, so package storage is
offered inside the guest by an SSH reverse forward on the same loopback port.
"""

from __future__ import annotations

import logging
import posixpath
import select
import shlex
import socket
import threading
import uuid
from pathlib import Path

import paramiko

from harness.errors import GuestUnreachable, InfrastructureError
from harness.netutil import LOOPBACK
from harness.ports import Exec

CHUNK = 65536
# paramiko logs (with tracebacks) every refused banner while a guest reboots; the harness
# translates those failures into GuestUnreachable itself.
logging.getLogger("paramiko").setLevel(logging.CRITICAL)


class SshChannel:
    """One paramiko connection; every method translates paramiko errors."""

    def __init__(self, *, port: int, user: str, key: Path | None, vm: str, host: str = LOOPBACK,
                 timeout: float = 20, password: str | None = None) -> None:
        self.vm = vm
        self.user = user
        self._forwards: dict[int, int] = {}
        self._client = paramiko.SSHClient()
        # Clones regenerate host keys at first boot; the port is ours, so no key is pinned.
        self._client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            self._client.connect(host, port=port, username=user, password=password,
                                 key_filename=None if key is None else str(key),
                                 timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                                 look_for_keys=False, allow_agent=False)
        except (paramiko.SSHException, OSError) as exc:
            raise GuestUnreachable(stage="ssh connect", vm=vm,
                                      detail=f"{user}@{host}:{port}: {exc}") from exc
        transport = self._client.get_transport()
        assert transport is not None
        transport.set_keepalive(15)
        self._transport = transport

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        full = command
        if sudo:  # as root: directly when logged in as root (sudo costs ~0.4 s under TCG)
            prefix = "exec" if self.user == "root" else "sudo -n"
            full = f"{prefix} /bin/sh -c {shlex.quote(command)}"
        try:
            chan = self._transport.open_session(timeout=30)
            chan.settimeout(timeout)
            chan.exec_command(full)
            out, err = bytearray(), bytearray()
            while True:
                while chan.recv_ready():
                    out += chan.recv(CHUNK)
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(CHUNK)
                if chan.exit_status_ready() and not chan.recv_ready() and \
                        not chan.recv_stderr_ready():
                    break
                select.select([chan], [], [], 0.2)
            code = chan.recv_exit_status()
            chan.close()
            if code == -1:  # closed without an exit status: the guest went away mid-command
                raise EOFError("channel closed without an exit status")
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise GuestUnreachable(stage="ssh command", vm=self.vm,
                                      detail=f"{command!r}: {exc}") from exc
        return Exec(command=command, exit_code=code, stdout=bytes(out), stderr=bytes(err))

    def check(self, command: str, *, timeout: float = 600) -> Exec:
        """Run as root and raise if it fails (harness plumbing, not the product)."""
        result = self.run(command, timeout=timeout)
        if result.exit_code != 0:
            raise InfrastructureError(
                stage="guest command", vm=self.vm,
                detail=f"{command!r} exited {result.exit_code}: {result.error_text.strip()}")
        return result

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        staging = f"/tmp/vmapp-upload-{uuid.uuid4().hex}"
        try:
            with self._client.open_sftp() as sftp, sftp.open(staging, "wb") as handle:
                handle.write(data)
        except (paramiko.SSHException, OSError) as exc:
            raise GuestUnreachable(stage="ssh upload", vm=self.vm, detail=f"{path}: {exc}") \
                from exc
        folder = posixpath.dirname(path)
        self.check(f"mkdir -p {shlex.quote(folder)} && install -m {mode:o} "
                   f"{staging} {shlex.quote(path)} && rm -f {staging}")

    def get(self, path: str) -> bytes:
        result = self.run(f"cat {shlex.quote(path)}")
        if result.exit_code != 0:
            raise InfrastructureError(stage="ssh download", vm=self.vm,
                                      detail=f"{path}: {result.error_text.strip()}")
        return result.stdout

    def forward_to_host(self, port: int) -> None:
        if port in self._forwards:
            return
        try:
            bound = self._transport.request_port_forward(LOOPBACK, port, handler=self._accept)
        except paramiko.SSHException as exc:
            raise InfrastructureError(stage="ssh reverse forward", vm=self.vm,
                                      detail=f"guest 127.0.0.1:{port}: {exc}") from exc
        self._forwards[bound] = port

    def close_forward(self, port: int) -> None:
        """Cut the guest's route to a host service (a "network cut" fault)."""
        if self._forwards.pop(port, None) is not None:
            self._transport.cancel_port_forward(LOOPBACK, port)

    def _accept(self, chan: paramiko.Channel, origin: tuple[str, int],
                server: tuple[str, int]) -> None:
        target = self._forwards.get(server[1], server[1])
        try:
            upstream = socket.create_connection((LOOPBACK, target), timeout=10)
        except OSError:
            chan.close()
            return
        threading.Thread(target=_pump, args=(chan, upstream), daemon=True).start()

    def close(self) -> None:
        self._client.close()


def _pump(chan: paramiko.Channel, sock: socket.socket) -> None:
    """Copy bytes both ways until either side closes."""
    try:
        while True:
            ready, _, _ = select.select([chan.fileno(), sock.fileno()], [], [], 60)
            if not ready:
                continue
            if chan.fileno() in ready:
                data = chan.recv(CHUNK)
                if not data:
                    break
                sock.sendall(data)
            if sock.fileno() in ready:
                data = sock.recv(CHUNK)
                if not data:
                    break
                chan.sendall(data)
    except OSError:
        pass
    finally:
        chan.close()
        sock.close()

"""A private OpenSSH server on 127.0.0.1 for tests that reach "another host" over SSH.

It has its own configuration, host key, authorized key (for root) and free port, all in a
folder of the test's, and it is gone, with every session it started, when the block ends,
pass or fail.  The system's sshd and its configuration are never touched; only Debian's
privilege separation folder (/run/sshd, which the ssh service would create) is made if missing.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import WaitTimeout
from harness.netutil import LOOPBACK, free_port, is_listening
from harness.settings import REPO_ROOT, cache_dir
from harness.waiting import wait_until

SSHD = Path("/usr/sbin/sshd")  # openssh-server (scripts/install-host-deps.sh)
PRIVSEP = Path("/run/sshd")


@dataclass(frozen=True)
class Sshd:
    port: int
    key: Path
    known_hosts: Path

    def ssh_options(self) -> str:
        """ssh(1) options that reach it: its key, its pinned host key, no prompt, no user
        configuration (and nothing written to ~/.ssh)."""
        return (f"-F /dev/null -p {self.port} -i {self.key} -o IdentitiesOnly=yes "
                f"-o BatchMode=yes -o StrictHostKeyChecking=yes "
                f"-o UserKnownHostsFile={self.known_hosts}")

    def tx(self, *, python: str, chdir: Path, env: dict[str, str]) -> str:
        """A pytest-xdist ``--tx`` spec for one worker behind this server (execnet's ssh
        gateway), running ``python`` in ``chdir`` with ``env`` set."""
        spec = f"ssh={self.ssh_options()} root@{LOOPBACK}//python={python}//chdir={chdir}"
        return spec + "".join(f"//env:{name}={value}" for name, value in env.items())


def _config(folder: Path, port: int) -> Path:
    config = folder / "sshd_config"
    config.write_text(f"""\
Port {port}
ListenAddress {LOOPBACK}
HostKey {folder / "host_key"}
PidFile {folder / "sshd.pid"}
AuthorizedKeysFile {folder / "authorized_keys"}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
""")
    return config


@contextlib.contextmanager
def loopback_sshd(folder: Path) -> Iterator[Sshd]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name,
                        "-f", str(folder / name)], check=True, timeout=60)
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    port = free_port()
    host_key = (folder / "host_key.pub").read_text().split()
    (folder / "known_hosts").write_text(f"[{LOOPBACK}]:{port} {host_key[0]} {host_key[1]}\n")
    PRIVSEP.mkdir(mode=0o755, exist_ok=True)
    log = folder / "sshd.log"
    with log.open("wb") as out:
        process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(_config(folder, port))],
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"sshd exited {process.returncode}: {log.read_text()}")
            return is_listening(port)

        wait_until(up, stage="sshd", what=f"sshd on port {port}", timeout=30)
        yield Sshd(port=port, key=folder / "client_key", known_hosts=folder / "known_hosts")
    finally:
        _stop_tree(process)


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state, ppid...); [] if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _alive(pid: int) -> bool:
    return _stat(pid)[:1] not in ([], ["Z"])  # a zombie has ended


def _ended(pid: int) -> bool:
    return not _alive(pid)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = _stat(int(entry.name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _stop_tree(process: subprocess.Popen[bytes]) -> None:
    """Stop sshd and everything under it (the sessions and what they run, which sshd puts in
    sessions of their own), all listed first, the deepest first: each parent is still there
    to reap its child (this container's init reaps nothing), sshd itself last."""
    pids = _descendants(process.pid)
    for pid in reversed(pids):
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            if pid == process.pid:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)
            with contextlib.suppress(WaitTimeout):
                wait_until(functools.partial(_ended, pid), stage="sshd",
                           what=f"process {pid} under the test's sshd to end", timeout=10)
                break
    alive = [p for p in pids if _alive(p)]
    if alive:
        raise RuntimeError(f"processes under the test's sshd survived SIGKILL: {alive}")


def pytest_over_ssh(sshd: Sshd, folder: Path, scenario: str, *options: str,
                    state: Path) -> subprocess.CompletedProcess[str]:
    """`pytest` on ``scenario`` (a path in this checkout) with one xdist worker behind
    ``sshd``, as docs/hosts.md sets one up on another host: the worker runs in
    ``folder/worker`` (its own chdir), where xdist ships the scenario's folder; it runs this
    checkout's harness (PYTHONPATH) with ``state`` as its state folder, given explicitly since
    an SSH session does not inherit the controller's environment.  The controller's reports
    go to ``folder/reports``, pytest's own JUnit file to ``folder/junit.xml``."""
    worker = folder / "worker"
    worker.mkdir(parents=True, exist_ok=True)
    path = REPO_ROOT / scenario
    tx = sshd.tx(python=f"env PYTHONPATH={REPO_ROOT} {sys.executable}", chdir=worker,
                 env={"VMAPP_STATE_DIR": str(state), "VMAPP_CACHE_DIR": str(cache_dir())})
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "--dist", "load",
               "--tx", tx, f"--rsyncdir={path.parent}", f"--junitxml={folder / 'junit.xml'}",
               *options, str(path)]
    return subprocess.run(command, cwd=REPO_ROOT, text=True, capture_output=True, timeout=3600,
                          env={**os.environ, "VMAPP_REPORTS_DIR": str(folder / "reports")},
                          check=False)

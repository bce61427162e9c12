"""The local machine backend: the host's system as an overlay in private namespaces."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from harness.machines.local import LocalChannel, LocalMachine, LocalProvider
from harness.ports import Exec
from harness.waiting import wait_until


def machine(tmp_path: Path) -> LocalMachine:
    return LocalProvider(tmp_path).create("any", name="vmapp-t-local", folder=tmp_path / "m")


def test_writes_stay_in_the_machine_and_files_round_trip(tmp_path: Path) -> None:
    m = machine(tmp_path)
    m.boot()
    try:
        channel = m.connect()
        marker = f"/usr/local/vmapp-local-test-{os.getpid()}"
        assert channel.run(f"echo hi > {marker} && cat {marker}").stdout == b"hi\n"
        assert not Path(marker).exists()  # the host's file system never changes
        channel.put(b"bin\x00ary", "/opt/x/y", mode=0o600)
        assert channel.get("/opt/x/y") == b"bin\x00ary"
        assert channel.run("stat -c %a /opt/x/y").text.strip() == "600"
    finally:
        m.destroy()
    assert not (tmp_path / "m").exists()


def test_revert_forgets_what_came_after_the_snapshot_and_keeps_the_boot(tmp_path: Path) -> None:
    m = machine(tmp_path)
    m.boot()
    try:
        channel = m.connect()
        channel.run("echo before > /root/before")
        boot = m.guest.boot_id(channel)
        m.snapshot("clean")
        channel.run("echo after > /root/after; setsid sleep 300 >/dev/null 2>&1 &")
        m.revert("clean")
        channel = m.connect()
        assert channel.run("cat /root/before").text == "before\n"
        assert channel.run("test -e /root/after").exit_code == 1
        assert channel.run("pgrep -x sleep | wc -l").text.strip() == "1"  # only the init
        assert m.guest.boot_id(channel) == boot
    finally:
        m.destroy()


def test_reset_kills_everything_and_boots_anew(tmp_path: Path) -> None:
    m = machine(tmp_path)
    m.boot()
    try:
        channel = m.connect()
        boot = m.guest.boot_id(channel)
        channel.run("echo kept > /root/kept; setsid sleep 300 >/dev/null 2>&1 &")
        m.reset()
        channel = m.connect()
        assert m.guest.boot_id(channel) != boot
        assert channel.run("cat /root/kept").text == "kept\n"
        assert channel.run("pgrep -x sleep | wc -l").text.strip() == "1"
    finally:
        m.destroy()


def test_a_killed_harness_leaves_no_machine_running(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from harness.machines.local import LocalProvider
        m = LocalProvider(Path({str(tmp_path)!r})).create("x", name="k",
                                                          folder=Path({str(tmp_path)!r}) / "k")
        m.boot()
        print(m.init_pid(), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL
    init = int(done.stdout.split()[0])
    for _ in range(50):
        if not Path(f"/proc/{init}").exists():
            break
        subprocess.run(["sleep", "0.1"], check=False)
    assert not Path(f"/proc/{init}").exists()


def test_a_full_disk_is_the_machines_own_keeps_what_was_there_and_gives_it_back(
        tmp_path: Path) -> None:
    m = machine(tmp_path)
    m.boot()
    try:
        channel = m.connect()
        folder = m.guest.downloads_dir
        room = f"df -B1 --output=avail {folder} | tail -n 1"
        channel.run(f"mkdir -p {folder}/kept && echo kept > {folder}/kept/file")
        m.guest.fill_disk(channel, 16)
        assert "vmapp-disk-full" not in Path("/proc/self/mountinfo").read_text()  # not the host's
        assert channel.run(f"cat {folder}/kept/file").text == "kept\n"
        assert channel.run(room).text.strip() == str(16 * 1024)
        full = channel.run(f"head -c 32K /dev/zero > {folder}/big")
        assert full.exit_code != 0 and b"No space left on device" in full.stderr
        m.guest.fill_disk(channel, 64)  # again while full: the room is set anew
        assert channel.run(room).text.strip() == str(64 * 1024)
        assert channel.run(f"head -c 32K /dev/zero > {folder}/big").exit_code == 0
        m.guest.free_disk(channel)
        assert channel.run(f"mountpoint -q {folder}").exit_code != 0
        assert channel.run(f"cat {folder}/kept/file; wc -c < {folder}/big").text == "kept\n32768\n"
        m.guest.free_disk(channel)  # nothing to give back: nothing happens
    finally:
        m.destroy()


class Recording:
    """A channel that notes the exit code of every command it runs."""

    def __init__(self, inner: LocalChannel) -> None:
        self.inner, self.exit_codes = inner, list[int | None]()

    def run(self, command: str, **options: Any) -> Exec:
        done = self.inner.run(command, **options)
        self.exit_codes.append(done.exit_code)
        return done


def test_killing_the_agent_kills_it_and_not_the_shell_that_kills_it(tmp_path: Path) -> None:
    m = machine(tmp_path)
    m.boot()
    try:
        channel = m.connect()
        agent = m.guest.agent_path
        channel.put(b"import time\ntime.sleep(300)\n", agent, mode=0o755)
        channel.run(f"setsid {m.guest.agent_command('apply /x.json')} >/dev/null 2>&1 &")
        running = f"pgrep -f '[{agent[0]}]{agent[1:]} .*apply'"  # not matching its own shell
        wait_until(lambda: channel.run(running).exit_code == 0, stage="test",  # started?
                   what="the stand-in agent to run", timeout=30, interval=0.1)
        killer = Recording(channel)
        m.guest.kill_agent(killer)  # type: ignore[arg-type]
        assert killer.exit_codes == [0]  # its own shell lived to the end
        assert channel.run(running).exit_code == 1
    finally:
        m.destroy()

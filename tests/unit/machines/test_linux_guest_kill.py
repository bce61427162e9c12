"""The agent-killed fault's kill: the agent's processes die, the shell that kills them does not
(over SSH a killed shell ends the channel without an exit status, read as a guest gone away)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.machines.linux import LinuxSystemd
from harness.ports import Exec


class ShellChannel:
    """Runs each command through ``/bin/sh -c`` here, as SshChannel does as root in a VM."""

    def __init__(self) -> None:
        self.done: list[Exec] = []

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        ran = subprocess.run(["/bin/sh", "-c", command], capture_output=True, timeout=timeout,
                             check=False)
        self.done.append(Exec(command=command, exit_code=ran.returncode, stdout=ran.stdout,
                              stderr=ran.stderr))
        return self.done[-1]


def fake_agent(agent: Path, *args: str) -> subprocess.Popen[bytes]:
    """A process whose command line is the agent's (``sh -c CMD NAME ARGS``)."""
    return subprocess.Popen(["/bin/sh", "-c", "sleep 60", str(agent), *args])


def test_kill_agent_kills_apply_and_resume_but_not_itself_or_other_commands(
        tmp_path: Path) -> None:
    agent = tmp_path / "vmapp_agent.py"  # a path of this test's own: no real agent matches
    apply, resume = fake_agent(agent, "apply", "/g/1.json"), fake_agent(agent, "resume")
    status = fake_agent(agent, "status")
    channel = ShellChannel()
    try:
        LinuxSystemd(agent_path=str(agent)).kill_agent(channel)  # type: ignore[arg-type]
        assert [done.exit_code for done in channel.done] == [0]
        assert apply.wait(timeout=10) == -9 and resume.wait(timeout=10) == -9
        assert status.poll() is None
    finally:
        for process in (apply, resume, status):
            process.kill()
            process.wait()

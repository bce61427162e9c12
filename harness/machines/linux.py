"""A Linux guest with systemd: the agent runs in a transient unit, so a command that reboots the
VM does not take the harness's connection down with the work, and resumes at boot by its own
unit (the agent installs that one itself)."""

from __future__ import annotations

import base64
import shlex

from harness.errors import InfrastructureError
from harness.ports import AgentPoll, Channel

LINUX_EXTENSION = "Microsoft.CPlat.Core.VMApplicationManagerLinux"
AGENT_PATH = "/usr/local/lib/vmapp/vmapp_agent.py"
GOALS_DIR = "/var/lib/vmapp/goal-states"
RESUME_UNIT = "vmapp-agent-resume.service"
SEPARATOR = "@@vmapp-poll@@"
# A goal state travels inside the start command (one round trip, not three) while its base64
# stays well under Linux's 128 KiB limit for one argument; a bigger one is copied first.
INLINE_GOAL_LIMIT = 96 * 1024


class LinuxSystemd:
    """The guest side for Debian images (and any systemd Linux with python3)."""

    name = "linux"
    label = "linux-systemd"
    extension_dir = f"/var/lib/waagent/{LINUX_EXTENSION}-1.0.9"
    downloads_dir = f"/var/lib/waagent/{LINUX_EXTENSION}"
    agent_log = f"/var/log/azure/{LINUX_EXTENSION}/vmapp-agent.log"

    def __init__(self, python: str = "python3", agent_path: str = AGENT_PATH,
                 goals_dir: str = GOALS_DIR) -> None:
        self.python = python
        self.agent_path = agent_path
        self.goals_dir = goals_dir

    def install_agent(self, channel: Channel, source: bytes) -> None:
        channel.put(source, self.agent_path, mode=0o755)

    def agent_command(self, args: str) -> str:
        return f"{self.python} {self.agent_path} {args}"

    @staticmethod
    def _unit(seq: int) -> str:
        return f"vmapp-apply-{seq}"

    def start_agent(self, channel: Channel, goal: bytes, seq: int) -> str:
        path = f"{self.goals_dir}/{seq}.json"
        started = channel.run(f"{self._store(channel, goal, path)} && "
                              f"{self.boot_id_command()} && {self.launch_command(path, seq)}")
        if started.exit_code != 0:
            raise InfrastructureError(stage="start agent", detail=started.error_text.strip())
        return started.stdout.decode(errors="replace").strip()

    def _store(self, channel: Channel, goal: bytes, path: str) -> str:
        """Shell that writes ``goal`` to ``path`` (root only), or copies it first if too big."""
        encoded = base64.b64encode(goal).decode()
        if len(encoded) > INLINE_GOAL_LIMIT:
            channel.put(goal, path, mode=0o600)
            return "true"
        target = shlex.quote(path)
        return (f"umask 077 && mkdir -p {shlex.quote(self.goals_dir)} && "
                f"echo {encoded} | base64 -d > {target}.tmp && mv -f {target}.tmp {target}")

    def launch_command(self, path: str, seq: int) -> str:
        """Shell that starts ``apply path`` detached and returns at once, printing nothing.

        A goal state sent again after its agent was killed cannot reuse the unit: the command
        that agent started lives on in it (KillMode=process), which keeps the unit loaded until
        the command ends; the second agent runs in the unit's "-again" twin."""
        start = ("systemd-run --unit={} --collect --quiet -p KillMode=process "
                 f"{self.agent_command('apply ' + shlex.quote(path))}")
        unit = self._unit(seq)
        return f"{{ {start.format(unit)} 2>/dev/null || {start.format(unit + '-again')}; }}"

    def busy_command(self, seq: int) -> str:
        """Shell that prints "busy" while the agent works on ``seq`` (or resumes at boot)."""
        unit = self._unit(seq)
        return (f"systemctl is-active {unit} {unit}-again {RESUME_UNIT} 2>/dev/null "
                "| grep -qx -e active -e activating && echo busy")

    def boot_id_command(self) -> str:
        return "cat /proc/sys/kernel/random/boot_id"

    def poll(self, channel: Channel, seq: int) -> AgentPoll:
        status = f"{self.extension_dir}/status/{seq}"
        parts = [self.boot_id_command(), self.busy_command(seq),
                 f"cat {self.extension_dir}/mrseq", f"cat {status}.status",
                 f"cat {status}.details.json"]
        done = channel.run(f" ; echo {SEPARATOR}; ".join(f"{{ {p}; }} 2>/dev/null" for p in parts))
        fields = done.stdout.split(f"{SEPARATOR}\n".encode())
        if len(fields) != len(parts):
            raise InfrastructureError(stage="agent poll", detail=done.error_text.strip())
        boot, busy, mrseq, status_text, details = fields
        return AgentPoll(boot_id=boot.decode().strip(), busy=busy.strip() == b"busy",
                         mrseq=mrseq.decode().strip(), status=status_text, details=details)

    def kill_agent(self, channel: Channel) -> None:
        # "[/]usr/..." matches the agent's command line but not the text of this very command:
        # the shell running it (`sh -c "pkill ..."`) would otherwise be killed too, which over
        # SSH ends the channel without an exit status, read as the guest having gone away.
        pattern = f"[{self.agent_path[0]}]{self.agent_path[1:]} .*(apply|resume)"
        channel.run(f"pkill -KILL -f {shlex.quote(pattern)}; "
                    "systemctl reset-failed 'vmapp-apply-*' 2>/dev/null; true")

    def agent_journal(self, channel: Channel, seq: int) -> str:
        unit = self._unit(seq)
        return channel.run(f"journalctl -u {unit} -u {unit}-again --no-pager -n 50").text

    def boot_id(self, channel: Channel) -> str:
        return channel.run(self.boot_id_command(), sudo=False).text.strip()

    def wait_ready(self, channel: Channel, timeout: float) -> None:
        done = channel.run(f"timeout {int(timeout)} systemctl is-system-running --wait",
                           timeout=timeout + 10)
        state = done.text.strip()
        if state not in ("running", "degraded"):
            raise InfrastructureError(stage="system ready",
                                      detail=f"systemd state {state!r} after {timeout:.0f}s")

    def request_reboot(self, channel: Channel) -> None:
        channel.run("systemctl reboot", timeout=10)

    def set_clock(self, channel: Channel, epoch: float) -> None:
        done = channel.run(f"date -u -s @{epoch:.3f} >/dev/null")
        if done.exit_code != 0:
            raise InfrastructureError(stage="set guest clock", detail=done.error_text.strip())

    def archive(self, channel: Channel, paths: list[str], exclude: list[str]) -> bytes:
        names = " ".join(shlex.quote(p.lstrip("/")) for p in paths)
        skip = " ".join(f"--exclude={shlex.quote(p.lstrip('/'))}" for p in exclude)
        return channel.run(f"tar -C / -czf - --ignore-failed-read {skip} {names}",
                           timeout=120).stdout

"""A Linux guest with systemd: the agent runs in a transient unit, so a command that reboots the
VM does not take the harness's connection down with the work, and resumes at boot by its own
unit (the agent installs that one itself)."""

from __future__ import annotations

import base64
import hashlib
import shlex

from harness.errors import InfrastructureError
from harness.ports import AgentPoll, Channel, Exec

LINUX_EXTENSION = "Microsoft.CPlat.Core.VMApplicationManagerLinux"
AGENT_PATH = "/usr/local/lib/vmapp/vmapp_agent.py"
GOALS_DIR = "/var/lib/vmapp/goal-states"
RESUME_UNIT = "vmapp-agent-resume.service"
SEPARATOR = "@@vmapp-poll@@"
# A goal state travels inside the start command (one round trip, not three) while its base64
# stays well under Linux's 128 KiB limit for one argument; a bigger one is copied first.
INLINE_GOAL_LIMIT = 96 * 1024
# While the disk is "full", a small tmpfs covers the downloads folder and the disk's own folder
# stays reachable here (a private bind mount), to be brought up to date when the room comes back.
DISK_HELD = "/run/vmapp-disk-full"
# The image's facts (name -> a command printing it, or nothing when it cannot be read), read in
# one round trip with the package list, whose count and digest are worked out on the host.
LINUX_FACTS = {
    "os": "sed -n 's/^PRETTY_NAME=//p' /etc/os-release | tr -d '\"'",
    "kernel": "uname -r",
    "systemd": "systemctl --version | sed -n '1s/^systemd //p'",
    "dpkg": "dpkg-query -W -f '${Version}' dpkg",
    "python": "python3 -V 2>&1 | sed -n 's/^Python //p'",
}
FACT_CHARS = 200  # a fact is one short line; a guest printing more is cut
PACKAGE_LIST = "dpkg-query -W -f '${Package} ${Version}\\n'"


class LinuxSystemd:
    """The guest side for Debian images (and any systemd Linux with python3)."""

    name = "linux"
    label = "linux-systemd"
    extension_dir = f"/var/lib/waagent/{LINUX_EXTENSION}-1.0.9"
    downloads_dir = f"/var/lib/waagent/{LINUX_EXTENSION}"
    status_dir = f"{extension_dir}/status"
    registry_file = f"{extension_dir}/config/applicationRegistry.active"
    agent_log = f"/var/log/azure/{LINUX_EXTENSION}/vmapp-agent.log"

    def __init__(self, python: str = "python3", agent_path: str = AGENT_PATH,
                 goals_dir: str = GOALS_DIR) -> None:
        self.python = python
        self.agent_path = agent_path
        self.goals_dir = goals_dir

    def install_agent(self, channel: Channel, source: bytes) -> None:
        channel.put(source, self.agent_path, mode=0o755)

    def install_digest(self) -> str:
        return ""  # the agent alone

    def agent_command(self, args: str) -> str:
        return f"{self.python} {self.agent_path} {args}"

    @staticmethod
    def _unit(seq: int) -> str:
        return f"vmapp-apply-{seq}"

    def start_agent(self, channel: Channel, goal: bytes, seq: int) -> str:
        path = f"{self.goals_dir}/{seq}.json"
        started = _must(channel, "start agent", f"{self._store(channel, goal, path)} && "
                        f"{self.boot_id_command()} && {self.launch_command(path, seq)}")
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
        status = f"{self.status_dir}/{seq}"
        parts = [self.boot_id_command(), self.busy_command(seq),
                 f"cat {self.extension_dir}/mrseq", f"cat {status}.status",
                 f"cat {status}.details.json"]
        done = channel.run(_sections(parts))
        fields = done.stdout.split(f"{SEPARATOR}\n".encode())
        if len(fields) != len(parts):
            raise InfrastructureError(stage="agent poll", detail=done.error_text.strip())
        boot, busy, mrseq, status_text, details = fields
        return AgentPoll(boot_id=boot.decode().strip(), busy=busy.strip() == b"busy",
                         mrseq=mrseq.decode().strip(), status=status_text, details=details)

    def kill_agent(self, channel: Channel) -> None:
        # "[v]mapp_agent.py" matches the agent's command line but not this shell's own (which
        # holds the pattern as typed): pkill would kill the shell, and an SSH session with it.
        head, _, name = self.agent_path.rpartition("/")
        pattern = f"{head}/[{name[0]}]{name[1:]} .*(apply|resume)"
        _must(channel, "kill agent", f"pkill -KILL -f '{pattern}'; "
              "systemctl reset-failed 'vmapp-apply-*' 2>/dev/null; true")

    def fill_disk(self, channel: Channel, free_kib: int) -> None:
        """A tmpfs over the downloads folder holding a copy of it, sized to what that copy takes
        plus ``free_kib`` (tmpfs counts whole pages); again while full: resized."""
        d, held = shlex.quote(self.downloads_dir), DISK_HELD
        _must(channel, "disk-full fault", (
            f"set -e; mkdir -p {d}; if ! mountpoint -q {d}; then mkdir -p {held}; "
            f"mount --bind {d} {held}; mount --make-private {held}; "
            f"mount -t tmpfs -o mode=0755 vmapp-disk-full {d}; cp -a {held}/. {d}/; fi; "
            f"used=$(df -B1 --output=used {d} | tail -n 1); "
            f"mount -o remount,size=$((used + {free_kib * 1024})) {d}"))

    def free_disk(self, channel: Channel) -> None:
        d, held = shlex.quote(self.downloads_dir), DISK_HELD
        _must(channel, "disk-freed fault", (
            f"set -e; mountpoint -q {d} || exit 0; find {held} -mindepth 1 -delete; "
            f"cp -a {d}/. {held}/; umount {d}; umount {held}; rmdir {held}"))

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
        _must(channel, "set guest clock", f"date -u -s @{epoch:.3f} >/dev/null")

    def checks_channel(self, channel: Channel) -> Channel:
        """Checks run their commands through the guest's own shell."""
        return channel

    def archive(self, channel: Channel, paths: list[str], exclude: list[str]) -> bytes:
        names = " ".join(shlex.quote(p.lstrip("/")) for p in paths)
        skip = " ".join(f"--exclude={shlex.quote(p.lstrip('/'))}" for p in exclude)
        return channel.run(f"tar -C / -czf - --ignore-failed-read {skip} {names}",
                           timeout=120).stdout

    def fact_commands(self) -> dict[str, str]:
        """What :meth:`facts` reads besides the package list: fact name -> shell command."""
        return dict(LINUX_FACTS)

    def facts(self, channel: Channel) -> dict[str, str]:
        """One line per fact (empty output: left out), and the dpkg package list as
        ``package_count`` and ``package_digest`` (sha256 of ``<package> <version>`` lines,
        sorted bytewise, each ending in a newline)."""
        commands = self.fact_commands()
        parts = [*commands.values(), PACKAGE_LIST]
        fields = channel.run(_sections(parts), timeout=120).text.split(f"{SEPARATOR}\n")
        if len(fields) != len(parts):
            return {}
        *values, listing = fields
        found = {name: value.strip().splitlines()[0][:FACT_CHARS]
                 for name, value in zip(commands, values, strict=True) if value.strip()}
        lines = sorted(line for line in listing.splitlines() if line.strip())
        if lines:
            text = "".join(f"{line}\n" for line in lines).encode()
            found["package_count"] = str(len(lines))
            found["package_digest"] = "sha256:" + hashlib.sha256(text).hexdigest()
        return found


def _sections(parts: list[str]) -> str:
    """Shell running each of ``parts`` (their errors dropped), a separator line after each but
    the last: many reads in one round trip."""
    return f" ; echo {SEPARATOR}; ".join(f"{{ {p}; }} 2>/dev/null" for p in parts)


def _must(channel: Channel, stage: str, command: str) -> Exec:
    """Run ``command``; its failure is the harness's (an infrastructure error)."""
    done = channel.run(command)
    if done.exit_code != 0:
        raise InfrastructureError(stage=stage, detail=done.error_text.strip())
    return done

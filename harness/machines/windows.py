"""A real Windows guest (a user's box), reached by WinRM or OpenSSH: every command is cmd.exe.

NOT YET RUN ON A REAL WINDOWS MACHINE: tested against replayed WS-Management exchanges only
(tests/unit/windows/test_windows_guest.py); docs/windows.md says how a user runs it on theirs.

* The agent is ``C:\\vmapp\\vmapp_agent.py``, run by the Python the recipe names (installed on
  the box, or an embeddable zip pushed and unpacked to ``C:\\vmapp\\python``) with
  ``--os windows``: the seeds' Windows folders, commands through ``cmd.exe /c``.
* It is started as a scheduled task (``vmapp-apply-<seq>``, as SYSTEM), not with ``start /b``:
  WinRM runs a command's processes in a job that it ends with the shell (and a ``start /b``
  child holding the command's output open keeps the command from ending), so the work would
  die with the connection; a task belongs to the Task Scheduler service and outlives the shell
  and a dropped connection, as a transient systemd unit does on Linux.  SYSTEM is also whom the
  real extension runs commands as.  The agent puts in its own ``vmapp-agent-resume`` task
  (``/sc onstart``) to resume at boot.
* Busy: a task whose last result is "running" or "queued" (SCHED_S_TASK_RUNNING 267009,
  SCHED_S_TASK_QUEUED 267045; for the apply task also "has not run yet", 267011, between
  ``/run`` and its start): numbers, so a Windows in another language reads the same.
* The boot id is the kernel's boot counter (``PrefetchParameters\\BootId``), what the agent
  itself reads first, in the agent's own form ``bootid-<n>``; a clock change does not move it.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from harness.errors import GuestUnreachable, InfrastructureError
from harness.machines.linux import SEPARATOR, _must
from harness.ports import AgentPoll, Channel, archive_member
from harness.waiting import wait_until

VMAPP_DIR = "C:\\vmapp"
AGENT = f"{VMAPP_DIR}\\vmapp_agent.py"
GOALS_DIR = f"{VMAPP_DIR}\\goal-states"
PYTHON_ZIP = f"{VMAPP_DIR}\\python.zip"
PYTHON_DIR = f"{VMAPP_DIR}\\python"
COLLECT = f"{VMAPP_DIR}\\collect.tgz"
WINDOWS_EXTENSION = "Microsoft.CPlat.Core.VMApplicationManagerWindows"
EXTENSION_DIR = f"C:\\Packages\\Plugins\\{WINDOWS_EXTENSION}\\1.0.9"
RESUME_TASK = "vmapp-agent-resume"  # the agent's RESUME_TASK (it installs the task itself)
BOOT_KEY = ("HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory Management"
            "\\PrefetchParameters")
BOOT_QUERY = f'reg query "{BOOT_KEY}" /v BootId'
BOOT_VALUE = re.compile(r"BootId\s+REG_DWORD\s+0x([0-9a-fA-F]+)")
RUNNING, QUEUED, NOT_YET_RUN = "267009", "267045", "267011"
NT_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
FACT_CHARS = 200  # a fact is one short line


def parse_boot_id(text: str) -> str:
    """``bootid-<n>`` from ``reg query ... /v BootId`` (the agent's own form)."""
    found = BOOT_VALUE.search(text)
    if found is None:
        raise InfrastructureError(stage="boot id", detail=(
            f"no BootId under {BOOT_KEY} (Windows 8 / Server 2012 and later have it): "
            f"{text.strip()[:200]!r}"))
    return f"bootid-{int(found.group(1), 16)}"


def task_busy(text: str, apply_task: str) -> bool:
    """Whether ``schtasks /query /v /fo csv /nh`` rows say the agent works."""
    for row in csv.reader(text.splitlines()):
        if len(row) < 2:
            continue
        wanted = {RUNNING, QUEUED} | ({NOT_YET_RUN} if row[1].endswith(apply_task) else set())
        if wanted & set(row[2:]):
            return True
    return False


class WindowsGuest:
    """The guest side of a user's Windows box (harness.ports.GuestOS)."""

    name = "windows"
    label = "windows"
    extension_dir = EXTENSION_DIR
    downloads_dir = f"{EXTENSION_DIR}\\Downloads"
    status_dir = f"{EXTENSION_DIR}\\Status"
    registry_file = f"{EXTENSION_DIR}\\RuntimeSettings\\applicationRegistry.active"
    agent_log = f"C:\\WindowsAzure\\Logs\\Plugins\\{WINDOWS_EXTENSION}\\vmapp-agent.log"

    def __init__(self, python: str, python_zip: Path | None = None) -> None:
        self.python = python
        self.python_zip = python_zip

    def install_agent(self, channel: Channel, source: bytes) -> None:
        channel.put(source, AGENT)
        if self.python_zip is not None and channel.run(
                f'if exist "{self.python}" (exit /b 0) else exit /b 1').exit_code != 0:
            channel.put(self.python_zip.read_bytes(), PYTHON_ZIP)
            _must(channel, "unpack python", f'(if not exist "{PYTHON_DIR}\\*" mkdir '
                  f'"{PYTHON_DIR}") & tar -xf "{PYTHON_ZIP}" -C "{PYTHON_DIR}" && '
                  f'del "{PYTHON_ZIP}"')
        done = channel.run(f'"{self.python}" --version')
        if done.exit_code != 0:
            raise InfrastructureError(stage="agent python", detail=(
                f"{self.python} does not run on the box (exit {done.exit_code}): "
                f"{(done.error_text or done.text).strip()[:300]}"))

    def install_digest(self) -> str:
        return self.python  # the agent and the Python it runs with (the box is the image's)

    def agent_command(self, args: str) -> str:
        return f'"{self.python}" {AGENT} --os windows {args}'

    @staticmethod
    def _task(seq: int) -> str:
        return f"vmapp-apply-{seq}"

    def start_agent(self, channel: Channel, goal: bytes, seq: int) -> str:
        """Store the goal state, (re)define its task and run it; the boot id in that round
        trip.  A goal state sent again after its agent was killed gets its task replaced
        (``/f``): the killed instance ended with its process."""
        path = f"{GOALS_DIR}\\{seq}.json"
        channel.put(goal, path)
        action = self.agent_command(f"apply {path}").replace('"', '\\"')
        task = self._task(seq)
        started = _must(channel, "start agent", (
            f'{BOOT_QUERY} && schtasks /create /tn {task} /sc once /st 00:00 /ru SYSTEM '
            f'/rl HIGHEST /f /tr "{action}" >nul && schtasks /run /tn {task} >nul'))
        return parse_boot_id(started.text)

    def poll(self, channel: Channel, seq: int) -> AgentPoll:
        status = f"{self.status_dir}\\{seq}"
        parts = [[BOOT_QUERY],
                 [f"schtasks /query /tn {task} /v /fo csv /nh"
                  for task in (self._task(seq), RESUME_TASK)],
                 [f'type "{self.extension_dir}\\mrseq"'], [f'type "{status}.status"'],
                 [f'type "{status}.details.json"']]
        # each command's errors to nul, not "(...) 2>nul": wine's cmd.exe cannot parse that
        done = channel.run(f" & echo {SEPARATOR}& ".join(
            " & ".join(f"{command} 2>nul" for command in part) for part in parts))
        fields = done.stdout.split(f"{SEPARATOR}\r\n".encode())
        if len(fields) != len(parts):
            raise InfrastructureError(stage="agent poll", detail=done.error_text.strip())
        boot, tasks, mrseq, status_text, details = fields
        return AgentPoll(boot_id=parse_boot_id(boot.decode(errors="replace")),
                         busy=task_busy(tasks.decode(errors="replace"), self._task(seq)),
                         mrseq=mrseq.decode(errors="replace").strip(), status=status_text,
                         details=details)

    def kill_agent(self, channel: Channel) -> None:
        """Kill the agent process that holds its lock (the pid its lock's owner file names),
        not its tree: the commands it started live on, as on Linux."""
        owner = channel.run(f'type "{self.extension_dir}\\vmapp-agent.lock.owner"').text
        found = re.match(r"pid (\d+),", owner)
        if found:
            channel.run(f"taskkill /F /PID {found.group(1)}")

    def fill_disk(self, channel: Channel, free_kib: int) -> None:
        raise InfrastructureError(stage="disk-full fault", detail=(
            "not available on a Windows box: there is no tmpfs to put over the downloads "
            "folder, and filling C: would starve Windows itself"))

    def free_disk(self, channel: Channel) -> None:
        self.fill_disk(channel, 0)

    def agent_journal(self, channel: Channel, seq: int) -> str:
        return channel.run(f"schtasks /query /tn {self._task(seq)} /v /fo list").text

    def boot_id(self, channel: Channel) -> str:
        return parse_boot_id(channel.run(BOOT_QUERY).text)

    def wait_ready(self, channel: Channel, timeout: float) -> None:
        """WinRM answers before every service has started: wait for the Task Scheduler, which
        starts the agent (``sc`` prints the state's number, whatever the language)."""
        wait_until(lambda: re.search(r"STATE\s*:\s*4\b", channel.run("sc query Schedule").text),
                   stage="system ready", what="the Task Scheduler service to run",
                   timeout=timeout, interval=2, retry_on=(GuestUnreachable,))

    def request_reboot(self, channel: Channel) -> None:
        channel.run("shutdown /r /t 0", timeout=10)

    def set_clock(self, channel: Channel, epoch: float) -> None:
        """SetSystemTime through Python's ctypes (cmd's ``time`` takes the local format)."""
        _must(channel, "set guest clock", (
            f'"{self.python}" -c "import ctypes,datetime as d;'
            f't=d.datetime.fromtimestamp({epoch:.3f},d.timezone.utc);'
            "s=(ctypes.c_uint16*8)(t.year,t.month,0,t.day,t.hour,t.minute,t.second,"
            "t.microsecond//1000);"
            'raise SystemExit(0 if ctypes.windll.kernel32.SetSystemTime(s) else 1)"'))

    def checks_channel(self, channel: Channel) -> Channel:
        """WinRM and Windows' OpenSSH already run every command through cmd.exe."""
        return channel

    def facts(self, channel: Channel) -> dict[str, str]:
        """``os`` as ``ver`` prints it (the build number in it), ``edition`` (ProductName) and
        the agent's ``python``, in one round trip; a fact not read is left out."""
        parts = ["ver", f'reg query "{NT_KEY}" /v ProductName', f'"{self.python}" --version']
        done = channel.run(f" & echo {SEPARATOR}& ".join(f"{p} 2>nul" for p in parts))
        fields = done.text.split(f"{SEPARATOR}\r\n")
        if len(fields) != len(parts):
            return {}
        version, edition, python = (field.strip() for field in fields)
        product = re.search(r"ProductName\s+REG_SZ\s+(.+)", edition)
        found = {"os": version.splitlines()[0] if version else "",
                 "edition": product.group(1).strip() if product else "",
                 "python": python.removeprefix("Python ") if python.startswith("Python ") else ""}
        return {name: value[:FACT_CHARS] for name, value in found.items() if value}

    def archive(self, channel: Channel, paths: list[str], exclude: list[str]) -> bytes:
        """tar.exe (Windows 10 1803, Server 2019 and later): names relative to ``C:``; a
        missing path is skipped with a warning, the rest archived."""
        skip = " ".join(f'--exclude "{archive_member(p)}"' for p in exclude)
        names = " ".join(f'"{archive_member(p)}"' for p in paths)
        channel.run(f'tar -czf "{COLLECT}" -C C:/ {skip} {names}', timeout=120)
        try:
            return channel.get(COLLECT)
        finally:
            channel.run(f'del "{COLLECT}"')

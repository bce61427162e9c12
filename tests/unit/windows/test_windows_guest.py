"""harness.machines.windows (a user's Windows box) over WinRM, against replayed WS-Management.

This tests the harness's side only: pywinrm and the channel run for real over HTTP on
127.0.0.1, but what "Windows" answers is replayed (winrm_replay.py), shaped as Windows prints
it.  One test runs the poll's command line in wine's cmd.exe (real cmd.exe syntax, not
Windows).  Nothing here has run against a Windows machine.
"""

from __future__ import annotations

import base64
import io
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from winrm_replay import PASSWORD, USER, Replay, serve

from harness.agent.client import AgentClient, status_files
from harness.errors import GuestUnreachable, InfrastructureError
from harness.images.userbox import Login
from harness.machines import windowsbox
from harness.machines.linux import SEPARATOR
from harness.machines.windows import BOOT_KEY, BOOT_QUERY, WindowsGuest
from harness.machines.wine import WineChannel
from harness.machines.winrm import WinRmChannel

PYTHON = "C:\\Python311\\python.exe"
Answer = tuple[bytes, bytes, int]
OK: Answer = (b"", b"", 0)


def reg_boot(boot: int) -> bytes:
    """``reg query ... /v BootId`` as Windows prints it."""
    return (f"\r\nHKEY_LOCAL_MACHINE\\{BOOT_KEY[5:]}\r\n    BootId    REG_DWORD    "
            f"{boot:#x}\r\n\r\n").encode()


def task_row(task: str, last_result: str) -> bytes:
    """One row of ``schtasks /query /tn TASK /v /fo csv /nh``."""
    status = "Running" if last_result == "267009" else "Ready"
    return (f'"WIN-BOX","\\{task}","N/A","{status}","Interactive/Background",'
            f'"12/3/2026 11:40:02 AM","{last_result}","vagrant","C:\\vmapp\\run.cmd","N/A",'
            '"N/A","Enabled","Disabled","Stop On Battery Mode","SYSTEM","Disabled",'
            '"72:00:00","Scheduling data is not available in this format.","One Time Only",'
            '"12:00:00 AM","12/3/2026","N/A","N/A","N/A","Disabled"\r\n').encode()


def poll_answer(boot: int, seq: int, last_result: str, status: dict[str, object] | None
                ) -> bytes:
    sep = f"{SEPARATOR}\r\n".encode()
    parts = [reg_boot(boot), task_row(f"vmapp-apply-{seq}", last_result) +
             task_row("vmapp-agent-resume", "267011"), str(seq).encode(),
             json.dumps([{"status": status}]).encode() if status else b"",
             json.dumps({"operations": [], "bootId": f"bootid-{boot}"}).encode()]
    return sep.join(parts)


def channel(replay: Replay) -> WinRmChannel:
    return WinRmChannel(host="127.0.0.1", port=replay.port, user=USER, password=PASSWORD,
                        vm="win-box", operation_timeout=5, host_from_guest="10.0.2.2")


def uploads(commands: list[str]) -> dict[str, bytes]:
    """What the channel's puts wrote: the base64 echoed into each ``<path>.b64``."""
    sent: dict[str, str] = {}
    for command in commands:
        found = re.fullmatch(r'echo (\S+)>> "(.+)\.b64"', command)
        if found:
            sent[found.group(2)] = sent.get(found.group(2), "") + found.group(1)
    return {path: base64.b64decode(text) for path, text in sent.items()}


def windows(*answers: tuple[str, Answer]) -> Callable[[str], Answer]:
    """A script: the first answer whose text the command contains, else success."""
    def script(command: str) -> Answer:
        return next((answer for text, answer in answers if text in command), OK)
    return script


def test_install_pushes_the_agent_and_checks_the_python_the_recipe_names() -> None:
    source = b"# the agent\n" * 1000
    version = (f'"{PYTHON}" --version', (b"Python 3.11.9\r\n", b"", 0))
    with serve(Replay(windows(version))) as replay:
        WindowsGuest(PYTHON).install_agent(channel(replay), source)
    assert uploads(replay.commands) == {"C:\\vmapp\\vmapp_agent.py": source}
    assert replay.commands[-1] == f'"{PYTHON}" --version'
    assert not any("python.zip" in command for command in replay.commands)


def test_an_embeddable_python_zip_is_pushed_and_unpacked_once(tmp_path: Path) -> None:
    zipped = tmp_path / "python-3.11.9-embed-amd64.zip"
    zipped.write_bytes(b"PK\x03\x04 not really")
    python = "C:\\vmapp\\python\\python.exe"
    absent = (f'if exist "{python}"', (b"", b"", 1))
    with serve(Replay(windows(absent))) as replay:
        WindowsGuest(python, zipped).install_agent(channel(replay), b"agent")
    assert uploads(replay.commands)["C:\\vmapp\\python.zip"] == zipped.read_bytes()
    assert ('(if not exist "C:\\vmapp\\python\\*" mkdir "C:\\vmapp\\python") & tar -xf '
            '"C:\\vmapp\\python.zip" -C "C:\\vmapp\\python" && del "C:\\vmapp\\python.zip"'
            ) in replay.commands
    with serve(Replay(windows())) as replay:  # already there (a kept machine): not again
        WindowsGuest(python, zipped).install_agent(channel(replay), b"agent")
    assert "C:\\vmapp\\python.zip" not in uploads(replay.commands)


def test_a_python_that_does_not_run_is_said_with_what_cmd_answered() -> None:
    missing = (b"", b"'C:\\Python311\\python.exe' is not recognized as an internal or "
               b"external command,\r\noperable program or batch file.\r\n", 9009)
    with serve(Replay(windows(("--version", missing)))) as replay, \
            pytest.raises(InfrastructureError) as caught:
        WindowsGuest(PYTHON).install_agent(channel(replay), b"agent")
    assert str(caught.value).startswith(f"agent python: {PYTHON} does not run on the box "
                                        "(exit 9009): 'C:\\Python311\\python.exe' is not "
                                        "recognized")


def test_start_runs_the_goal_state_as_a_scheduled_task_and_returns_the_boot_id() -> None:
    goal = json.dumps({"sequenceNumber": 7}).encode()
    with serve(Replay(windows((BOOT_QUERY, (reg_boot(26), b"", 0))))) as replay:
        boot = WindowsGuest("C:\\Program Files\\Python311\\python.exe").start_agent(
            channel(replay), goal, 7)
    assert boot == "bootid-26"
    assert uploads(replay.commands) == {"C:\\vmapp\\goal-states\\7.json": goal}
    assert replay.commands[-1] == (
        f"{BOOT_QUERY} && schtasks /create /tn vmapp-apply-7 /sc once /st 00:00 /ru SYSTEM "
        '/rl HIGHEST /f /tr "\\"C:\\Program Files\\Python311\\python.exe\\" '
        'C:\\vmapp\\vmapp_agent.py --os windows apply C:\\vmapp\\goal-states\\7.json" >nul && '
        "schtasks /run /tn vmapp-apply-7 >nul")


def test_a_refused_task_and_a_failed_command_keep_what_windows_said() -> None:
    denied = (reg_boot(26), b"ERROR: Access is denied.\r\n", 1)
    failed = (b"", b"", 1603)
    with serve(Replay(windows(("schtasks /create", denied), ("msiexec", failed)))) as replay:
        win = channel(replay)
        with pytest.raises(InfrastructureError) as caught:
            WindowsGuest(PYTHON).start_agent(win, b"{}", 1)
        done = WindowsGuest(PYTHON).checks_channel(win).run("msiexec /i app /quiet")
    assert str(caught.value) == "start agent: ERROR: Access is denied."
    assert done.exit_code == 1603  # the full code, as cmd.exe ended


def test_poll_reads_boot_task_and_status_files_in_one_round_trip() -> None:
    final = {"status": "success"}
    answers = iter([poll_answer(26, 3, "267009", None), poll_answer(26, 3, "0", final)])
    with serve(Replay(lambda command: (next(answers), b"", 0))) as replay:
        win, guest = channel(replay), WindowsGuest(PYTHON)
        busy, done = guest.poll(win, 3), guest.poll(win, 3)
    assert (busy.boot_id, busy.busy, busy.mrseq, busy.status) == ("bootid-26", True, "3", b"")
    assert (done.busy, json.loads(done.status)) == (False, [{"status": final}])
    assert json.loads(done.details)["bootId"] == "bootid-26"
    assert replay.actions.count("Command") == 2


def test_the_poll_command_line_is_cmd_exe_syntax(wine: WineChannel) -> None:
    """The poll's one command line through the WinRM channel, run by wine's cmd.exe (a real
    cmd.exe parser and reg.exe; wine's schtasks prints nothing, so the agent reads as idle)."""
    guest = WindowsGuest(PYTHON)
    assert wine.run(f'reg add "{BOOT_KEY}" /v BootId /t REG_DWORD /d 42 /f').exit_code == 0
    wine.put(b"5", f"{guest.extension_dir}\\mrseq")
    wine.put(b'[{"status": {"status": "success"}}]', f"{guest.status_dir}\\5.status")

    def script(command: str) -> Answer:
        done = wine.run(command)
        return done.stdout, done.stderr, done.exit_code

    with serve(Replay(script)) as replay:
        seen = guest.poll(channel(replay), 5)
    assert (seen.boot_id, seen.busy, seen.mrseq, seen.details) == ("bootid-42", False, "5", b"")
    assert json.loads(seen.status) == [{"status": {"status": "success"}}]


def test_apply_follows_the_agent_across_a_reboot_and_reconnects() -> None:
    """The guest reboots while the agent works: a dropped Receive (GuestUnreachable), a dropped
    shell Delete, then a new shell in the new boot, where the resumed agent has finished."""
    boot = [26]
    polls: list[int] = []

    def script(command: str) -> Answer:
        if command.startswith(BOOT_QUERY + " && schtasks"):
            return reg_boot(boot[0]), b"", 0
        if SEPARATOR not in command:
            return OK
        polls.append(boot[0])
        if boot[0] == 26 and len(polls) == 2:
            boot[0] = 27
            replay.reboot(dropped=2)
        status = {"status": "success"} if boot[0] == 27 else None
        return poll_answer(boot[0], 4, "267009" if status is None else "0", status), b"", 0

    with serve(Replay(script)) as replay:
        client = AgentClient(lambda: channel(replay), WindowsGuest(PYTHON), vm="win-box")
        outcome = client.apply({"sequenceNumber": 4, "os": "windows", "applications": []},
                               timeout=60, poll=0.05)
    assert outcome.reboots == ["bootid-27"]
    assert polls == [26, 26, 27]
    assert replay.actions.count("dropped") == 2 and replay.opened == 2


def test_a_reconnect_refused_during_the_reboot_and_a_forgotten_shell_are_unreachable() -> None:
    with serve(Replay(windows())) as replay:
        win = channel(replay)
        replay.reboot(dropped=1)
        with pytest.raises(GuestUnreachable) as refused:
            channel(replay)
        with pytest.raises(GuestUnreachable) as forgotten:
            win.run("echo still there?")
    assert str(refused.value).startswith("winrm connect [win-box]: http://127.0.0.1:")
    assert "the shell is gone (the guest rebooted or its WinRM service restarted)" in str(
        forgotten.value)
    assert str(forgotten.value).endswith("(WS-Management fault 2150858843)")
    assert replay.actions[-1] == "Command (no shell)"


def test_kill_agent_kills_the_lock_holder_and_not_its_commands() -> None:
    owner = (b"pid 4242, apply, boot bootid-26, since 2026-12-03T11:40:00Z\r\n", b"", 0)
    with serve(Replay(windows(("vmapp-agent.lock.owner", owner)))) as replay:
        WindowsGuest(PYTHON).kill_agent(channel(replay))
    assert replay.commands[-1] == "taskkill /F /PID 4242"  # no /T: its commands live on


def test_a_windows_without_the_boot_counter_is_said() -> None:
    missing = (b"", b"ERROR: The system was unable to find the specified registry key or "
               b"value.\r\n", 1)
    with serve(Replay(windows((BOOT_QUERY, missing)))) as replay, \
            pytest.raises(InfrastructureError) as caught:
        WindowsGuest(PYTHON).boot_id(channel(replay))
    assert "no BootId under HKLM\\SYSTEM" in str(caught.value)


def test_collected_files_are_named_from_the_drive_and_found_again(tmp_path: Path) -> None:
    guest = WindowsGuest(PYTHON)
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = b'[{"status": {}}]'
        member = tarfile.TarInfo("Packages/Plugins/Microsoft.CPlat.Core."
                                 "VMApplicationManagerWindows/1.0.9/Status/1.status")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    text = base64.b64encode(archive.getvalue()).decode()
    printed = f"-----BEGIN CERTIFICATE-----\r\n{text}\r\n-----END CERTIFICATE-----\r\n"
    with serve(Replay(windows(("certutil -f -encode", (printed.encode(), b"", 0))))) as replay:
        got = guest.archive(channel(replay), [guest.extension_dir, guest.agent_log],
                            exclude=[f"{guest.extension_dir}/bin"])
    ext = "Packages/Plugins/Microsoft.CPlat.Core.VMApplicationManagerWindows/1.0.9"
    assert replay.commands[0] == (
        f'tar -czf "C:\\vmapp\\collect.tgz" -C C:/ --exclude "{ext}/bin" "{ext}" '
        '"WindowsAzure/Logs/Plugins/Microsoft.CPlat.Core.VMApplicationManagerWindows/'
        'vmapp-agent.log"')
    assert replay.commands[-1] == 'del "C:\\vmapp\\collect.tgz"'
    (tmp_path / "guest-files.tar.gz").write_bytes(got)
    assert status_files(tmp_path / "guest-files.tar.gz", tmp_path / "status",
                        guest.status_dir, guest.registry_file) == ["status/1.status"]


def test_storage_reaches_the_guest_through_a_portproxy_to_the_host() -> None:
    with serve(Replay(windows())) as replay:
        win = channel(replay)
        win.forward_to_host(10000)
        win.close_forward(10000)
    proxy = "netsh interface portproxy {} v4tov4 listenaddress=127.0.0.1 listenport=10000"
    assert replay.commands == [
        f"{proxy.format('delete')} >nul 2>&1 & {proxy.format('add')} "
        "connectaddress=10.0.2.2 connectport=10000",
        f"{proxy.format('delete')} >nul 2>&1 & exit /b 0"]


def test_the_clock_is_set_with_python_code_that_compiles() -> None:
    with serve(Replay(windows())) as replay:
        WindowsGuest(PYTHON).set_clock(channel(replay), 1_764_762_000.25)
    command = replay.commands[-1]
    assert command.startswith(f'"{PYTHON}" -c "') and command.endswith('"')
    code = command[len(f'"{PYTHON}" -c "'):-1]
    assert '"' not in code and "fromtimestamp(1764762000.250," in code
    compile(code, "<set clock>", "exec")  # runs only on Windows (ctypes.windll)


def test_a_box_recipe_s_login_connects_with_the_password_from_its_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    login = Login(communicator="winrm", user=USER, password_env="VMAPP_TEST_WIN_PASSWORD",
                  guest_port=5985, source="images/windows-box.yaml:14")
    monkeypatch.setenv("VMAPP_TEST_WIN_PASSWORD", PASSWORD)
    with serve(Replay(windows())) as replay:
        win = windowsbox.connect(login, port=replay.port, vm="win-box")
        assert isinstance(win, WinRmChannel) and win.host_from_guest == "10.0.2.2"
        assert win.run("echo hi").exit_code == 0


def test_facts_read_windows_edition_and_python_in_one_round_trip() -> None:
    sep = f"{SEPARATOR}\r\n".encode()
    printed = sep.join([
        b"\r\nMicrosoft Windows [Version 10.0.20348.2227]\r\n",
        b"\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\r\n"
        b"    ProductName    REG_SZ    Windows Server 2022 Standard Evaluation\r\n\r\n",
        b"Python 3.11.9\r\n"])
    with serve(Replay(windows((SEPARATOR, (printed, b"", 0))))) as replay:
        facts = WindowsGuest(PYTHON).facts(channel(replay))
    assert facts == {"os": "Microsoft Windows [Version 10.0.20348.2227]",
                     "edition": "Windows Server 2022 Standard Evaluation", "python": "3.11.9"}
    assert len(replay.commands) == 1
    with serve(Replay(windows((SEPARATOR, (b"", b"", 1))))) as replay:
        assert WindowsGuest(PYTHON).facts(channel(replay)) == {}  # left out, never an error

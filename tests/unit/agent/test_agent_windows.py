"""The Windows side, exercised without Windows: path layout and the cmd.exe command line.

No Windows can run here, so the Cmd executor is checked up to the call of CreateProcess (the
string handed to Popen); running it for real is the job of a Windows box or the wine stand-in.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, ClassVar

from agent_guest import Guest

from harness.agent.vmapp_agent import (
    CmdExecutor,
    ExecResult,
    Layout,
    command_failure,
    resume_unit_text,
)

WIN_EXT = "Microsoft.CPlat.Core.VMApplicationManagerWindows"


def test_windows_paths_map_under_the_root_by_drive(tmp_path: Path) -> None:
    layout = Layout("windows", str(tmp_path))
    ext = tmp_path / "C" / "Packages" / "Plugins" / WIN_EXT / "1.0.9"
    assert layout.extension_dir == ext
    assert layout.version_dir("myApp", "1.2.3") == ext / "Downloads" / "myApp" / "1.2.3"
    assert layout.settings_file(3) == ext / "RuntimeSettings" / "3.settings"
    assert layout.status_file(3) == ext / "Status" / "3.status"
    assert layout.registry_file == ext / "RuntimeSettings" / "applicationRegistry.active"
    assert layout.log_file == (tmp_path / "C" / "WindowsAzure" / "Logs" / "Plugins" / WIN_EXT
                               / "vmapp-agent.log")
    assert layout.local("D:\\Data\\x.txt") == tmp_path / "D" / "Data" / "x.txt"


def test_linux_paths_map_under_the_root_or_stay_real(tmp_path: Path) -> None:
    mapped = Layout("linux", str(tmp_path))
    assert mapped.version_dir("go", "1.0.0") == (
        tmp_path / "var/lib/waagent/Microsoft.CPlat.Core.VMApplicationManagerLinux/go/1.0.0")
    real = Layout("linux", "/")
    assert real.is_real and real.status_file(2) == Path(
        "/var/lib/waagent/Microsoft.CPlat.Core.VMApplicationManagerLinux-1.0.9/status/2.status")


def test_cmd_command_line_is_the_command_exactly_as_written() -> None:
    seeds = [
        'move .\\myApp .\\myApp.exe & myApp.exe /S -config myApp_config',
        '"C:\\Program Files\\myApp\\uninstall\\helper.exe" /S',
        'start /wait %windir%\\system32\\msiexec.exe /i myapp /quiet /log myapp_install.log',
        'rename myapp myapp.zip && mkdir C:\\myapp && powershell.exe -Command '
        '"Expand-Archive -path myapp.zip -destinationpath C:\\myapp"',
    ]
    for command in seeds:
        assert CmdExecutor.command_line(command) == "cmd.exe /c " + command


class RecordingPopen:
    """Stands in for CreateProcess (unavailable here): records what it was handed."""

    calls: ClassVar[list[tuple[Any, dict[str, Any]]]] = []

    def __init__(self, args: Any, **kwargs: Any) -> None:
        RecordingPopen.calls.append((args, kwargs))
        self.pid = 1

    def wait(self, timeout: float | None = None) -> int:
        return 3010


def test_cmd_executor_hands_one_string_and_keeps_the_full_exit_code(tmp_path: Path) -> None:
    RecordingPopen.calls.clear()
    command = '"C:\\Program Files\\a b\\setup.exe" /S & exit /b 3010'
    result = CmdExecutor(popen=RecordingPopen).run(
        command, tmp_path, tmp_path / "stdout", tmp_path / "stderr", 5, tmp_path / "started")
    [(args, kwargs)] = RecordingPopen.calls
    assert (tmp_path / "started").exists()  # marked once CreateProcess has returned
    assert args == 'cmd.exe /c "C:\\Program Files\\a b\\setup.exe" /S & exit /b 3010'
    assert "shell" not in kwargs and kwargs["cwd"] == str(tmp_path)
    assert kwargs["stdin"] == subprocess.DEVNULL
    assert result.exit_code == 3010
    assert command_failure(command, result, 5) == (
        f"Error executing command '{command}': command terminated with exit status=3010")


def test_failure_texts() -> None:
    assert command_failure("x", ExecResult(0), 9) is None
    assert command_failure("x", ExecResult(-15), 9) == (
        "Error executing command 'x': command terminated by signal 15")
    assert command_failure("x", ExecResult(None, error="could not start"), 9) == (
        "Error executing command 'x': could not start")


def test_windows_goal_state_uses_the_windows_layout_and_fails_honestly_without_cmd(
        tmp_path: Path, blob_server: Any) -> None:
    guest = Guest(tmp_path, blob_server, os_name="windows")
    guest.apply(guest.goal(1, [guest.app("myApp", install="myApp.exe /S", config=b"c")]))
    ext = guest.root / "C" / "Packages" / "Plugins" / WIN_EXT / "1.0.9"
    folder = ext / "Downloads" / "myApp" / "1.0.0"
    assert sorted(p.name for p in folder.iterdir()) == ["myApp", "myApp_config", "stderr",
                                                        "stdout"]
    assert (ext / "RuntimeSettings" / "1.settings").exists()
    assert (ext / "mrseq").read_text() == "1"
    status = (ext / "Status" / "1.status").read_text()
    assert WIN_EXT in status
    assert "Install FAILED Error executing command 'myApp.exe /S': could not start cmd.exe" in (
        status.replace('\\"', '"'))
    assert (guest.root / "C" / "WindowsAzure" / "Logs" / "Plugins" / WIN_EXT /
            "vmapp-agent.log").exists()


def test_windows_agent_refuses_a_linux_goal_state(tmp_path: Path, blob_server: Any) -> None:
    guest = Guest(tmp_path, blob_server, os_name="windows")
    goal = guest.goal(1, [guest.app("a")])
    goal["os"] = "linux"
    done = guest.apply(goal, expect_rc=2)
    assert "os: the goal state is for linux but this agent runs as windows" in done.stderr


def test_the_wine_stand_in_layout_is_in_the_prefix_drive_c_and_maps_back(tmp_path: Path) -> None:
    layout = Layout("windows", None, wine_prefix=str(tmp_path / "wine"))
    ext = tmp_path / "wine" / "drive_c" / "Packages" / "Plugins" / WIN_EXT / "1.0.9"
    assert layout.version_dir("myApp", "1.2.3") == ext / "Downloads" / "myApp" / "1.2.3"
    assert layout.status_file(3) == ext / "Status" / "3.status"
    assert layout.is_real and layout.linux_host and not Layout("windows").linux_host
    assert layout.windows_path(ext / "outputs" / "1" / "a.stdout") == (
        f"C:\\Packages\\Plugins\\{WIN_EXT}\\1.0.9\\outputs\\1\\a.stdout")


def test_the_stand_ins_resume_unit_runs_the_windows_side() -> None:
    text = resume_unit_text("/usr/bin/python3", Path("/x/vmapp_agent.py"),
                            "--os windows --wine-standin /usr/local/lib/vmapp/wine-standin.json")
    assert ("ExecStart=/usr/bin/python3 /x/vmapp_agent.py --os windows --wine-standin "
            "/usr/local/lib/vmapp/wine-standin.json resume\n") in text

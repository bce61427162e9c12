"""The command-fails fault on a Windows guest, run by real wine's cmd.exe: the POSIX form
(`echo ... >&2; exit 42`) would print and exit 0 there, a false success."""

from __future__ import annotations

from harness.machines.wine import WineChannel
from harness.runner.goal import Faults


def test_a_command_fails_fault_fails_in_cmd_exe_with_its_code(wine: WineChannel) -> None:
    faults = Faults(failing={("a@1.0.0", "install"): 42})
    failing = faults.command("a@1.0.0", "install", 'msiexec /i a "%windir%" & exit /b 0',
                             windows=True)
    assert failing is not None
    done = wine.run(failing)
    assert done.exit_code == 42
    assert done.error_text == ("vmapp-harness: injected fault: this install command exits 42 "
                               "instead of running \r\n")
    assert faults.command("a@1.0.0", "remove", "del x", windows=True) == "del x"

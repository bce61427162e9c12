"""The commands and packages the wine stand-in refuses, and why: the rules of
harness.machines.standin as the agent applies them (``standin_refusal``, the one implementation).

The packages are real: built with makensis (32- and 64-bit) and wixl; that a 32-bit installer
"passes" under wine without doing anything is shown in test_windows_packages.py.
"""

from __future__ import annotations

import pytest
from windows_guest import build

from harness.agent.vmapp_agent import pe_machine, standin_refusal
from harness.machines.standin import PREFIX, refusal_rules


def refusal(command: str, package: bytes | None = None) -> str | None:
    return standin_refusal(refusal_rules(), command, [] if package is None else [package])


SEEDS_MSI = "start /wait %windir%\\system32\\msiexec.exe /i myapp /quiet /log myapp_install.log"


@pytest.mark.parametrize("command", [
    "move .\\myApp .\\myApp.exe & myApp.exe /S -config myApp_config",
    SEEDS_MSI,
    "start /wait %windir%\\system32\\msiexec.exe /x myapp /quiet /norestart",
    'rmdir /S /Q C:\\myapp',
    '"C:\\Program Files\\myApp\\uninstall\\helper.exe" /S',
    "reg add HKLM\\Software\\Scheduler /v Mode /d x /f & echo networking",
    "copy describe.txt C:\\docs\\ & echo sc is fine inside a word: disc scan",
])
def test_faithful_commands_are_not_refused(command: str) -> None:
    assert refusal(command) is None


@pytest.mark.parametrize(("command", "reason"), [
    ('rename myapp myapp.zip & mkdir C:\\myapp & powershell.exe -Command "Expand-Archive '
     '-path myapp.zip -destinationpath C:\\myapp"', "PowerShell"),
    ("PowerShell -NoProfile -File install.ps1", "PowerShell"),
    ("C:\\tools\\pwsh.exe -c Get-Date", "PowerShell"),
    ("myApp.exe /S & shutdown /r /t 0", "shutdown/restart"),
    ("start /wait %windir%\\system32\\msiexec.exe /i myapp /quiet /forcerestart /log x.log",
     "msiexec /forcerestart"),
    ("sc create vmapp binPath= C:\\vmapp\\svc.exe & sc start vmapp", "services (sc.exe"),
    ("sc.exe \\\\host query vmapp", "services (sc.exe"),
    ("net start vmapp", "services (net start/stop"),
    ("NET.EXE stop vmapp", "services (net start/stop"),
    ("start /wait msiexec /i app /quiet & exit /b %ERRORLEVEL%", "%errorlevel% in a one-line"),
])
def test_unfaithful_commands_are_refused_with_the_reason(command: str, reason: str) -> None:
    found = refusal(command)
    assert found is not None and found.startswith(PREFIX + reason)


def test_every_reason_is_given() -> None:
    assert refusal("powershell -c Restart-Computer & shutdown /r") == (
        PREFIX + "PowerShell (wine's powershell.exe is a stub that exits 0 and does nothing); "
        "shutdown/restart (wine's shutdown does nothing: there is no machine to restart)")


def test_32_bit_installer_is_refused_64_bit_is_not() -> None:
    command = "move .\\myApp .\\myApp.exe & myApp.exe /S"
    x64 = build("nsis-hello", "exe", "1.0.0")
    x86 = build("nsis-hello", "exe", "1.0.0", target="x86-unicode")
    assert (pe_machine(x64), pe_machine(x86)) == (0x8664, 0x14C)
    assert refusal(command, x64) is None
    assert refusal(command, x86) == (
        PREFIX + "32-bit x86 installer (the stand-in runs 64-bit programs only; wine64 without "
        "wine32 exits 0 from a 32-bit installer and installs nothing)")


def test_packages_that_are_not_programs_are_left_to_fail_on_their_own() -> None:
    msi = build("msi-hello", "msi", "1.0.0")
    malformed = build("malformed-installer", "file", "1.0.0", member="setup.exe")
    assert pe_machine(msi) is None and pe_machine(malformed) is None
    assert refusal(SEEDS_MSI, msi) is None
    assert refusal("move .\\a .\\a.exe & a.exe /S", malformed) is None
    assert pe_machine(b"MZ" + bytes(0x3A) + (0x1000).to_bytes(4, "little")) is None

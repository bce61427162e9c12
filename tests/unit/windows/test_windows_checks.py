"""harness.checks_windows against a real wine prefix, through the launcher channel.

Each kind gets a passing and a failing case; what is expected comes from what the test itself
put there (files written on the host, keys added with reg, an MSI installed by msiexec).
"""

from __future__ import annotations

import pytest
from windows_guest import MSIEXEC, build, deploy, run_in

from harness.checks import CheckResult
from harness.checks_windows import reg_values, run_windows_check
from harness.machines.wine import WineChannel
from harness.scenario.model import Check

KEY = "HKLM\\Software\\VmappChecks"


def check(wine: WineChannel, kind: str, target: str, **wanted: object
          ) -> list[tuple[bool, str, str]]:
    results: list[CheckResult] = run_windows_check(wine, Check(kind, target, dict(wanted)))
    return [(r.passed, r.expected, r.actual) for r in results]


@pytest.fixture(scope="module")
def tree(wine: WineChannel) -> str:
    wine.put(b"\xef\xbb\xbfhello from the stand-in\r\n", "C:\\checks\\My Folder\\note.txt")
    wine.run("mkdir C:\\checks\\empty")
    return "C:\\checks"


def test_file_and_folder(wine: WineChannel, tree: str) -> None:
    assert check(wine, "file", f"{tree}\\My Folder\\note.txt", is_directory=False,
                 contains="from the stand-in") == [
        (True, "exists = True", "exists = True"),
        (True, "is_directory = False", "is_directory = False"),
        (True, "content contains 'from the stand-in'",
         "content = 'hello from the stand-in\\r\\n'")]
    assert check(wine, "file", f"{tree}\\empty", is_directory=True) == [
        (True, "exists = True", "exists = True"),
        (True, "is_directory = True", "is_directory = True")]


def test_file_failures_say_what_was_found(wine: WineChannel, tree: str) -> None:
    assert check(wine, "file", f"{tree}\\missing.txt", contains="x") == [
        (False, "exists = True", "exists = False")]
    assert check(wine, "file", f"{tree}\\empty", exists=False) == [
        (False, "exists = False", "exists = True")]
    assert check(wine, "file", f"{tree}\\My Folder\\note.txt", contains="goodbye", mode="0644")\
        == [(True, "exists = True", "exists = True"),
            (False, "mode = '0644'", "mode has no meaning on a Windows guest"),
            (False, "content contains 'goodbye'", "content = 'hello from the stand-in\\r\\n'")]


def test_registry_key_and_values(wine: WineChannel) -> None:
    assert wine.run(f'reg add "{KEY}" /v "Install Dir" /d "C:\\Program Files\\X" /f & '
                    f'reg add "{KEY}" /v Count /t REG_DWORD /d 3010 /f & '
                    f'reg add "{KEY}" /ve /d plain /f').exit_code == 0
    assert check(wine, "registry", KEY, value="Install Dir", data="C:\\Program Files\\X") == [
        (True, "exists = True", "exists = True"),
        (True, "value Install Dir = 'C:\\\\Program Files\\\\X'",
         "value Install Dir = 'C:\\\\Program Files\\\\X'")]
    assert check(wine, "registry", KEY, value="Count", data=3010)[1] == (
        True, "value Count = '3010'", "value Count = '3010'")
    assert check(wine, "registry", KEY, value="", data="plain")[1][0] is True
    assert check(wine, "registry", KEY, value="Count")[1] == (
        True, "value Count = True", "value Count = True")


def test_registry_failures(wine: WineChannel) -> None:
    assert check(wine, "registry", f"{KEY}\\Nope", value="x") == [
        (False, "exists = True", "exists = False")]
    assert check(wine, "registry", KEY, value="Absent", data="1")[1] == (
        False, "value Absent = '1'", "value Absent = None")
    assert check(wine, "registry", KEY, value="Count", data=1)[1] == (
        False, "value Count = '1'", "value Count = '3010'")
    assert check(wine, "registry", f"{KEY}\\Nope", exists=False) == [
        (True, "exists = False", "exists = False")]


def test_product_installed_by_msiexec_then_removed(wine: WineChannel) -> None:
    name = "Vmapp MSI Hello"
    assert check(wine, "product", name, installed=False) == [
        (True, "installed = False", "installed = False")]
    msi = build("msi-hello", "msi", "4.5.6")
    assert deploy(wine, "prod", "4.5.6", msi, f"{MSIEXEC} /i prod /quiet").exit_code == 0
    assert check(wine, "product", name, version="4.5.6") == [
        (True, "installed = True", "installed = True"),
        (True, "version = '4.5.6'", "version = '4.5.6'")]
    assert check(wine, "product", name, version="4.5.7")[1] == (
        False, "version = '4.5.7'", "version = '4.5.6'")
    assert run_in(wine, "prod", "4.5.6", f"{MSIEXEC} /x prod /quiet").exit_code == 0
    assert check(wine, "product", name, version="4.5.6") == [
        (False, "installed = True", "installed = False")]


def test_command_exit_code_and_output(wine: WineChannel) -> None:
    assert check(wine, "command", 'echo "quoted" & echo oops 1>&2 & exit /b 3010',
                 exit_code=3010, stdout_contains='"quoted"', stderr_contains="oops") == [
        (True, "exit_code = 3010", "exit_code = 3010"),
        (True, "stdout contains '\"quoted\"'", "stdout = '\"quoted\" \\r\\n'"),
        (True, "stderr contains 'oops'", "stderr = 'oops  \\r\\n'")]
    assert check(wine, "command", "exit /b 1") == [(False, "exit_code = 0", "exit_code = 1")]


def test_linux_kinds_fail_saying_so(wine: WineChannel) -> None:
    assert check(wine, "service", "sshd", running=True) == [
        (False, "running = True", "service checks need a Linux guest; a Windows guest has "
         "file, command, registry, product")]


def test_reg_values_parses_names_with_blanks_and_empty_data() -> None:
    output = ("\r\nHKEY_LOCAL_MACHINE\\Software\\A\r\n    My Name    REG_SZ    a  b\r\n"
              "    Empty    REG_SZ    \r\n    N    REG_QWORD    0x10\r\n\r\n"
              "HKEY_LOCAL_MACHINE\\Software\\A\\B\r\n    (Default)    REG_SZ    d\r\n")
    assert reg_values(output) == {
        "HKEY_LOCAL_MACHINE\\Software\\A": {"My Name": "a  b", "Empty": "", "N": "16"},
        "HKEY_LOCAL_MACHINE\\Software\\A\\B": {"(Default)": "d"}}

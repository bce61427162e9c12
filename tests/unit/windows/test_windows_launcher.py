"""The launcher under real wine: the command string arrives exactly as written, the exit code
arrives whole, and output goes to files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.errors import InfrastructureError
from harness.images.mingw import LAUNCHER, build_program
from harness.machines.wine import WineChannel


def test_quotes_reach_cmd_exactly_as_written(wine: WineChannel) -> None:
    done = wine.run('echo "a  b" \'c\' \\"d\\"')
    assert (done.exit_code, done.text) == (0, '"a  b" \'c\' \\"d\\"\r\n')


def test_exit_code_is_the_full_32_bits(wine: WineChannel) -> None:
    assert wine.run("exit /b 3010").exit_code == 3010
    assert wine.run("exit /b 1603").exit_code == 1603
    assert wine.run("exit /b 0").exit_code == 0


def test_ampersand_runs_both_and_the_last_code_counts(wine: WineChannel) -> None:
    done = wine.run("echo one & echo two & exit /b 7")
    assert (done.exit_code, done.text) == (7, "one \r\ntwo \r\n")


def test_stdout_and_stderr_are_separate_files(wine: WineChannel) -> None:
    done = wine.run("echo out & echo err 1>&2")
    assert (done.text, done.error_text) == ("out \r\n", "err \r\n")


def test_redirection_and_environment(wine: WineChannel) -> None:
    done = wine.run('mkdir C:\\launch-test & echo %windir%> "C:\\launch-test\\w.txt" & '
                    'type C:\\launch-test\\w.txt')
    # as on Windows, the blank before "&" is part of what echo writes
    assert done.text == "C:\\windows \r\n"
    assert wine.get("C:\\Launch-Test\\W.TXT") == b"C:\\windows \r\n"


def test_start_wait_passes_the_exit_code_back(wine: WineChannel) -> None:
    """Under wine only: Windows expands %errorlevel% when it reads the line (0 here), which is
    why the stand-in refuses commands that use it (harness.machines.standin)."""
    done = wine.run('start /wait cmd.exe /c "exit /b 3010" & exit /b %errorlevel%')
    assert done.exit_code == 3010


def test_utf8_command_arrives_as_utf16(wine: WineChannel) -> None:
    wine.run("mkdir C:\\données & echo é> C:\\données\\é.txt")
    assert wine.host_path("C:\\données\\é.txt").is_file()


def test_build_is_cached_by_source(tmp_path: Path) -> None:
    first = build_program(LAUNCHER, cache=tmp_path)
    assert first.name == LAUNCHER.name and first.read_bytes()[:2] == b"MZ"
    stamp = first.stat().st_mtime_ns
    assert build_program(LAUNCHER, cache=tmp_path) == first
    assert first.stat().st_mtime_ns == stamp
    changed = tmp_path / "changed.c"
    changed.write_text(LAUNCHER.source.read_text() + "\n/* changed */\n")
    rebuilt = build_program(dataclasses.replace(LAUNCHER, source=changed), cache=tmp_path)
    assert rebuilt.parent != first.parent


def test_launcher_failures_write_no_exit_code_and_say_why(wine: WineChannel) -> None:
    wine.put(b"echo \xff\xfe not UTF-8", "C:\\launch-test\\bad.txt")
    exe = f"C:\\vmapp\\{LAUNCHER.name}"
    for command_file in ("C:\\launch-test\\none.txt", "C:\\launch-test\\bad.txt"):
        done = wine.run(f"{exe} {command_file} C:\\launch-test\\o C:\\launch-test\\e "
                        "C:\\launch-test\\code")
        assert done.exit_code == 255
        assert f"cannot read UTF-8 command from {command_file}" in done.error_text
        assert not wine.host_path("C:\\launch-test\\code").exists()
    usage = wine.run(f"{exe} only-one-argument")
    assert (usage.exit_code, usage.error_text.split(" COMMAND_FILE")[0]) == (
        255, "usage: vmapp-launch")


def test_paths_outside_the_prefix_are_refused(wine: WineChannel) -> None:
    for path in ("C:\\..\\..\\etc\\passwd", "D:\\x", "relative\\x"):
        with pytest.raises(InfrastructureError):
            wine.host_path(path)


def test_a_command_past_its_timeout_is_killed_and_the_prefix_stays_usable(
        wine: WineChannel) -> None:
    with pytest.raises(InfrastructureError) as caught:
        wine.run("for /l %i in (1,0,2) do @rem", timeout=3)  # a step of 0 never ends
    assert "timed out after 3s (every process in the prefix was killed)" in str(caught.value)
    assert wine.run("exit /b 5").exit_code == 5

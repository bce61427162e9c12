"""proc: the one place processes start; failures name the stage, and tests can forbid spawning."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import proc
from harness.errors import CommandError


def test_run_captures_output_and_exit_code() -> None:
    done = proc.run(["sh", "-c", "echo out; echo err >&2"], stage="s")
    assert (done.args, done.returncode, done.stdout, done.stderr) == (
        ("sh", "-c", "echo out; echo err >&2"), 0, "out\n", "err\n")


def test_run_passes_cwd_env_and_input(tmp_path: Path) -> None:
    done = proc.run(["sh", "-c", 'pwd; echo "$VMAPP_T"; cat'], stage="s", cwd=tmp_path,
                    env={"VMAPP_T": "set"}, input_text="from stdin")
    assert done.stdout == f"{tmp_path}\nset\nfrom stdin"


def test_stdin_is_empty_without_input() -> None:
    assert proc.run(["cat"], stage="s", timeout=10).stdout == ""


def test_nonzero_exit_is_a_command_error() -> None:
    with pytest.raises(CommandError) as caught:
        proc.run(["sh", "-c", "echo partial; echo broken >&2; exit 3"], stage="unpack")
    error = caught.value
    assert (error.stage, error.exit_code, tuple(error.command)) == (
        "unpack", 3, ("sh", "-c", "echo partial; echo broken >&2; exit 3"))
    assert str(error) == ("unpack: `sh -c echo partial; echo broken >&2; exit 3` exited 3: "
                          "command failed\npartial\nbroken")


def test_nonzero_exit_without_check() -> None:
    assert proc.run(["sh", "-c", "exit 4"], stage="s", check=False).returncode == 4


def test_missing_executable() -> None:
    with pytest.raises(CommandError) as caught:
        proc.run(["vmapp-no-such-program"], stage="probe")
    error = caught.value
    assert (error.stage, error.detail, error.exit_code) == ("probe", "executable not found", None)


def test_timeout() -> None:
    with pytest.raises(CommandError) as caught:
        proc.run(["sleep", "5"], stage="slow", timeout=0.2)
    assert caught.value.detail == "timed out after 0.2s"


def test_spawn_writes_output_to_log(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "p.log"
    child = proc.spawn(["sh", "-c", "echo hello; echo oops >&2"], log=log)
    assert child.wait(timeout=10) == 0
    assert log.read_text() == "hello\noops\n"


def test_spawn_missing_executable(tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        proc.spawn(["vmapp-no-such-program"], log=tmp_path / "x.log")
    assert caught.value.detail == "executable not found"


def test_spawning_can_be_forbidden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(proc, "ALLOW_SPAWN", False)
    with pytest.raises(proc.SpawnForbidden) as caught:
        proc.run(["true"], stage="s")
    assert str(caught.value) == "process spawning is disabled here: true"
    with pytest.raises(proc.SpawnForbidden):
        proc.spawn(["true"], log=tmp_path / "x.log")
    assert not (tmp_path / "x.log").exists()

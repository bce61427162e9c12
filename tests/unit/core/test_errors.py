"""Error messages: the exact text users read in the terminal and in reports."""

from __future__ import annotations

from harness.errors import (
    CleanupErrors,
    CommandError,
    ConfigError,
    ConfigErrors,
    GuestUnreachable,
    HarnessError,
    InfrastructureError,
    WaitTimeout,
)


def test_config_error_formats() -> None:
    assert str(ConfigError("bad", file="s.yaml", line=3, field="a.b")) == "s.yaml:3 a.b: bad"
    assert str(ConfigError("bad", file="s.yaml", line=3)) == "s.yaml:3: bad"
    assert str(ConfigError("bad", file="s.yaml", field="a")) == "s.yaml a: bad"
    assert str(ConfigError("bad", file="s.yaml")) == "s.yaml: bad"
    assert str(ConfigError("bad", line=7, field="a")) == "line 7 a: bad"
    assert str(ConfigError("bad", field="package.format")) == "package.format: bad"
    assert str(ConfigError("bad")) == "bad"


def test_config_errors_one_per_line() -> None:
    errors = ConfigErrors([ConfigError("one", file="a", line=1), ConfigError("two", file="b")])
    assert str(errors) == "a:1: one\nb: two"


def test_infrastructure_error_names_stage_and_vm() -> None:
    assert str(InfrastructureError(stage="boot", detail="no console")) == "boot: no console"
    assert str(InfrastructureError(stage="boot", detail="x", vm="vmapp-1")) == "boot [vmapp-1]: x"
    assert str(GuestUnreachable(stage="ssh", detail="refused", vm="v")) == "ssh [v]: refused"
    assert isinstance(GuestUnreachable(stage="s", detail="d"), InfrastructureError)


def test_command_error_keeps_the_tail_of_the_output() -> None:
    error = CommandError(stage="build", detail="command failed", command=("tar", "-x"),
                         exit_code=2, output="x" * 3000 + "last words\n")
    text = str(error)
    first, tail = text.split("\n", 1)
    assert first == "build: `tar -x` exited 2: command failed"
    assert len(tail) == 2000
    assert tail.endswith("last words")
    assert str(CommandError(stage="s", detail="d", command=("ls",), exit_code=1)) == \
        "s: `ls` exited 1: d"


def test_wait_timeout_names_what_was_awaited() -> None:
    assert str(WaitTimeout(stage="boot", detail="", check="ssh", seconds=30.4)) == \
        "boot: timed out after 30s waiting for ssh"
    assert str(WaitTimeout(stage="boot", detail="", check="ssh", seconds=5,
                           last_error="OSError: refused")) == \
        "boot: timed out after 5s waiting for ssh (last error: OSError: refused)"


def test_cleanup_errors_list_every_failure() -> None:
    text = str(CleanupErrors([OSError("disk busy"), ValueError("bad name")]))
    assert text == ("2 cleanup step(s) failed:\n  - OSError: disk busy\n"
                    "  - ValueError: bad name")


def test_plain_harness_error() -> None:
    assert str(HarnessError("plain")) == "plain"
    assert str(HarnessError()) == "HarnessError"

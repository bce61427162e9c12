"""Scenario checks run with pytest-testinfra, in-process, over the harness's own channel.

testinfra's ``Host`` takes any backend; ours is one small class on top of :class:`Channel`, so
no second SSH connection and no second pytest are needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import testinfra.backend.base
import testinfra.host
from testinfra.modules.service import SystemdService

from harness.errors import HarnessError
from harness.ports import Channel
from harness.scenario.model import Check


class ChannelBackend(testinfra.backend.base.BaseBackend):  # type: ignore[misc]
    """testinfra backend over a harness Channel (commands run as root)."""

    NAME = "vmapp"

    def __init__(self, channel: Channel, hostname: str) -> None:
        super().__init__(hostname)
        self.channel = channel

    def run(self, command: str, *args: str, **kwargs: Any) -> testinfra.backend.base.CommandResult:
        text = self.get_command(command, *args)
        done = self.channel.run(text, sudo=True)
        return self.result(done.exit_code, self.encode(text), done.stdout, done.stderr)


def host_for(channel: Channel, name: str) -> testinfra.host.Host:
    backend = ChannelBackend(channel, name)
    host = testinfra.host.Host(backend)
    backend.set_host(host)
    return host


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    expected: str
    actual: str

    @property
    def title(self) -> str:
        return f"{self.check.kind} {self.check.target}"


def _compare(out: list[CheckResult], check: Check, key: str, actual: Any,
             expected: Any | None = None, *, contains: bool = False) -> None:
    wanted = check.wanted[key] if expected is None else expected
    passed = (str(wanted) in str(actual)) if contains else actual == wanted
    # "stdout_contains: x" reads "stdout contains 'x'", a file's "contains: x" "content ..."
    name = ("content" if key == "contains" else key.removesuffix("_contains")) if contains \
        else key
    label = f"{name} contains {wanted!r}" if contains else f"{name} = {wanted!r}"
    out.append(CheckResult(check, passed, label, f"{name} = {actual!r}"))


def _unit_present(host: testinfra.host.Host, name: str) -> bool:
    """Whether systemd has this unit file.  A unit that is not there is neither running nor
    enabled; asking testinfra would fail (systemd 257 answers is-enabled with exit 4), and its
    own ``exists`` matches prefixes ("auto" finds autovt@.service)."""
    unit = name if "." in name else f"{name}.service"
    listed = host.run("systemctl list-unit-files --no-legend --full -- %s", unit).stdout
    return any(line.split()[0] == unit for line in listed.splitlines() if line.strip())


def _mode(value: str | int) -> int:
    return int(value.removeprefix("0o"), 8) if isinstance(value, str) else value


def run_check(host: testinfra.host.Host, check: Check) -> list[CheckResult]:
    """Evaluate one check; one result per asserted property.  What testinfra cannot evaluate
    (a unit it cannot query, a file that is not text) is a failed check saying why; a guest
    that went away stays an infrastructure error."""
    try:
        return _evaluate(host, check)
    except HarnessError:
        raise
    except Exception as exc:  # testinfra raises RuntimeError, AssertionError, decode errors...
        return [CheckResult(check, False, ", ".join(f"{k} = {v!r}" for k, v in
                                                     check.wanted.items()) or "evaluated",
                            f"could not evaluate: {type(exc).__name__}: {exc}")]


def _evaluate(host: testinfra.host.Host, check: Check) -> list[CheckResult]:
    out: list[CheckResult] = []
    want = check.wanted
    if check.kind == "file":
        f = host.file(check.target)
        exists = f.exists
        _compare(out, check, "exists", exists, want.get("exists", True))
        if exists:
            if "is_directory" in want:
                _compare(out, check, "is_directory", f.is_directory)
            if "mode" in want:
                _compare(out, check, "mode", oct(f.mode), oct(_mode(want["mode"])))
            if "owner" in want:
                _compare(out, check, "owner", f.user)
            if "contains" in want:
                _compare(out, check, "contains", f.content_string, contains=True)
    elif check.kind == "command":
        r = host.run(check.target)
        _compare(out, check, "exit_code", r.rc, want.get("exit_code", 0))
        if "stdout_contains" in want:
            _compare(out, check, "stdout_contains", r.stdout, contains=True)
        if "stderr_contains" in want:
            _compare(out, check, "stderr_contains", r.stderr, contains=True)
    elif check.kind == "package":
        p = host.package(check.target)
        _compare(out, check, "installed", p.is_installed, want.get("installed", True))
        if "version" in want and p.is_installed:
            _compare(out, check, "version", p.version, contains=True)
    elif check.kind == "service":
        s = host.service(check.target)
        present = _unit_present(host, check.target) if isinstance(s, SystemdService) else True
        if "running" in want:
            _compare(out, check, "running", present and s.is_running)
        if "enabled" in want:
            _compare(out, check, "enabled", present and s.is_enabled)
    elif check.kind == "user":
        _compare(out, check, "exists", host.user(check.target).exists, want.get("exists", True))
    else:  # registry, product: harness/checks_windows.py
        out.append(CheckResult(check, False, "evaluated",
                               f"{check.kind} checks need a Windows guest"))
    return out

"""Hostile or broken input: refused cleanly (exit 2, one line), never an internal error.

Each case here once ended in exit 1 ("internal error", a traceback in the log) or was accepted
and failed later: a NUL reached ``Popen`` after the status said "transitioning", a 300-digit
sequence number became a file name too long for the file system, deep JSON overflowed the
parser's stack, a malformed IPv6 link crashed ``urlopen``.  Download errors that no retry can
fix must fail at once instead of being retried for the whole retry window.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from typing import Any

import pytest
from agent_guest import Guest


def goal_text(guest: Guest, **app: Any) -> str:
    return json.dumps(guest.goal(1, [guest.app("go", **app)]))


def deep_goal(guest: Guest) -> str:
    depth = 100_000
    return goal_text(guest, tags="DEEP").replace('"DEEP"', "[" * depth + "]" * depth)


HOSTILE = {
    "nul-in-command": lambda g: goal_text(g, install="true\x00"),
    "nul-in-file-name": lambda g: goal_text(g, packageFileName="go\x00"),
    "300-digit-sequence-number": lambda g: goal_text(g).replace(
        '"sequenceNumber": 1', '"sequenceNumber": ' + "9" * 300),
    "json-nested-100000-deep": deep_goal,
    "malformed-ipv6-url": lambda g: goal_text(g, packageUrl="http://[::1/go"),
    "timeout-nan": lambda g: goal_text(g).replace('"options": {}',
                                                  '"options": {"commandTimeoutSeconds": NaN}'),
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_goal_state_is_refused_with_exit_2_and_one_line(guest: Guest, make: Any) -> None:
    path = guest.tmp / "hostile.json"
    path.write_text(make(guest))
    done = guest.run("apply", str(path))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("vmapp_agent: error: ")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (guest.ext / "status").exists()  # nothing started, nothing left "transitioning"
    assert guest.trace_lines() == []


def _missing_file_url(guest: Guest) -> str:
    return (guest.tmp / "no-such-package").as_uri()


def _unknown_host_url(guest: Guest) -> str:
    try:
        socket.getaddrinfo("vmapp-no-such-host.invalid", 80)
    except socket.gaierror as exc:
        if exc.errno == socket.EAI_NONAME:
            return "http://vmapp-no-such-host.invalid/go"
    pytest.skip("this machine's resolver does not answer 'no such host' for .invalid")


def _nul_file_url(guest: Guest) -> str:
    return _missing_file_url(guest) + "%00x"


@pytest.mark.parametrize(("make_url", "reason"),
                         [(_missing_file_url, "No such file or directory"),
                          (_unknown_host_url, "no such host"),
                          (_nul_file_url, "invalid link: embedded null byte")],
                         ids=["missing-file", "unknown-host", "percent-encoded-nul"])
def test_permanent_download_errors_fail_at_once(guest: Guest, make_url: Any,
                                                reason: str) -> None:
    app = guest.app("go", packageUrl=make_url(guest))
    started = time.monotonic()
    guest.apply(guest.goal(1, [app], downloadRetrySeconds=30))
    assert time.monotonic() - started < 10, "a permanent error was retried"
    result = guest.results(1)["go"]
    assert result.startswith("Install FAILED Error downloading package from ")
    assert reason in result
    assert guest.trace_lines() == []


def test_sigterm_stops_the_download_retries(guest: Guest) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = guest.app("go", packageUrl=f"http://127.0.0.1:{port}/go")
    agent = guest.start_apply(guest.goal(1, [app], downloadRetrySeconds=60))
    try:
        time.sleep(1.5)  # retrying the refused connection by now
        agent.send_signal(signal.SIGTERM)
        _, stderr = agent.communicate(timeout=10)
    finally:
        agent.kill()
    assert agent.returncode == 3 and "interrupted" in stderr
    assert guest.results(1) == {"go": "Install PENDING"}  # resume downloads it again


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", "soon"])
def test_lock_wait_must_be_a_finite_number_of_seconds(guest: Guest, wait: str) -> None:
    done = guest.apply(guest.goal(1, [guest.app("go")]), 2, "--lock-wait", wait)
    assert "--lock-wait: must be a finite number of seconds >= 0" in done.stderr
    assert "Traceback" not in done.stderr

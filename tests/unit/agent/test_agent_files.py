"""What the agent writes (status, details, registry, settings, mrseq, log), the CLI, the lock."""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from agent_guest import Guest

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
RECORD_KEYS = {
    "app", "appVersion", "order", "action", "fromVersion", "appResult", "blockedBy",
    "treatFailureAsDeploymentFailure", "scriptBehaviorAfterReboot", "downloads", "operation",
    "version", "folder", "command", "message", "exitCode", "timedOut", "attempts", "bootId",
    "finishedBootId", "startedUTC", "finishedUTC", "interruptedByReboot", "rerun",
    "endedInReboot", "stdoutPath", "stderrPath", "result", "appStdoutPath", "appStderrPath",
    "stdout", "stderr", "unsupported"}


def test_status_file_has_the_real_handler_status_shape(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("go")]))
    doc = json.loads((guest.ext / "status" / "1.status").read_text())
    assert len(doc) == 1 and set(doc[0]) == {"version", "timestampUTC", "status"}
    assert doc[0]["version"] == 1.0
    assert TIMESTAMP.match(doc[0]["timestampUTC"])
    status = doc[0]["status"]
    assert {k: v for k, v in status.items() if k != "formattedMessage"} == {
        "name": "Microsoft.CPlat.Core.VMApplicationManagerLinux", "operation": "Enable",
        "status": "success", "code": 0}
    assert status["formattedMessage"] == {
        "lang": "en-US",
        "message": 'Enable succeeded: {"CurrentState":[{"applicationName":"go","version":"1.0.0",'
                   '"result":"Install SUCCESS"}],"ActionsPerformed":[{"applicationName":"go",'
                   '"version":"1.0.0","result":"Install SUCCESS"}]}'}


def test_settings_mrseq_and_registry(guest: Guest) -> None:
    app = guest.app("go", order=2, update="echo up")
    guest.apply(guest.goal(7, [app]))
    settings = json.loads((guest.ext / "config" / "7.settings").read_text())
    assert settings["sequenceNumber"] == 7
    assert settings["options"] == {"interpreter": "/bin/sh", "configNaming": "underscore",
                                   "commandTimeoutSeconds": 900.0, "downloadRetrySeconds": 120}
    assert settings["applications"] == [app]
    assert (guest.ext / "mrseq").read_text() == "7"
    entry = guest.registry()["go"]
    assert {k: entry[k] for k in ("name", "version", "state", "result", "packageReferenceId",
                                  "install", "remove", "update", "order", "sequenceNumber")} == {
        "name": "go", "version": "1.0.0", "state": "Installed", "result": "Install SUCCESS",
        "packageReferenceId": app["packageReferenceId"], "install": app["install"],
        "remove": app["remove"], "update": "echo up", "order": 2, "sequenceNumber": 7}
    assert entry["folder"] == str(guest.app_dir("go", "1.0.0"))


def test_details_record_every_operation_with_output_tails(guest: Guest) -> None:
    noisy = "head -c 100000 /dev/zero | tr '\\0' a; echo END; echo warn >&2"
    guest.apply(guest.goal(1, [guest.app("go", install=noisy)]))
    details = guest.details(1)
    assert {k: details[k] for k in ("schemaVersion", "sequenceNumber", "os", "status",
                                    "supersededBy", "bootId")} == {
        "schemaVersion": 1, "sequenceNumber": 1, "os": "linux", "status": "success",
        "supersededBy": None, "bootId": "boot-1"}
    [op] = details["operations"]
    assert set(op) == RECORD_KEYS
    assert (op["app"], op["version"], op["operation"], op["action"], op["command"]) == (
        "go", "1.0.0", "install", "install", noisy)
    assert (op["exitCode"], op["result"], op["appResult"]) == (0, "SUCCESS", "Install SUCCESS")
    assert len(op["stdout"]) == 64 * 1024 and op["stdout"].endswith("aaaEND\n")
    assert op["stderr"] == "warn\n"
    assert Path(op["stdoutPath"]).stat().st_size == 100004
    assert op["appStdoutPath"] == str(guest.app_dir("go", "1.0.0") / "stdout")
    assert TIMESTAMP.match(op["startedUTC"]) and op["startedUTC"] <= op["finishedUTC"]
    assert op["downloads"][0]["path"] == str(guest.app_dir("go", "1.0.0") / "go")


def test_status_and_capabilities_commands(guest: Guest) -> None:
    missing = guest.run("status")
    assert missing.returncode == 2 and "no goal state has been applied yet" in missing.stderr
    guest.apply(guest.goal(1, [guest.app("a")]))
    guest.apply(guest.goal(2, [guest.app("a"), guest.app("b")]))
    newest = json.loads(guest.run("status").stdout)
    first = json.loads(guest.run("status", "--seq", "1").stdout)
    assert "\\\"b\\\"" not in json.dumps(first) and '"b"' in newest[0]["status"][
        "formattedMessage"]["message"]
    caps = json.loads(guest.run("capabilities").stdout)
    assert caps["os"] == "linux" and caps["agentVersion"] == "1.0.0"
    assert {"name": "/bin/sh", "available": True} in caps["interpreters"]
    assert "scriptBehaviorAfterReboot" in caps["goalState"]["applicationFields"]
    log = guest.root / "var/log/azure/Microsoft.CPlat.Core.VMApplicationManagerLinux"
    lines = (log / "vmapp-agent.log").read_text().splitlines()
    assert any("a 1.0.0: Install SUCCESS" in line for line in lines)
    assert all(TIMESTAMP.match(line.split(" ", 1)[0]) for line in lines if line[:2] == "20")


def test_status_is_transitioning_while_apps_run(guest: Guest) -> None:
    gate = guest.tmp / "gate"
    wait = f"echo waiting; while [ ! -f {gate} ]; do sleep 0.05; done"
    apps = [guest.app("first", order=1), guest.app("second", order=2, install=wait),
            guest.app("third", order=3)]
    (guest.tmp / "goal.json").write_text(json.dumps(guest.goal(1, apps)))
    proc = subprocess.Popen(guest.argv("apply", str(guest.tmp / "goal.json")),
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with_status = (guest.ext / "status" / "1.status").exists()
            if with_status and guest.results(1).get("second") == "Install RUNNING":
                break
            time.sleep(0.05)
        assert guest.status(1)["status"] == "transitioning"
        assert guest.status(1)["formattedMessage"]["message"].startswith("Enable in progress: ")
        assert guest.results(1) == {"first": "Install SUCCESS", "second": "Install RUNNING",
                                    "third": "Install PENDING"}
        [running] = guest.ops(1, "second")
        assert running["result"] == "RUNNING" and running["finishedUTC"] is None
        # Output is live in the operation's own file (once the command has got as far as its
        # echo); the tail in details and the app folder's copy come once it ends.
        live = Path(running["stdoutPath"])
        while not (live.exists() and live.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert live.read_text() == "waiting\n"
        assert running["stdout"] == ""
        assert not Path(running["appStdoutPath"]).exists()
    finally:
        gate.touch()
        assert proc.wait(timeout=20) == 0
    assert guest.status(1)["status"] == "success"
    assert guest.results(1)["third"] == "Install SUCCESS"


def _hold_lock(guest: Guest) -> int:
    lock = guest.ext / "vmapp-agent.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    (guest.ext / "vmapp-agent.lock.owner").write_text("pid 4242, apply, boot boot-1\n")
    return fd


def test_a_held_lock_makes_a_second_run_fail_clearly(guest: Guest) -> None:
    fd = _hold_lock(guest)
    try:
        done = guest.apply(guest.goal(1, [guest.app("a")]), 2, "--lock-wait", "0.3")
    finally:
        os.close(fd)
    assert done.stderr.count("\n") == 1
    assert "another vmapp_agent run holds the lock" in done.stderr
    assert "(pid 4242, apply, boot boot-1)" in done.stderr
    assert guest.trace_lines() == []
    guest.apply(guest.goal(1, [guest.app("a")]))
    assert guest.trace_lines() == ["a:install:1.0.0"]


def test_a_second_run_waits_for_the_lock(guest: Guest) -> None:
    fd = _hold_lock(guest)
    threading.Timer(0.5, os.close, [fd]).start()
    started = time.monotonic()
    guest.apply(guest.goal(1, [guest.app("a")]), 0, "--lock-wait", "20")
    assert time.monotonic() - started >= 0.5
    assert guest.trace_lines() == ["a:install:1.0.0"]


def test_two_concurrent_applies_never_interleave(guest: Guest) -> None:
    slow = f"{guest.mark('one:start')}; sleep 0.5; {guest.mark('one:end')}"
    (guest.tmp / "g1.json").write_text(json.dumps(guest.goal(1, [guest.app("one", install=slow)])))
    first = subprocess.Popen(guest.argv("apply", str(guest.tmp / "g1.json")),
                             stdout=subprocess.DEVNULL)
    while "one:start" not in guest.trace_lines():
        time.sleep(0.02)
    one = guest.app("one", install=slow)
    guest.apply(guest.goal(2, [one, guest.app("two")]))
    assert first.wait(timeout=20) == 0
    assert guest.trace_lines() == ["one:start", "one:end", "two:install:1.0.0"]


def test_a_stale_lock_file_from_before_a_reboot_does_not_block(guest: Guest) -> None:
    guest.ext.mkdir(parents=True)
    (guest.ext / "vmapp-agent.lock").write_text("")
    (guest.ext / "vmapp-agent.lock.owner").write_text("pid 1, apply, boot boot-0\n")
    guest.apply(guest.goal(1, [guest.app("a")]), 0, "--lock-wait", "0")
    assert guest.trace_lines() == ["a:install:1.0.0"]


COLLIDING = {
    "packageFileName-stdout": ("go", {"packageFileName": "stdout"}, "stdout"),
    "app-named-stderr": ("stderr", {}, "stderr"),
    "app-named-stdout": ("stdout", {}, "stdout"),
    "configFileName-stderr": ("go", {"configFileName": "stderr", "config": b"the config\n"},
                              "stderr"),
}


@pytest.mark.parametrize(("name", "extra", "taken"), COLLIDING.values(), ids=COLLIDING.keys())
def test_a_package_or_config_named_stdout_or_stderr_is_never_overwritten_by_output(
        guest: Guest, name: str, extra: dict, taken: str) -> None:
    """The command's output goes to its own files under outputs/<seq>/; the app folder gets
    ``stdout``/``stderr`` copies afterwards, except the one the package or config is called."""
    content = extra.get("config", b"the package\n")
    seen = guest.tmp / "seen"
    install = f"cat {taken} > {seen}; echo out; echo err >&2"
    guest.apply(guest.goal(1, [guest.app(name, package=b"the package\n", install=install,
                                         **extra)]))
    assert guest.results(1) == {name: "Install SUCCESS"}
    assert seen.read_bytes() == content  # the command saw the file intact
    folder = guest.app_dir(name, "1.0.0")
    assert (folder / taken).read_bytes() == content  # and it is still intact
    [op] = guest.ops(1, name)
    assert (op["stdout"], op["stderr"]) == ("out\n", "err\n")
    free = "stderr" if taken == "stdout" else "stdout"
    assert op[f"app{taken.capitalize()}Path"] is None
    assert op[f"app{free.capitalize()}Path"] == str(folder / free)
    assert (folder / free).read_text() == op[free]

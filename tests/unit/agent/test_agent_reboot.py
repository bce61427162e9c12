"""Reboots and crashes mid-command: the journal, ``resume``, and scriptBehaviorAfterReboot.

A "reboot" is simulated for real: the command writes a new boot id into the agent's
--boot-id-file and then SIGKILLs the agent (its parent) and itself, exactly as a power cut would
leave things.  Then ``resume`` runs as it would at boot.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from agent_guest import Guest

from harness.agent import vmapp_agent


def rebooting(guest: Guest, name: str, new_boot: str | None = "boot-2") -> str:
    """A command that, the first time only, "reboots": new boot id, agent and itself killed."""
    marker = guest.tmp / f"{name}.rebooted"
    boot = f"echo {new_boot} > {guest.boot_file}; " if new_boot else ""
    return (f"{guest.mark(name + ':start')}; if [ ! -f {marker} ]; then touch {marker}; "
            f"{boot}kill -9 $PPID $$; fi; {guest.mark(name + ':done')}")


def three_apps(guest: Guest, behavior: str, new_boot: str | None = "boot-2") -> list[dict]:
    return [guest.app("a", order=1),
            guest.app("b", order=2, install=rebooting(guest, "b", new_boot),
                      scriptBehaviorAfterReboot=behavior),
            guest.app("c", order=3)]


def test_interrupted_command_with_none_is_not_rerun_and_recorded_as_completed(
        guest: Guest) -> None:
    done = guest.apply(guest.goal(1, three_apps(guest, "None")), expect_rc=None)
    assert done.returncode == -9  # the agent really was killed mid-command
    assert guest.trace_lines() == ["a:install:1.0.0", "b:start"]
    assert guest.status(1)["status"] == "transitioning"
    assert guest.results(1) == {"a": "Install SUCCESS", "b": "Install RUNNING",
                                "c": "Install PENDING"}

    resumed = guest.resume()
    assert guest.trace_lines() == ["a:install:1.0.0", "b:start", "c:install:1.0.0"]
    assert guest.results(1) == {"a": "Install SUCCESS", "b": "Install SUCCESS",
                                "c": "Install SUCCESS"}
    assert guest.status(1)["status"] == "success"
    assert json.loads(resumed.stdout)[0]["status"]["status"] == "success"
    [op] = guest.ops(1, "b")
    assert (op["interruptedByReboot"], op["endedInReboot"], op["rerun"], op["attempts"]) == (
        True, True, False, 1)
    assert (op["bootId"], op["finishedBootId"], op["exitCode"]) == ("boot-1", "boot-2", None)
    assert "not rerun because scriptBehaviorAfterReboot is None" in op["message"]
    assert guest.ops(1, "a")[0]["attempts"] == 1
    assert guest.registry()["b"]["state"] == "Installed"


def test_interrupted_command_with_rerun_runs_again_after_the_reboot(guest: Guest) -> None:
    guest.apply(guest.goal(1, three_apps(guest, "Rerun")), expect_rc=None)
    guest.resume()
    assert guest.trace_lines() == ["a:install:1.0.0", "b:start", "b:start", "b:done",
                                   "c:install:1.0.0"]
    assert guest.results(1)["b"] == "Install SUCCESS"
    [op] = guest.ops(1, "b")
    assert (op["interruptedByReboot"], op["endedInReboot"], op["rerun"], op["attempts"]) == (
        True, False, True, 2)
    assert (op["bootId"], op["exitCode"], op["stdout"]) == ("boot-2", 0, "")
    # Each attempt keeps its own output copy.
    assert op["stdoutPath"].endswith("b_1.0.0_install_2.stdout")
    assert Path(op["stdoutPath"].replace("_2.stdout", "_1.stdout")).exists()


def test_agent_killed_without_a_reboot_records_an_unknown_outcome_as_failure(
        guest: Guest) -> None:
    guest.apply(guest.goal(1, three_apps(guest, "Rerun", new_boot=None)), expect_rc=None)
    guest.resume()  # same boot id: the agent died, the VM did not reboot
    assert guest.trace_lines() == ["a:install:1.0.0", "b:start"]
    results = guest.results(1)
    assert results["b"].startswith("Install FAILED Error executing command")
    assert "the agent stopped while it ran (no reboot detected)" in results["b"]
    assert results["c"] == "Install SKIPPED: not attempted because 'b' (order 2) failed"


def die_at_launch(guest: Guest, goal: dict) -> None:
    """``apply`` with an agent that dies (SIGKILL) the moment it would start its first command:
    the journal already says "running", no process exists -- what a power cut there leaves."""
    script = ("import os, runpy, signal, subprocess, sys\n"
              "subprocess.Popen = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)\n"
              "sys.argv = sys.argv[1:]\n"
              "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    argv = guest.argv("apply", str(guest.write_goal(goal)))
    done = subprocess.run([argv[0], "-c", script, *argv[1:]], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert guest.results(1)["a"] == "Install RUNNING"


@pytest.mark.parametrize("behavior", ["None", "Rerun"])
@pytest.mark.parametrize("rebooted", [True, False], ids=["power-cut", "agent-killed"])
def test_command_journalled_but_never_started_runs_once_after_resume(
        guest: Guest, behavior: str, rebooted: bool) -> None:
    apps = [guest.app("a", order=1, scriptBehaviorAfterReboot=behavior), guest.app("b", order=2)]
    die_at_launch(guest, guest.goal(1, apps))
    assert guest.trace_lines() == []
    if rebooted:
        guest.reboot()
    guest.resume()
    assert guest.trace_lines() == ["a:install:1.0.0", "b:install:1.0.0"]
    assert guest.results(1) == {"a": "Install SUCCESS", "b": "Install SUCCESS"}
    [op] = guest.ops(1, "a")
    assert (op["attempts"], op["exitCode"], op["message"]) == (1, 0, "")
    assert (op["interruptedByReboot"], op["rerun"], op["endedInReboot"]) == (False, False, False)


def test_never_started_command_is_superseded_like_a_step_not_yet_begun(guest: Guest) -> None:
    die_at_launch(guest, guest.goal(1, [guest.app("a", order=1), guest.app("b", order=2)]))
    guest.apply(guest.goal(2, [guest.app("c")]))
    assert guest.trace_lines() == ["c:install:1.0.0"]
    assert guest.results(1) == {
        "a": "Install SKIPPED: superseded by goal state 2 before it started",
        "b": "Install SKIPPED: superseded by goal state 2 before it started"}
    assert guest.ops(1, "a")[0]["attempts"] == 0
    assert set(guest.registry()) == {"c"}


def test_started_marker_is_written_by_the_command_before_it_runs(guest: Guest) -> None:
    seen = guest.tmp / "seen"
    guest.apply(guest.goal(1, [guest.app("a", install=f"ls {guest.ext}/outputs/1 > {seen}")]))
    assert seen.read_text().split() == ["a_1.0.0_install_1.started",
                                        "a_1.0.0_install_1.stderr", "a_1.0.0_install_1.stdout"]


def test_a_command_whose_started_marker_cannot_be_written_does_not_run(tmp_path: Path) -> None:
    """Run unmarked, a power cut would make it "never started" and get it run a second time."""
    ran, marker = tmp_path / "ran", tmp_path / "no-such-folder" / "started"
    executor = vmapp_agent.ShExecutor()
    result = executor.run(f"touch {ran}", tmp_path, tmp_path / "out", tmp_path / "err", 10, marker)
    assert not ran.exists()
    assert result.error == f"could not write its started marker {marker}"
    assert "no-such-folder" in (tmp_path / "err").read_text()  # the shell's own reason
    own_125 = executor.run("exit 125", tmp_path, tmp_path / "out", tmp_path / "err", 10,
                           tmp_path / "started")
    assert (own_125.exit_code, own_125.error) == (125, "")


def test_resume_with_nothing_pending_does_nothing(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("a")]))
    before = (guest.ext / "status" / "1.status").read_text()
    guest.reboot()
    resumed = guest.resume()
    assert resumed.stdout == ""
    assert guest.trace_lines() == ["a:install:1.0.0"]
    assert (guest.ext / "status" / "1.status").read_text() == before


def test_resume_on_a_fresh_machine_does_nothing(guest: Guest) -> None:
    assert guest.resume().stdout == ""
    assert not (guest.ext / "status").exists()


def test_new_goal_state_settles_the_interrupted_step_and_supersedes_the_rest(
        guest: Guest) -> None:
    a = guest.app("a", order=1, install=rebooting(guest, "a"))
    guest.apply(guest.goal(1, [a, guest.app("b", order=2)]), expect_rc=None)
    guest.apply(guest.goal(2, [a, guest.app("c")]))
    assert guest.trace_lines() == ["a:start", "c:install:1.0.0"]
    assert guest.results(1) == {
        "a": "Install SUCCESS",
        "b": "Install SKIPPED: superseded by goal state 2 before it started"}
    details = guest.details(1)
    assert (details["status"], details["supersededBy"]) == ("success", 2)
    assert guest.results(2) == {"a": "Install SUCCESS", "c": "Install SUCCESS"}
    assert guest.ops(2, "a")[0]["result"] == "UNCHANGED"
    assert set(guest.registry()) == {"a", "c"}


def test_reboot_during_the_remove_half_of_an_update_reruns_it_then_installs(
        guest: Guest) -> None:
    v1 = guest.app("go", "1.0.0", remove=rebooting(guest, "go-remove"),
                   scriptBehaviorAfterReboot="Rerun")
    guest.apply(guest.goal(1, [v1]))
    v2 = guest.app("go", "2.0.0", scriptBehaviorAfterReboot="Rerun")
    guest.apply(guest.goal(2, [v2]), expect_rc=None)
    assert guest.results(2) == {"go": "Update RUNNING"}
    guest.resume()
    assert guest.trace_lines() == ["go:install:1.0.0", "go-remove:start", "go-remove:start",
                                   "go-remove:done", "go:install:2.0.0"]
    assert guest.results(2) == {"go": "Update SUCCESS"}
    assert [p.name for p in guest.app_dir("go").iterdir()] == ["2.0.0"]


def test_applying_the_same_sequence_number_again_is_idempotent(guest: Guest) -> None:
    goal = guest.goal(1, [guest.app("a")])
    guest.apply(goal)
    again = guest.apply(goal)
    assert guest.trace_lines() == ["a:install:1.0.0"]
    assert json.loads(again.stdout)[0]["status"]["status"] == "success"


def test_resume_hook_is_only_installed_on_a_real_root(tmp_path: Path) -> None:
    layout = vmapp_agent.Layout("linux", str(tmp_path))
    vmapp_agent.ensure_resume_at_boot(layout, vmapp_agent.Log(tmp_path / "log"))
    assert list(tmp_path.iterdir()) == []
    unit = vmapp_agent.resume_unit_text("/usr/bin/python3", Path("/opt/a/vmapp_agent.py"))
    assert "ExecStart=/usr/bin/python3 /opt/a/vmapp_agent.py --os linux resume\n" in unit
    assert "KillMode=process\n" in unit
    assert "WantedBy=multi-user.target\n" in unit


def _wait_for(path: Path) -> int:
    deadline = time.monotonic() + 20
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)
    return int(path.read_text())


def test_shutdown_killing_agent_and_command_leaves_the_command_for_resume(
        guest: Guest) -> None:
    pidfile = guest.tmp / "pid"
    gate = guest.tmp / "gate"
    install = (f"{guest.mark('a:start')}; echo $$ > {pidfile}; "
               f"while [ ! -f {gate} ]; do sleep 0.05; done; {guest.mark('a:done')}")
    apps = [guest.app("a", order=1, install=install, scriptBehaviorAfterReboot="Rerun"),
            guest.app("b", order=2)]
    agent = guest.start_apply(guest.goal(1, apps))
    group = _wait_for(pidfile)
    os.kill(agent.pid, signal.SIGTERM)  # systemd stops everything at once
    os.killpg(group, signal.SIGTERM)
    _, stderr = agent.communicate(timeout=20)
    assert agent.returncode == 3 and "interrupted" in stderr
    assert guest.results(1) == {"a": "Install RUNNING", "b": "Install PENDING"}
    gate.touch()
    pidfile.unlink()
    guest.reboot()
    guest.resume()
    assert guest.trace_lines() == ["a:start", "a:start", "a:done", "b:install:1.0.0"]
    [op] = guest.ops(1, "a")
    assert (op["interruptedByReboot"], op["rerun"], op["attempts"]) == (True, True, 2)


def test_sigterm_lets_the_running_command_finish_but_starts_nothing_more(
        guest: Guest) -> None:
    pidfile = guest.tmp / "pid"
    gate = guest.tmp / "gate"
    install = f"echo $$ > {pidfile}; while [ ! -f {gate} ]; do sleep 0.05; done; echo ok"
    apps = [guest.app("a", order=1, install=install), guest.app("b", order=2)]
    agent = guest.start_apply(guest.goal(1, apps))
    _wait_for(pidfile)
    os.kill(agent.pid, signal.SIGTERM)
    time.sleep(0.2)
    gate.touch()  # the command ends on its own, with exit status 0
    agent.communicate(timeout=20)
    assert agent.returncode == 3
    assert guest.results(1) == {"a": "Install SUCCESS", "b": "Install PENDING"}
    assert guest.trace_lines() == []
    guest.resume()  # same boot: nothing was running, so nothing is settled as failed
    assert guest.results(1) == {"a": "Install SUCCESS", "b": "Install SUCCESS"}
    assert guest.ops(1, "a")[0]["attempts"] == 1


def test_sigterm_does_not_hold_up_a_shutdown_behind_a_long_command(guest: Guest) -> None:
    """A command that outlives the grace period (e.g. `systemctl reboot && sleep 300`) must not
    keep the agent alive until systemd's stop timeout: it stops waiting, journalled as running."""
    pidfile = guest.tmp / "pid"
    install = f"echo $$ > {pidfile}; sleep 120"
    apps = [guest.app("a", order=1, install=install), guest.app("b", order=2)]
    agent = guest.start_apply(guest.goal(1, apps))
    group = _wait_for(pidfile)
    started = time.monotonic()
    os.kill(agent.pid, signal.SIGTERM)
    try:
        _, stderr = agent.communicate(timeout=30)
        waited = time.monotonic() - started
    finally:
        os.killpg(group, signal.SIGKILL)
    assert agent.returncode == 3 and "interrupted" in stderr
    assert 9 < waited < 20, f"agent exited {waited:.1f}s after SIGTERM"
    assert guest.results(1) == {"a": "Install RUNNING", "b": "Install PENDING"}
    guest.reboot()
    guest.resume()
    assert guest.results(1) == {"a": "Install SUCCESS", "b": "Install SUCCESS"}
    [op] = guest.ops(1, "a")
    assert (op["interruptedByReboot"], op["rerun"], op["endedInReboot"]) == (True, False, True)

"""The agent on the oldest guest's Python, Debian 11's 3.9, without a VM.

The interpreter is bullseye's own python3.9, unpacked from the packages the debian-11 image build
left in the debootstrap cache (the same binary and standard library the guest runs).  These tests
drive the agent's main paths with it: argument parsing, HTTP downloads, ordering, updates and
removals, timeouts (process groups, signals), a reboot and ``resume``, and every status file.
``VMAPP_AGENT_PYTHON=<launcher> pytest tests/unit/agent`` runs the whole agent suite on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from agent_guest import BULLSEYE_PYTHON_DEBS, BlobServer, Guest, debian_python

from harness.settings import cache_dir


@pytest.fixture(scope="module")
def python39(tmp_path_factory: pytest.TempPathFactory) -> str:
    debs = cache_dir() / "debootstrap" / "bullseye"
    launcher = debian_python(debs, BULLSEYE_PYTHON_DEBS, tmp_path_factory.mktemp("bullseye"))
    if launcher is None:
        pytest.skip(f"no Debian 11 Python packages in {debs}: `vmapp images build debian-11`")
    return str(launcher)


@pytest.fixture
def guest(tmp_path: Path, blob_server: BlobServer, python39: str) -> Guest:
    return Guest(tmp_path, blob_server, python=python39)


def test_the_agent_reports_the_python_it_runs_on(guest: Guest) -> None:
    caps = guest.run("capabilities")
    assert caps.returncode == 0, caps.stderr
    assert json.loads(caps.stdout)["python"].startswith("3.9.")


def test_install_in_order_update_and_remove(guest: Guest) -> None:
    seen = guest.tmp / "seen"
    first = guest.app("first", order=1, install=f"cat first first_config > {seen}",
                      package=b"PKG\n", config=b"CFG\n")
    guest.apply(guest.goal(1, [guest.app("second", order=2), first]))
    assert seen.read_text() == "PKG\nCFG\n"
    assert guest.results(1) == {"first": "Install SUCCESS", "second": "Install SUCCESS"}
    update = guest.mark("second:update:2.0.0")
    guest.apply(guest.goal(2, [first, guest.app("second", "2.0.0", order=2, update=update)]))
    guest.apply(guest.goal(3, [first]))
    assert guest.trace_lines() == ["second:install:1.0.0", "second:update:2.0.0",
                                   "second:remove:2.0.0"]
    assert [(op["operation"], op["result"]) for op in guest.ops(3, "second")] == [
        ("remove", "SUCCESS")]
    assert list(guest.registry()) == ["first"]
    assert not guest.app_dir("second").exists()


def test_a_failure_blocks_higher_orders_and_can_fail_the_deployment(guest: Guest) -> None:
    apps = [guest.app("a", order=1, install="echo boom >&2; exit 42"),
            guest.app("b", order=2, treatFailureAsDeploymentFailure=True)]
    guest.apply(guest.goal(1, apps))
    assert guest.status(1)["status"] == "error"
    [op] = guest.ops(1, "a")
    assert (op["exitCode"], op["result"], op["stderr"]) == (42, "FAILED", "boom\n")
    assert guest.trace_lines() == []


def test_a_command_timeout_kills_it_and_the_next_app_runs(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("slow", install="sleep 30"), guest.app("next")],
                           commandTimeoutSeconds=1))
    [op] = guest.ops(1, "slow")
    assert (op["timedOut"], op["exitCode"]) == (True, -9)
    assert guest.results(1)["next"] == "Install SUCCESS"


def test_a_reboot_mid_command_is_resumed(guest: Guest) -> None:
    marker = guest.tmp / "rebooted"
    reboot = (f"{guest.mark('b:start')}; if [ ! -f {marker} ]; then touch {marker}; "
              f"echo boot-2 > {guest.boot_file}; kill -9 $PPID $$; fi")
    apps = [guest.app("a", order=1),
            guest.app("b", order=2, install=reboot, scriptBehaviorAfterReboot="Rerun"),
            guest.app("c", order=3)]
    assert guest.apply(guest.goal(1, apps), expect_rc=None).returncode == -9
    guest.resume()
    assert guest.trace_lines() == ["a:install:1.0.0", "b:start", "b:start", "c:install:1.0.0"]
    assert guest.status(1)["status"] == "success"
    assert json.loads(guest.run("status").stdout)[0]["status"]["status"] == "success"


def test_a_malformed_goal_state_is_one_line_and_exit_2(guest: Guest) -> None:
    invalid = guest.goal(1, [guest.app("go")])
    del invalid["applications"][0]["remove"]
    done = guest.apply(invalid, expect_rc=2)
    assert done.stderr == ("vmapp_agent: error: invalid goal state: "
                           "applications[0].remove: required\n")

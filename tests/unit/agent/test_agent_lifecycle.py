"""Install, update, remove, the retry rule, file naming, downloads, timeouts, deployment failure."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from agent_guest import LINUX_EXT, Guest

# -- install: folder, file naming, interpreter ------------------------------------------------


def test_install_downloads_package_and_config_and_runs_in_the_version_folder(
        guest: Guest) -> None:
    seen = guest.tmp / "seen"
    install = f"pwd > {seen}; cat go >> {seen}; cat go_config >> {seen}; echo out; echo err >&2"
    app = guest.app("go", install=install, package=b"PKG\n", config=b"CFG\n")
    guest.apply(guest.goal(1, [app]))
    folder = guest.app_dir("go", "1.0.0")
    assert seen.read_text() == f"{folder}\nPKG\nCFG\n"
    assert sorted(p.name for p in folder.iterdir()) == ["go", "go_config", "stderr", "stdout"]
    assert (folder / "stdout").read_text() == "out\n"
    assert (folder / "stderr").read_text() == "err\n"
    assert guest.results(1) == {"go": "Install SUCCESS"}
    assert guest.registry()["go"]["state"] == "Installed"


def test_hyphen_config_naming_option(guest: Guest) -> None:
    app = guest.app("go", install="test -f go-config", config=b"x")
    guest.apply(guest.goal(1, [app], configNaming="hyphen"))
    assert guest.results(1) == {"go": "Install SUCCESS"}
    assert (guest.app_dir("go", "1.0.0") / "go-config").read_bytes() == b"x"
    assert not (guest.app_dir("go", "1.0.0") / "go_config").exists()


def test_package_and_config_file_names_override_the_defaults(guest: Guest) -> None:
    app = guest.app("go", install="test -f setup.tar && test -f settings.ini", config=b"c",
                    packageFileName="setup.tar", configFileName="settings.ini")
    guest.apply(guest.goal(1, [app], configNaming="hyphen"))
    assert guest.results(1) == {"go": "Install SUCCESS"}
    names = sorted(p.name for p in guest.app_dir("go", "1.0.0").iterdir())
    assert names == ["settings.ini", "setup.tar", "stderr", "stdout"]


def test_interpreter_defaults_to_sh_and_can_be_bash(guest: Guest) -> None:
    probe = 'echo "bash=${BASH_VERSION:-none}"'
    a, b = guest.app("a", install=probe), guest.app("b", install=probe)
    guest.apply(guest.goal(1, [a]))
    guest.apply(guest.goal(2, [a, b], interpreter="/bin/bash"))
    assert (guest.app_dir("a", "1.0.0") / "stdout").read_text() == "bash=none\n"
    assert (guest.app_dir("b", "1.0.0") / "stdout").read_text().startswith("bash=5")


def test_exit_status_is_reported_like_the_real_extension(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("a", install="echo boom >&2; exit 42")]))
    assert guest.results(1) == {"a": "Install FAILED Error executing command "
                                     "'echo boom >&2; exit 42': command terminated with exit "
                                     "status=42"}
    op = guest.ops(1, "a")[0]
    assert (op["exitCode"], op["result"], op["stderr"]) == (42, "FAILED", "boom\n")
    assert guest.registry()["a"]["state"] == "Failed"


# -- updates ----------------------------------------------------------------------------------


def test_update_command_runs_in_the_new_folder_and_the_old_folder_goes(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("go", "1.0.0")]))
    update = f"{guest.mark('go:update:2.0.0')}; pwd >> {guest.trace}; cat go >> {guest.trace}"
    guest.apply(guest.goal(2, [guest.app("go", "2.0.0", update=update, package=b"v2")]))
    assert guest.trace_lines() == ["go:install:1.0.0", "go:update:2.0.0",
                                   str(guest.app_dir("go", "2.0.0")), "v2"]
    assert guest.results(2) == {"go": "Update SUCCESS"}
    assert [p.name for p in guest.app_dir("go").iterdir()] == ["2.0.0"]
    entry = guest.registry()["go"]
    assert (entry["version"], entry["state"], entry["update"]) == ("2.0.0", "Installed", update)
    [op] = guest.ops(2, "go")
    assert (op["action"], op["operation"], op["fromVersion"]) == ("update", "update", "1.0.0")


def test_update_without_update_command_removes_old_then_installs_new(guest: Guest) -> None:
    remove_v1 = f"{guest.mark('go:remove:1.0.0')}; pwd >> {guest.trace}"
    guest.apply(guest.goal(1, [guest.app("go", "1.0.0", remove=remove_v1)]))
    guest.apply(guest.goal(2, [guest.app("go", "2.0.0")]))
    assert guest.trace_lines() == ["go:install:1.0.0", "go:remove:1.0.0",
                                   str(guest.app_dir("go", "1.0.0")), "go:install:2.0.0"]
    assert guest.results(2) == {"go": "Update SUCCESS"}
    assert [p.name for p in guest.app_dir("go").iterdir()] == ["2.0.0"]
    ops = guest.ops(2, "go")
    assert [(o["operation"], o["version"], o["result"]) for o in ops] == [
        ("remove", "1.0.0", "SUCCESS"), ("install", "2.0.0", "SUCCESS")]
    # The remove's output survives its folder's deletion, in the per-operation copy.
    assert Path(ops[0]["stdoutPath"]).exists()


def test_new_package_is_downloaded_before_the_old_version_is_removed(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("go", "1.0.0")]))
    broken = guest.app("go", "2.0.0", packageUrl=guest.server.url("status/404/go2"))
    guest.apply(guest.goal(2, [broken]))
    assert guest.trace_lines() == ["go:install:1.0.0"]  # old version untouched
    assert guest.results(2)["go"].startswith("Update FAILED Error downloading package from")
    assert guest.results(2)["go"].endswith("HTTP 404 Not Found")
    assert guest.app_dir("go", "1.0.0").is_dir()
    entry = guest.registry()["go"]
    assert (entry["version"], entry["state"], entry["previous"]["version"]) == (
        "2.0.0", "Failed", "1.0.0")
    # Dropping the app now removes what is really installed: version 1.0.0.
    guest.apply(guest.goal(3, []))
    assert guest.trace_lines() == ["go:install:1.0.0", "go:remove:1.0.0"]
    assert not guest.app_dir("go").exists()


def test_failed_update_is_not_rerun_and_going_back_restores_the_old_version(
        guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("go", "1.0.0")]))
    v2 = guest.app("go", "2.0.0", update=f"{guest.mark('go:update:2.0.0')}; exit 1")
    guest.apply(guest.goal(2, [v2]))
    guest.apply(guest.goal(3, [v2]))
    assert guest.trace_lines() == ["go:install:1.0.0", "go:update:2.0.0"]
    assert guest.results(3)["go"].startswith("Update FAILED Error executing command")
    assert guest.message(3)["ActionsPerformed"] == []
    guest.apply(guest.goal(4, [guest.app("go", "1.0.0")]))
    assert guest.trace_lines() == ["go:install:1.0.0", "go:update:2.0.0"]
    assert guest.results(4) == {"go": "Install SUCCESS"}
    assert guest.registry()["go"]["state"] == "Installed"


# -- removal and the retry rule ---------------------------------------------------------------


def test_removed_app_runs_its_remove_command_then_its_files_are_deleted(guest: Guest) -> None:
    remove = f"{guest.mark('go:remove:1.0.0')}; pwd >> {guest.trace}; ls >> {guest.trace}"
    guest.apply(guest.goal(1, [guest.app("go", remove=remove), guest.app("keep")]))
    guest.apply(guest.goal(2, [guest.app("keep")]))
    assert guest.trace_lines() == ["go:install:1.0.0", "keep:install:1.0.0", "go:remove:1.0.0",
                                   str(guest.app_dir("go", "1.0.0")), "go", "stderr", "stdout"]
    assert not guest.app_dir("go").exists()
    assert set(guest.registry()) == {"keep"}
    message = guest.message(2)
    assert message["CurrentState"] == [
        {"applicationName": "keep", "version": "1.0.0", "result": "Install SUCCESS"}]
    assert message["ActionsPerformed"] == [
        {"applicationName": "go", "version": "1.0.0", "result": "Remove SUCCESS"}]


def test_failed_remove_keeps_files_and_is_reported_but_not_rerun(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("go", remove=f"{guest.mark('go:remove')}; exit 5")]))
    guest.apply(guest.goal(2, []))
    guest.apply(guest.goal(3, []))
    assert guest.trace_lines() == ["go:install:1.0.0", "go:remove"]
    for seq in (2, 3):
        assert guest.results(seq)["go"].startswith("Remove FAILED Error executing command")
        assert guest.results(seq)["go"].endswith("exit status=5")
    assert guest.app_dir("go", "1.0.0").is_dir()
    assert guest.registry()["go"]["state"] == "RemoveFailed"


def test_failed_install_is_retried_only_after_removal_and_re_adding(guest: Guest) -> None:
    fixed = guest.tmp / "fixed"
    app = guest.app("go", install=f"{guest.mark('go:install')}; test -f {fixed}")
    guest.apply(guest.goal(1, [app]))
    fixed.touch()
    guest.apply(guest.goal(2, [app]))  # same app, same version: not rerun
    assert guest.trace_lines() == ["go:install"]
    assert guest.results(2)["go"].startswith("Install FAILED")
    guest.apply(guest.goal(3, []))  # removed from the profile
    assert guest.trace_lines() == ["go:install"]  # a failed install's remove is not run
    assert not guest.app_dir("go").exists()
    assert guest.registry() == {}
    guest.apply(guest.goal(4, [app]))  # added back: retried
    assert guest.trace_lines() == ["go:install", "go:install"]
    assert guest.results(4) == {"go": "Install SUCCESS"}


def test_installed_app_in_a_repeated_goal_state_is_left_alone(guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("go")]))
    guest.apply(guest.goal(2, [guest.app("go")]))
    assert guest.trace_lines() == ["go:install:1.0.0"]
    assert guest.message(2) == {"CurrentState": [
        {"applicationName": "go", "version": "1.0.0", "result": "Install SUCCESS"}],
        "ActionsPerformed": []}
    assert guest.ops(2, "go")[0]["result"] == "UNCHANGED"


# -- treat failure as deployment failure ------------------------------------------------------


def test_app_failure_is_success_unless_treat_failure_as_deployment_failure(
        guest: Guest) -> None:
    guest.apply(guest.goal(1, [guest.app("a", install="exit 1")]))
    status = guest.status(1)
    assert (status["status"], status["code"]) == ("success", 0)
    assert status["formattedMessage"]["message"].startswith("Enable succeeded: {")
    guest.apply(guest.goal(2, [guest.app("b", install="exit 1",
                                         treatFailureAsDeploymentFailure=True)]))
    status = guest.status(2)
    assert (status["status"], status["code"]) == ("error", 1)
    assert status["formattedMessage"]["message"].startswith("Enable failed: {")


def test_blocked_app_with_treat_failure_fails_the_deployment(guest: Guest) -> None:
    apps = [guest.app("a", order=1, install="exit 1"),
            guest.app("b", order=2, treatFailureAsDeploymentFailure=True)]
    guest.apply(guest.goal(1, apps))
    assert guest.status(1)["status"] == "error"


def test_succeeding_app_with_treat_failure_keeps_success(guest: Guest) -> None:
    apps = [guest.app("a", install="exit 1"), guest.app("b", treatFailureAsDeploymentFailure=True)]
    guest.apply(guest.goal(1, apps))
    assert guest.status(1)["status"] == "success"


# -- timeouts and downloads -------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_command_timeout_kills_the_process_group_and_fails(guest: Guest) -> None:
    pidfile = guest.tmp / "bgpid"
    install = f"sleep 30 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    guest.apply(guest.goal(1, [guest.app("slow", install=install), guest.app("next")],
                           commandTimeoutSeconds=1))
    assert time.monotonic() - started < 10
    assert guest.results(1)["slow"] == (f"Install FAILED Error executing command '{install}': "
                                        "command timed out after 1 seconds and was killed")
    assert guest.results(1)["next"] == "Install SUCCESS"
    op = guest.ops(1, "slow")[0]
    assert (op["timedOut"], op["exitCode"]) == (True, -9)
    time.sleep(0.2)
    assert not _alive(int(pidfile.read_text()))


def test_http_403_and_404_fail_the_app_with_the_status_and_no_secret(guest: Guest) -> None:
    apps = [guest.app("forbidden", packageUrl=guest.server.url("status/403/x")),
            guest.app("missing", packageUrl=guest.server.url("nothing/here"))]
    guest.apply(guest.goal(1, apps))
    port = guest.server.port
    results = guest.results(1)
    assert results["forbidden"] == (
        "Install FAILED Error downloading package from 'http://127.0.0.1:"
        f"{port}/status/403/x?sv=2021-08-06&sr=b&sig=REDACTED': HTTP 403 Forbidden")
    assert results["missing"].endswith("/nothing/here?sv=2021-08-06&sr=b&sig=REDACTED': "
                                       "HTTP 404 Not Found")
    assert guest.trace_lines() == []
    status_text = (guest.ext / "status" / "1.status").read_text()
    assert "TOPSECRET" not in status_text
    assert "TOPSECRET" not in (guest.ext / "status" / "1.details.json").read_text()
    assert guest.ops(1, "forbidden")[0]["downloads"][0]["error"] == "HTTP 403 Forbidden"


def test_connection_refused_fails_the_app(guest: Guest) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = guest.app("go", packageUrl=f"http://127.0.0.1:{port}/go")
    started = time.monotonic()
    guest.apply(guest.goal(1, [app], downloadRetrySeconds=2))
    assert 1.0 < time.monotonic() - started < 30, "refused connections are retried for a while"
    result = guest.results(1)["go"]
    assert result.startswith(f"Install FAILED Error downloading package from 'http://127.0.0.1:"
                             f"{port}/go': connection failed:")
    assert "Connection refused" in result


def test_download_waits_for_storage_that_comes_up_late(guest: Guest) -> None:
    """After a reboot the agent resumes before the host reopens the storage route."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    payload = b"late package"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    servers: list[http.server.HTTPServer] = []

    def start_late() -> None:
        time.sleep(2.0)  # connections are refused until then: nothing listens on the port
        servers.append(http.server.HTTPServer(("127.0.0.1", port), Handler))
        servers[0].serve_forever()

    starter = threading.Thread(target=start_late, daemon=True)
    starter.start()
    try:
        app = guest.app("late", install="true", packageUrl=f"http://127.0.0.1:{port}/late")
        guest.apply(guest.goal(1, [app], downloadRetrySeconds=30))
    finally:
        while not servers and starter.is_alive():
            time.sleep(0.1)
        servers[0].shutdown()
        servers[0].server_close()
    assert guest.results(1)["late"] == "Install SUCCESS"
    assert (guest.app_dir("late", "1.0.0") / "late").read_bytes() == payload
    retries = guest.ops(1, "late")[0]["downloads"][0]["retries"]
    assert retries >= 1, "the refused attempts are counted in the details file"
    log = (guest.root / "var/log/azure" / LINUX_EXT / "vmapp-agent.log").read_text()
    assert f"late: package download attempt {retries} failed (connection failed: " in log
    assert log.count("late: package download attempt") == retries


def test_config_download_failure_names_the_config(guest: Guest) -> None:
    app = guest.app("go", configUrl=guest.server.url("status/404/cfg"))
    guest.apply(guest.goal(1, [app]))
    assert "Install FAILED Error downloading config from" in guest.results(1)["go"]
    assert guest.trace_lines() == []


def test_download_streams_the_exact_bytes(guest: Guest) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    guest.apply(guest.goal(1, [guest.app("big", install="true", package=payload)]))
    assert (guest.app_dir("big", "1.0.0") / "big").read_bytes() == payload
    assert guest.ops(1, "big")[0]["downloads"][0]["bytes"] == len(payload)
    assert json.loads((guest.ext / "mrseq").read_text()) == 1

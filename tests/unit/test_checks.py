"""harness.checks.run_check against this very host, with testinfra's real ``local://`` backend.

Every check kind a scenario can use (file -- which also covers directories --, command, package,
service, user) gets a case that passes and one that fails, and the failing one must say what
was wanted and what was found.  The expected values come from the host by other means (os.stat,
pwd, /var/lib/dpkg/status, unit files), never from testinfra itself.  ``host_for`` (the
harness's own backend) is exercised over a Channel that really runs /bin/sh here.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from pathlib import Path

import pytest
import testinfra
import testinfra.host

from harness.checks import CheckResult, host_for, run_check
from harness.ports import Exec
from harness.scenario.model import Check

MISSING_USER = "vmapp-no-such-user"
MISSING_SERVICE = "vmapp-no-such-service"
MISSING_PACKAGE = "vmapp-no-such-package"


@pytest.fixture(scope="module")
def host() -> testinfra.host.Host:
    return testinfra.get_host("local://")


def check(host: testinfra.host.Host, kind: str, target: str, **wanted: object
          ) -> list[CheckResult]:
    return run_check(host, Check(kind=kind, target=target, wanted=dict(wanted)))


def summary(results: list[CheckResult]) -> list[tuple[bool, str, str, str]]:
    return [(r.passed, r.title, r.expected, r.actual) for r in results]


# -- file (and directory) ----------------------------------------------------------------------


def test_directory_that_exists_passes(host: testinfra.host.Host) -> None:
    assert Path("/etc").is_dir()
    assert summary(check(host, "file", "/etc", is_directory=True)) == [
        (True, "file /etc", "exists = True", "exists = True"),
        (True, "file /etc", "is_directory = True", "is_directory = True")]


def test_missing_directory_fails_and_asserts_nothing_more(host: testinfra.host.Host) -> None:
    assert not os.path.lexists("/nonexistent")
    assert summary(check(host, "file", "/nonexistent", is_directory=True, mode="0755")) == [
        (False, "file /nonexistent", "exists = True", "exists = False")]


def test_absent_file_wanted_absent_passes_and_present_one_fails(host: testinfra.host.Host,
                                                                tmp_path: Path) -> None:
    assert summary(check(host, "file", "/nonexistent", exists=False)) == [
        (True, "file /nonexistent", "exists = False", "exists = False")]
    [result] = check(host, "file", str(tmp_path), exists=False)
    assert (result.passed, result.actual) == (False, "exists = True")


def test_regular_file_is_not_a_directory(host: testinfra.host.Host, tmp_path: Path) -> None:
    path = tmp_path / "plain"
    path.write_text("x")
    results = check(host, "file", str(path), is_directory=True)
    assert summary(results)[1] == (False, f"file {path}", "is_directory = True",
                                   "is_directory = False")


def test_file_mode_owner_and_contents(host: testinfra.host.Host, tmp_path: Path) -> None:
    path = tmp_path / "motd.txt"
    path.write_text("unzipped by zipapp\n")
    path.chmod(0o640)
    owner = pwd.getpwuid(path.stat().st_uid).pw_name
    for mode in ("0640", "0o640", 0o640):
        assert all(r.passed for r in check(host, "file", str(path), mode=mode)), mode
    passing = check(host, "file", str(path), mode="0640", owner=owner, contains="unzipped by")
    assert [r.passed for r in passing] == [True, True, True, True]

    failing = check(host, "file", str(path), mode="0755", owner=MISSING_USER,
                    contains="installed by")
    assert summary(failing)[1:] == [
        (False, f"file {path}", "mode = '0o755'", "mode = '0o640'"),
        (False, f"file {path}", f"owner = {MISSING_USER!r}", f"owner = {owner!r}"),
        (False, f"file {path}", "content contains 'installed by'",
         "content = 'unzipped by zipapp\\n'")]


# -- command -----------------------------------------------------------------------------------


def test_command_exit_code_and_output(host: testinfra.host.Host) -> None:
    target = "echo installed; echo warning >&2; exit 3"
    passing = check(host, "command", target, exit_code=3, stdout_contains="installed",
                    stderr_contains="warning")
    assert [r.passed for r in passing] == [True, True, True]
    failing = check(host, "command", target, stdout_contains="warning",
                    stderr_contains="installed")
    assert summary(failing) == [
        (False, f"command {target}", "exit_code = 0", "exit_code = 3"),
        (False, f"command {target}", "stdout contains 'warning'",
         "stdout = 'installed\\n'"),
        (False, f"command {target}", "stderr contains 'installed'",
         "stderr = 'warning\\n'")]


def test_command_default_is_exit_code_zero(host: testinfra.host.Host) -> None:
    assert summary(check(host, "command", "true")) == [
        (True, "command true", "exit_code = 0", "exit_code = 0")]
    assert summary(check(host, "command", "false")) == [
        (False, "command false", "exit_code = 0", "exit_code = 1")]


# -- package -----------------------------------------------------------------------------------


def dpkg_version(name: str) -> str | None:
    """The installed version of ``name`` read straight from dpkg's database (not via testinfra)."""
    status = Path("/var/lib/dpkg/status")
    if not status.is_file():
        return None
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines()
                      if ": " in line and not line.startswith(" "))
        if fields.get("Package") == name and fields.get("Status") == "install ok installed":
            return fields.get("Version")
    return None


def test_package_installed_and_version(host: testinfra.host.Host) -> None:
    version = dpkg_version("dpkg")
    if version is None:
        pytest.skip("not a dpkg host")
    upstream = version.split("-")[0]
    assert summary(check(host, "package", "dpkg", version=upstream)) == [
        (True, "package dpkg", "installed = True", "installed = True"),
        (True, "package dpkg", f"version contains {upstream!r}", f"version = {version!r}")]
    [_, wrong] = check(host, "package", "dpkg", version="0.0.0-vmapp")
    assert (wrong.passed, wrong.expected, wrong.actual) == (
        False, "version contains '0.0.0-vmapp'", f"version = {version!r}")


def test_missing_package_fails_without_asking_its_version(host: testinfra.host.Host) -> None:
    if dpkg_version("dpkg") is None:
        pytest.skip("not a dpkg host")
    assert dpkg_version(MISSING_PACKAGE) is None
    assert summary(check(host, "package", MISSING_PACKAGE, version="1.0")) == [
        (False, f"package {MISSING_PACKAGE}", "installed = True", "installed = False")]
    assert summary(check(host, "package", MISSING_PACKAGE, installed=False))[0][0] is True


# -- service -----------------------------------------------------------------------------------
# No service runs under an init system here (PID 1 is not systemd), so no honest "running: true"
# passes on this host; the running property is checked by a service that cannot run anywhere.


def test_service_not_running_passes_and_running_fails(host: testinfra.host.Host) -> None:
    assert summary(check(host, "service", MISSING_SERVICE, running=False)) == [
        (True, f"service {MISSING_SERVICE}", "running = False", "running = False")]
    assert summary(check(host, "service", MISSING_SERVICE, running=True)) == [
        (False, f"service {MISSING_SERVICE}", "running = True", "running = False")]


def test_service_enabled(host: testinfra.host.Host) -> None:
    unit = "systemd-journald"
    if shutil.which("systemctl") is None or not any(
            Path(d, f"{unit}.service").exists() for d in ("/lib/systemd/system",
                                                          "/usr/lib/systemd/system")):
        pytest.skip("no systemd unit files on this host")
    # static units count as enabled: systemctl is-enabled reads unit files, no running systemd
    assert summary(check(host, "service", unit, enabled=True)) == [
        (True, f"service {unit}", "enabled = True", "enabled = True")]
    assert summary(check(host, "service", MISSING_SERVICE, enabled=True)) == [
        (False, f"service {MISSING_SERVICE}", "enabled = True", "enabled = False")]
    assert check(host, "service", MISSING_SERVICE, enabled=False)[0].passed


def test_missing_unit_with_suffix_is_a_failed_check_not_an_exception(
        host: testinfra.host.Host) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("testinfra only takes this path with systemctl")
    [result] = check(host, "service", f"{MISSING_SERVICE}.service", enabled=True)
    assert not result.passed and "enabled = True" in result.expected


def test_a_unit_named_like_the_start_of_another_is_not_taken_for_it(
        host: testinfra.host.Host) -> None:
    """"systemd-journal" is not a unit, though systemd-journald.service starts with it."""
    if shutil.which("systemctl") is None or host.run(
            "systemctl list-unit-files --no-legend systemd-journald.service").rc != 0:
        pytest.skip("no systemd unit files on this host")
    assert host.service("systemd-journal").exists  # testinfra's own answer: a prefix match
    assert summary(check(host, "service", "systemd-journal", running=False, enabled=False)) == [
        (True, "service systemd-journal", "running = False", "running = False"),
        (True, "service systemd-journal", "enabled = False", "enabled = False")]


# -- user --------------------------------------------------------------------------------------


def test_user_that_exists_passes(host: testinfra.host.Host) -> None:
    assert pwd.getpwnam("root").pw_uid == 0
    assert summary(check(host, "user", "root")) == [
        (True, "user root", "exists = True", "exists = True")]
    assert summary(check(host, "user", "root", exists=False)) == [
        (False, "user root", "exists = False", "exists = True")]


def test_missing_user_fails_with_a_clear_message(host: testinfra.host.Host) -> None:
    with pytest.raises(KeyError):
        pwd.getpwnam(MISSING_USER)
    assert summary(check(host, "user", MISSING_USER)) == [
        (False, f"user {MISSING_USER}", "exists = True", "exists = False")]
    assert check(host, "user", MISSING_USER, exists=False)[0].passed


# -- the harness's own backend -----------------------------------------------------------------


class ShellChannel:
    """A Channel whose commands really run here through /bin/sh (what SshChannel does in a VM)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, bool]] = []

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        self.commands.append((command, sudo))
        done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, timeout=timeout,
                              check=False)
        return Exec(command=command, exit_code=done.returncode, stdout=done.stdout,
                    stderr=done.stderr)


def test_checks_over_a_channel_run_as_root_with_output_decoded(tmp_path: Path) -> None:
    channel = ShellChannel()
    host = host_for(channel, "here")  # type: ignore[arg-type]
    target = "printf '%s\\n' \"it's ünïcode\"; exit 7"
    results = check(host, "command", target, exit_code=7, stdout_contains="it's ünïcode")
    assert [r.passed for r in results] == [True, True]
    assert (target, True) in channel.commands  # as written, and as root
    assert [r.passed for r in check(host, "user", "root")] == [True]
    assert summary(check(host, "user", MISSING_USER)) == [
        (False, f"user {MISSING_USER}", "exists = True", "exists = False")]
    assert [r.passed for r in check(host, "file", str(tmp_path), is_directory=True)] == [
        True, True]


def test_windows_kinds_fail_on_a_linux_guest(host: testinfra.host.Host) -> None:
    assert summary(check(host, "registry", "HKLM\\Software\\X", exists=True)) == [
        (False, "registry HKLM\\Software\\X", "evaluated", "registry checks need a Windows guest")]

"""Image facts read by the guest OS on a real (local) machine: the host's own system in an
overlay, so what comes back must be what the host itself says, computed here independently."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from harness.machines.local import LocalMachine, LocalProvider, LocalWineStandin


def host(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def host_package_digest() -> tuple[str, str]:
    listing = host("dpkg-query", "-W", "-f", "${Package} ${Version}\n").encode()
    lines = sorted(line for line in listing.splitlines() if line.strip())
    return str(len(lines)), "sha256:" + hashlib.sha256(b"".join(
        line + b"\n" for line in lines)).hexdigest()


def pretty_name() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    raise AssertionError("no PRETTY_NAME in /etc/os-release")


def test_a_linux_guest_reports_the_facts_of_its_system(tmp_path: Path) -> None:
    machine = LocalProvider(tmp_path).create("any", name="vmapp-t-facts", folder=tmp_path / "m")
    machine.boot()
    try:
        facts = machine.guest.facts(machine.connect())
    finally:
        machine.destroy()
    count, digest = host_package_digest()
    assert facts == {
        "os": pretty_name(),
        "kernel": host("uname", "-r").strip(),
        "systemd": host("systemctl", "--version").splitlines()[0].removeprefix("systemd "),
        "dpkg": host("dpkg-query", "-W", "-f", "${Version}", "dpkg"),
        "python": host("python3", "-V").strip().removeprefix("Python "),
        "package_count": count, "package_digest": digest}
    assert int(count) > 100


def test_a_fact_the_guest_cannot_give_is_left_out(tmp_path: Path) -> None:
    machine = LocalProvider(tmp_path).create("any", name="vmapp-t-facts", folder=tmp_path / "m")
    machine.boot()
    try:
        channel = machine.connect()
        # inside the overlay only: the host keeps both
        assert channel.run("rm /etc/os-release /usr/lib/os-release && "
                           'for p in $(which -a python3); do rm -f "$p"; done && '
                           "! command -v python3").exit_code == 0
        facts = machine.guest.facts(channel)
    finally:
        machine.destroy()
    assert "os" not in facts and "python" not in facts
    assert {"kernel", "systemd", "dpkg", "package_count", "package_digest"} <= set(facts)
    assert Path("/etc/os-release").exists()


def test_the_wine_stand_in_also_reports_its_wine(tmp_path: Path) -> None:
    # the launcher and tar.exe are only read when the agent is installed, which facts do not need
    machine = LocalMachine(name="vmapp-t-facts", folder=tmp_path / "m",
                           guest=LocalWineStandin(tmp_path / "no-launcher.exe",
                                                  tmp_path / "no-tar.exe"))
    machine.boot()
    try:
        facts = machine.guest.facts(machine.connect())
    finally:
        machine.destroy()
    assert facts["wine"] == host("wine", "--version").strip()
    assert facts["package_digest"] == host_package_digest()[1]

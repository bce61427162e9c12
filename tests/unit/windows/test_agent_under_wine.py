"""The agent's wine stand-in side for real: ``--os windows --wine-standin`` with the Windows
layout in a real wine prefix, each command through the mingw-built launcher under wine, the
stand-in's refusal rules applied before anything runs.  Packages come as ``file:`` links."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from windows_guest import DOWNLOADS, build

from harness.machines.standin import PREFIX, refusal_rules
from harness.machines.wine import WINE_ENV, WineChannel
from harness.machines.winestandin import LAUNCHER

AGENT = Path(__file__).resolve().parents[3] / "harness" / "agent" / "vmapp_agent.py"
EXTENSION = DOWNLOADS.rsplit("\\", 1)[0]
STATUS = EXTENSION + "\\Status"


class WineAgent:
    """The agent run against the session's prefix, as the stand-in guest runs it."""

    def __init__(self, wine: WineChannel, tmp: Path) -> None:
        self.wine, self.tmp = wine, tmp
        self.config = tmp / "wine-standin.json"
        self.config.write_text(json.dumps({"prefix": str(wine.prefix), "launcher": str(LAUNCHER),
                                           "env": WINE_ENV, "refusal": refusal_rules()}))
        (tmp / "boot_id").write_text("boot-1\n")
        mrseq = wine.host_path(f"{EXTENSION}\\mrseq")  # the prefix serves the whole session
        self.seq = int(mrseq.read_text()) if mrseq.is_file() else 0

    def apply(self, name: str, command: str, package: bytes = b"not a program") -> dict[str, Any]:
        """Install ``name`` 1.0.0 with ``command``: its one operation's details record."""
        self.seq += 1
        (self.tmp / name).write_bytes(package)
        goal = {"sequenceNumber": self.seq, "os": "windows", "options": {}, "applications": [{
            "name": name, "version": "1.0.0", "packageReferenceId": f"/x/applications/{name}",
            "order": None, "packageUrl": (self.tmp / name).as_uri(), "configUrl": None,
            "install": command, "remove": "echo removed", "update": None,
            "packageFileName": None, "configFileName": None,
            "treatFailureAsDeploymentFailure": False, "enableAutomaticUpgrade": False,
            "scriptBehaviorAfterReboot": "None", "tags": ""}]}
        path = self.tmp / f"goal-{self.seq}.json"
        path.write_text(json.dumps(goal))
        done = subprocess.run([sys.executable, str(AGENT), "--os", "windows", "--wine-standin",
                               str(self.config), "--boot-id-file", str(self.tmp / "boot_id"),
                               "apply", str(path)], capture_output=True, text=True, timeout=300,
                              check=False)
        assert done.returncode == 0, done.stderr
        details = json.loads(self.wine.get(f"{STATUS}\\{self.seq}.details.json"))
        [op] = [op for op in details["operations"] if op["app"] == name]
        return dict(op)


@pytest.fixture
def agent(wine: WineChannel, tmp_path: Path) -> WineAgent:
    return WineAgent(wine, tmp_path)


def test_the_command_runs_as_written_and_the_full_exit_code_comes_back(
        agent: WineAgent, wine: WineChannel) -> None:
    op = agent.apply("quoted", 'echo "a b"> said.txt& type said.txt& exit /b 3010')
    assert (op["exitCode"], op["result"], op["unsupported"]) == (3010, "FAILED", False)
    assert op["message"].endswith("command terminated with exit status=3010")
    assert op["stdout"] == '"a b"\r\n'  # the quotes reached cmd.exe untouched
    folder = f"{DOWNLOADS}\\quoted\\1.0.0"
    assert wine.get(f"{folder}\\said.txt") == b'"a b"\r\n'  # it ran in the download folder
    assert wine.get(f"{folder}\\quoted") == b"not a program"


def test_powershell_is_refused_and_nothing_runs(agent: WineAgent, wine: WineChannel) -> None:
    op = agent.apply("psapp", "mkdir C:\\psapp-ran & powershell.exe -Command Get-Date")
    assert op["unsupported"] is True and op["exitCode"] is None and op["result"] == "FAILED"
    assert op["message"] == PREFIX + ("PowerShell (wine's powershell.exe is a stub that exits 0 "
                                      "and does nothing)")
    assert op["appResult"] == "Install FAILED " + op["message"]
    assert not wine.host_path("C:\\psapp-ran").exists()
    assert not Path(op["stdoutPath"]).with_suffix(".started").exists()  # never started


def test_a_32_bit_installer_is_refused_a_64_bit_one_runs(agent: WineAgent,
                                                        wine: WineChannel) -> None:
    command = "move .\\app .\\app.exe & app.exe /S"
    x86 = agent.apply("app", command, build("nsis-hello", "exe", "1.0.0", target="x86-unicode"))
    assert x86["unsupported"] is True
    assert x86["message"].startswith(PREFIX + "32-bit x86 installer")
    assert wine.host_path(f"{DOWNLOADS}\\app\\1.0.0\\app").is_file()  # never moved: not run
    x64 = agent.apply("app64", command.replace("app", "app64"),
                      build("nsis-hello", "exe", "1.0.1"))
    assert (x64["unsupported"], x64["exitCode"], x64["result"]) == (False, 0, "SUCCESS")
    assert wine.run("reg query HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
                    "\\VmappNsisHello /v DisplayVersion").text.split()[-1] == "1.0.1"
    assert wine.run('"C:\\Program Files\\VmappNsisHello\\uninstall.exe" /S '
                    "_?=C:\\Program Files\\VmappNsisHello").exit_code == 0


def test_a_config_that_is_not_the_stand_ins_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "broken.json"
    config.write_text('{"prefix": "/nowhere"}')
    done = subprocess.run([sys.executable, str(AGENT), "--os", "windows", "--wine-standin",
                           str(config), "capabilities"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr == (f"vmapp_agent: error: the wine stand-in config {config} lacks "
                           "launcher, env, refusal\n")
    linux = subprocess.run([sys.executable, str(AGENT), "--os", "linux", "--wine-standin",
                            str(config), "capabilities"], capture_output=True, text=True,
                           timeout=60, check=False)
    assert (linux.returncode, linux.stderr) == (2, "vmapp_agent: error: --wine-standin is the "
                                                   "Windows stand-in: it needs --os windows\n")

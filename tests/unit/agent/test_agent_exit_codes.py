"""Windows exit codes are full 32-bit values and reach the status and details files unchanged.

A Windows process ends with a DWORD: an access violation is 0xC0000005 (3221225477), ``exit /b
-1`` is 0xFFFFFFFF, and values from 2**31 up are not negative there (nor signals).  No Windows
runs here, so CreateProcess is the one thing stood in for: the real CmdExecutor, the real agent
(its planner, journal, registry, status and details writers) and a real HTTP download run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from agent_guest import BlobServer, Guest

from harness.agent.vmapp_agent import (
    WINDOWS_EXTENSION,
    Agent,
    CmdExecutor,
    Layout,
    Log,
    validate_goal_state,
)

COMMAND = "myApp.exe /S -config myApp_config"


class ExitingPopen:
    """Stands in for CreateProcess: writes one line of output, ends with ``code``."""

    code = 0
    calls: list[str]  # a fresh list per test: see ``converge``

    def __init__(self, args: Any, **kwargs: Any) -> None:
        type(self).calls.append(args)
        assert kwargs["stdin"] == subprocess.DEVNULL
        kwargs["stdout"].write(b"setup output\r\n")
        self.pid = 4242

    def wait(self, timeout: float | None = None) -> int:
        return type(self).code


def converge(tmp_path: Path, server: BlobServer, code: int) -> tuple[Layout, list[str]]:
    """Apply a one-app Windows goal state whose install command exits with ``code``."""
    guest = Guest(tmp_path, server, os_name="windows")
    raw = guest.goal(1, [guest.app("myApp", install=COMMAND, config=b"cfg")])
    goal = validate_goal_state(json.loads(json.dumps(raw)), "windows")
    popen = type("Popen", (ExitingPopen,), {"code": code, "calls": []})
    layout = Layout("windows", str(guest.root))
    Agent(layout, "boot-1", Log(layout.log_file), executor=CmdExecutor(popen=popen)).apply(goal)
    return layout, popen.calls


def read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("code", [3010, 0xC0000005, 2**31, 0xFFFFFFFF],
                         ids=["3010", "0xC0000005", "2^31", "0xFFFFFFFF"])
def test_full_32_bit_exit_codes_are_recorded_unchanged(tmp_path: Path, blob_server: BlobServer,
                                                       code: int) -> None:
    layout, calls = converge(tmp_path, blob_server, code)
    assert calls == ["cmd.exe /c " + COMMAND]
    message = f"Error executing command '{COMMAND}': command terminated with exit status={code}"

    [op] = read(layout.details_file(1))["operations"]
    assert (op["exitCode"], op["result"], op["message"]) == (code, "FAILED", message)
    assert op["appResult"] == f"Install FAILED {message}"
    assert op["stdout"] == "setup output\r\n"

    [status] = read(layout.status_file(1))
    assert status["status"]["name"] == WINDOWS_EXTENSION
    assert status["status"]["status"] == "success"  # apps failing is data, not an exit code
    payload = json.loads(status["status"]["formattedMessage"]["message"].split(": ", 1)[1])
    assert payload["CurrentState"] == [
        {"applicationName": "myApp", "version": "1.0.0", "result": f"Install FAILED {message}"}]

    [entry] = read(layout.registry_file)["applications"]
    assert (entry["state"], entry["result"]) == ("Failed", f"Install FAILED {message}")
    journal = read(layout.journal_file)
    assert journal["steps"][0]["ops"][0]["exitCode"] == code


def test_exit_code_zero_is_success_with_the_same_path(tmp_path: Path,
                                                      blob_server: BlobServer) -> None:
    layout, _ = converge(tmp_path, blob_server, 0)
    [op] = read(layout.details_file(1))["operations"]
    assert (op["exitCode"], op["result"], op["message"]) == (0, "SUCCESS", "")
    assert read(layout.registry_file)["applications"][0]["state"] == "Installed"

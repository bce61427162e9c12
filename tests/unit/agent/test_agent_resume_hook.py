"""The Windows resume-at-boot hook: the ``schtasks /create`` command line the agent hands over.

The agent has no function returning this argv (the Linux side has ``resume_unit_text``); it is
built inline in ``ensure_resume_at_boot`` and run only when ``sys.platform == "win32"``.  No
Windows (and no schtasks) runs here, so the test gives that function a Windows ``sys`` and a
``subprocess.run`` that records instead of starting schtasks -- both replaced in the agent
module only.  Everything else is real: the agent copies itself into the extension's ``bin``
folder, and the argv is turned into the CreateProcess command line by the standard library's
own ``subprocess.list2cmdline`` (what Popen does on Windows).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from agent_guest import AGENT

import harness.agent.vmapp_agent as agent

PYTHON = "C:\\Program Files\\Python312\\python.exe"


class Schtasks:
    """Records each ``subprocess.run`` call; ``fail`` makes it end like a refused schtasks."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[list[str], dict[str, Any]]] = []

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append((argv, kwargs))
        if self.fail:
            raise subprocess.CalledProcessError(1, argv, b"", b"ERROR: Access is denied.\r\n")
        return subprocess.CompletedProcess(argv, 0, b"SUCCESS: ...\r\n", b"")


def on_windows(monkeypatch: pytest.MonkeyPatch, schtasks: Schtasks) -> None:
    monkeypatch.setattr(agent, "sys", SimpleNamespace(platform="win32", executable=PYTHON))
    monkeypatch.setattr(agent, "subprocess", SimpleNamespace(
        run=schtasks, SubprocessError=subprocess.SubprocessError))


def real_windows_layout(tmp_path: Path) -> agent.Layout:
    """The layout of an agent on the machine's own root, its bin folder moved under tmp_path."""
    layout = agent.Layout("windows", None)
    assert layout.is_real
    layout.bin_dir = tmp_path / "bin"
    return layout


def test_windows_hook_is_one_schtasks_create_of_an_onstart_task_as_system(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = real_windows_layout(tmp_path)
    log = agent.Log(tmp_path / "agent.log")
    schtasks = Schtasks()
    on_windows(monkeypatch, schtasks)

    agent.ensure_resume_at_boot(layout, log)

    script = tmp_path / "bin" / "vmapp_agent.py"
    assert script.read_bytes() == AGENT.read_bytes()  # the copy a reboot does not empty
    [(argv, kwargs)] = schtasks.calls
    action = f'"{PYTHON}" "{script}" --os windows resume'
    assert argv == ["schtasks", "/create", "/tn", "vmapp-agent-resume", "/sc", "onstart",
                    "/ru", "SYSTEM", "/rl", "HIGHEST", "/f", "/tr", action]
    assert kwargs["check"] is True and kwargs["timeout"] > 0
    # What CreateProcess receives: /tr's inner quotes escaped as \" (schtasks' documented form
    # for a program path with spaces), the whole action one argument.
    assert subprocess.list2cmdline(argv) == (
        "schtasks /create /tn vmapp-agent-resume /sc onstart /ru SYSTEM /rl HIGHEST /f /tr "
        f'"\\"{PYTHON}\\" \\"{script}\\" --os windows resume"')
    assert "WARNING" not in (log.path.read_text() if log.path.exists() else "")


def test_a_refused_schtasks_is_a_logged_warning_not_a_failure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = real_windows_layout(tmp_path)
    log = agent.Log(tmp_path / "agent.log")
    schtasks = Schtasks(fail=True)
    on_windows(monkeypatch, schtasks)

    agent.ensure_resume_at_boot(layout, log)  # must not raise

    assert len(schtasks.calls) == 1
    text = log.path.read_text()
    assert "WARNING: could not install the resume-at-boot hook:" in text
    assert "schtasks" in text and "returned non-zero exit status 1" in text


def test_no_hook_is_installed_under_a_test_root(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    layout = agent.Layout("windows", str(tmp_path / "root"))
    schtasks = Schtasks()
    on_windows(monkeypatch, schtasks)
    agent.ensure_resume_at_boot(layout, agent.Log(tmp_path / "agent.log"))
    assert schtasks.calls == []
    assert not layout.bin_dir.exists()


def test_the_task_argv_is_one_onstart_task_running_resume_as_system() -> None:
    script = Path("C:\\Packages\\Plugins\\x\\bin\\vmapp_agent.py")
    assert agent.resume_task_argv(PYTHON, script) == [
        "schtasks", "/create", "/tn", "vmapp-agent-resume", "/sc", "onstart", "/ru", "SYSTEM",
        "/rl", "HIGHEST", "/f", "/tr", f'"{PYTHON}" "{script}" --os windows resume']

"""Helpers for the Windows tests: the seeds' download folder and the Uninstall keys."""

from __future__ import annotations

import time

from harness.machines.wine import WineChannel
from harness.packages.build import PackageSpec, build_package
from harness.ports import Exec
from harness.settings import REPO_ROOT

SCENARIOS = REPO_ROOT / "scenarios"  # the Windows package sources are in its packages/
DOWNLOADS = ("C:\\Packages\\Plugins\\Microsoft.CPlat.Core.VMApplicationManagerWindows\\1.0.9"
             "\\Downloads")
UNINSTALL = "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
MSIEXEC = "start /wait %windir%\\system32\\msiexec.exe"


def build(source: str, fmt: str, version: str, member: str = "", **variables: str) -> bytes:
    spec = PackageSpec(root=SCENARIOS, source=source, format=fmt, vars=variables, member=member)
    return build_package(spec, version)


def deploy(wine: WineChannel, app: str, version: str, package: bytes, command: str,
           config: bytes | None = None) -> Exec:
    """What the agent does: the package (and config) downloaded as ``<app>`` (``<app>_config``)
    into the seeds' folder, then the command run there through cmd.exe."""
    folder = f"{DOWNLOADS}\\{app}\\{version}"
    wine.put(package, f"{folder}\\{app}")
    if config is not None:
        wine.put(config, f"{folder}\\{app}_config")
    return run_in(wine, app, version, command)


def run_in(wine: WineChannel, app: str, version: str, command: str) -> Exec:
    return wine.run(f'cd /d "{DOWNLOADS}\\{app}\\{version}" & {command}')


def wait_until_gone(wine: WineChannel, key: str, seconds: float = 30) -> bool:
    """NSIS uninstallers copy themselves to %TEMP% and return at once, on Windows too."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if wine.run(f'reg query "{key}"').exit_code != 0:
            return True
        time.sleep(0.5)
    return False

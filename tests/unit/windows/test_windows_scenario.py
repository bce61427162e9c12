"""A Windows scenario written the way docs/scenarios.md and docs/windows.md say loads into the
model: msi and exe packages from the shipped sources, registry and product checks."""

from __future__ import annotations

import shutil
from pathlib import Path

from harness.packages.build import PackageSpec
from harness.scenario.load import load_scenario
from harness.settings import REPO_ROOT

SCENARIO = r"""
description: MSI and NSIS exe the seeds' way, checked through the registry.
steps:
  - deploy:
      - {app: myApp, version: 2.0.0}
      - {app: myMsi, version: 1.2.0}
  - expect:
      checks:
        - {product: Vmapp NSIS Hello, installed: true, version: 2.0.0}
        - {registry: 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\VmappNsisHello',
           value: UninstallString, data: '"C:\Program Files\VmappNsisHello\uninstall.exe" /S'}
        - {file: 'C:\Program Files\VmappMsiHello\hello.txt', contains: "1.2.0"}
        - {command: 'reg query HKLM\Software\VmappNone', exit_code: 1}
gallery:
  applications:
    myApp:
      supportedOSType: Windows
      versions:
        2.0.0:
          package: {source: nsis-hello, format: exe}
          config: {content: "licence=42"}
          install: move .\myApp .\myApp.exe & myApp.exe /S -config myApp_config
          remove: '"C:\Program Files\VmappNsisHello\uninstall.exe" /S'
    myMsi:
      supportedOSType: Windows
      versions:
        1.2.0:
          package: {source: msi-hello, format: msi, vars: {reboot: "yes"}}
          install: start /wait %windir%\system32\msiexec.exe /i myMsi /quiet /norestart /log i.log
          remove: start /wait %windir%\system32\msiexec.exe /x myMsi /quiet /norestart /log x.log
"""


def test_windows_scenario_loads(tmp_path: Path) -> None:
    for source in ("nsis-hello", "msi-hello"):  # the sources go beside the scenario file
        shutil.copytree(REPO_ROOT / "scenarios" / "packages" / source,
                        tmp_path / "packages" / source)
    path = tmp_path / "windows-patterns.yaml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    exe = scenario.apps["myApp"].versions["2.0.0"]
    msi = scenario.apps["myMsi"].versions["1.2.0"]
    assert exe.package.package == PackageSpec(root=tmp_path, source="nsis-hello", format="exe")
    assert msi.package.package == PackageSpec(root=tmp_path, source="msi-hello", format="msi",
                                              vars={"reboot": "yes"})
    assert exe.remove == '"C:\\Program Files\\VmappNsisHello\\uninstall.exe" /S'
    checks = [c for step in scenario.steps for c in step.checks]
    assert [(c.kind, c.target, c.wanted) for c in checks] == [
        ("product", "Vmapp NSIS Hello", {"installed": True, "version": "2.0.0"}),
        ("registry", "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall"
         "\\VmappNsisHello", {"value": "UninstallString",
                              "data": '"C:\\Program Files\\VmappNsisHello\\uninstall.exe" /S'}),
        ("file", "C:\\Program Files\\VmappMsiHello\\hello.txt", {"contains": "1.2.0"}),
        ("command", "reg query HKLM\\Software\\VmappNone", {"exit_code": 1})]

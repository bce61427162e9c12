"""No secret in any report file: a whole report folder, tarball included, grepped for SAS
signatures and account keys."""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

from harness.agent.client import AgentClient
from harness.machines.linux import LinuxSystemd
from harness.ports import Exec
from harness.report.results import CellResult, CommandRecord, RunResult, StepRecord
from harness.runner.run import write_reports
from harness.storage.azurite import DEV_KEY

SIG = "sig=Zm9vYmFy%2Bc2VjcmV0%3D"
SAS = f"http://127.0.0.1:10000/devstoreaccount1/packages/go_linux?sv=2023-11-03&sp=r&{SIG}"
CONNECTION = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY}"
LEAKS = re.compile(rb"(?i)sig(=|%3D)(?!REDACTED)|AccountKey=(?!REDACTED)|"
                   + re.escape(DEV_KEY.encode()) + rb"|Zm9vYmFy")


EXTENSION_DIR = LinuxSystemd.extension_dir


def guest_tarball() -> bytes:
    files = {f"{EXTENSION_DIR}/config/0.settings".lstrip("/"): json.dumps(
                 {"runtimeSettings": [{"handlerSettings": {"publicSettings": {
                     "applications": [{"name": "go_linux", "location": SAS}]}}}]}).encode(),
             f"{EXTENSION_DIR}/status/0.status".lstrip("/"): json.dumps(
                 [{"status": {"status": "success", "formattedMessage": {
                     "message": f"downloaded {SAS}"}}}]).encode(),
             "var/log/azure/x/vmapp-agent.journal": f"start {SAS}\n{CONNECTION}\n".encode(),
             "var/lib/waagent/pkg/go_linux": b"\x1f\x8b\x08\x00binary"}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


class GuestWithSecrets:
    """A channel whose guest answers `tar` with the agent's files and gives its log."""

    def run(self, command: str, *, sudo: bool = True, timeout: float = 600) -> Exec:
        out = guest_tarball() if command.startswith("tar ") else \
            f"GET {SAS} -> 200\nsettings: {CONNECTION}\n".encode()
        return Exec(command=command, exit_code=0, stdout=out, stderr=b"")

    def get(self, path: str) -> bytes:
        return f"GET {SAS} -> 200\nsettings: {CONNECTION}\n".encode()

    def close(self) -> None:
        return None


def run_with_secrets(artifacts: str) -> RunResult:
    command = CommandRecord(app="go_linux", version="1.0.0", operation="install",
                            command=f"curl -o go '{SAS}'", exit_code=22, result="FAILED",
                            stdout=SAS, stderr=f"403 for {SAS}")
    cell = CellResult(
        scenario="tar-golang", image="debian-12", outcome="failed",
        message=f"The blob referenced by source uri {SAS} is empty.",
        file="scenarios/tar-golang.yaml", artifacts=artifacts,
        packages={"go_linux@1.0.0": SAS}, gallery_errors={"1.0.0": f"empty blob {SAS}"},
        image_key="k1", image_facts={"os": SAS},
        steps=[StepRecord(index=0, kind="deploy", title="deploy", line=3, outcome="failed",
                          failures=[f"link {SAS}"], detail=CONNECTION, commands=[command],
                          extension_message=SAS)])
    return RunResult(run_id="r1", started="2026-12-03T00:00:00Z", accel="tcg",
                     accel_reason=CONNECTION, cells=[cell], host={"note": SAS})


def report_files(folder: Path) -> dict[str, bytes]:
    """Every file of the report folder, tarball members included (as ``tarball!member``)."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        found[str(path.relative_to(folder))] = path.read_bytes()
        if path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tar:
                for member in tar:
                    data = tar.extractfile(member)
                    if data is not None:
                        found[f"{path.relative_to(folder)}!{member.name}"] = data.read()
    return found


def test_no_signature_or_key_in_any_report_file(tmp_path: Path) -> None:
    folder = tmp_path / "r1"
    cell_dir = folder / "cells" / "tar-golang-debian-12"
    client = AgentClient(GuestWithSecrets, LinuxSystemd(), vm="vmapp-r1")  # type: ignore[arg-type]
    status = client.collect(cell_dir)
    run = run_with_secrets("cells/tar-golang-debian-12")
    run.cells[0].status_files = status
    write_reports(run, folder, point_latest=False)
    files = report_files(folder)
    assert {"results.json", "junit.xml", "index.html", "compat.html", "compat.json",
            "cells/tar-golang-debian-12/agent.log",
            "cells/tar-golang-debian-12/status/0.status"} <= set(files)
    assert any("!" in name and name.endswith("0.settings") for name in files)
    leaks = {name: LEAKS.findall(data) for name, data in files.items() if LEAKS.search(data)}
    assert leaks == {}
    assert b"sig=REDACTED" in files["results.json"] and b"sig=REDACTED" in files["junit.xml"]
    assert files["cells/tar-golang-debian-12/guest-files.tar.gz!var/lib/waagent/pkg/go_linux"] \
        == b"\x1f\x8b\x08\x00binary"

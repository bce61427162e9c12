"""The report's copy of the extension's status files, taken out of the collected archive."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from harness.agent.client import status_files
from harness.machines.linux import LinuxSystemd

EXTENSION_DIR = LinuxSystemd.extension_dir
WHERE = (LinuxSystemd.status_dir, LinuxSystemd.registry_file)

ROOT = EXTENSION_DIR.lstrip("/")


def archive(tmp_path: Path, files: dict[str, bytes]) -> Path:
    path = tmp_path / "guest-files.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_status_details_and_registry_are_extracted_and_nothing_else(tmp_path: Path) -> None:
    path = archive(tmp_path, {
        f"{ROOT}/status/1.status": b'[{"status": {"status": "success"}}]',
        f"{ROOT}/status/1.details.json": b"{}",
        f"{ROOT}/config/applicationRegistry.active": b"[]",
        f"{ROOT}/config/1.settings": b"{}",
        f"{ROOT}/outputs/1/a_1.0.0_install_1.stdout": b"out",
        f"{ROOT}/status/nested/x.status": b"no",
        "var/log/azure/x/vmapp-agent.log": b"log",
    })
    names = status_files(path, tmp_path / "status", *WHERE)
    assert names == ["status/1.details.json", "status/1.status",
                     "status/applicationRegistry.active"]
    assert (tmp_path / "status" / "1.status").read_bytes() == \
        b'[{"status": {"status": "success"}}]'
    assert sorted(p.name for p in (tmp_path / "status").iterdir()) == [
        "1.details.json", "1.status", "applicationRegistry.active"]


def test_a_cut_or_empty_archive_gives_no_files_and_no_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tar.gz"
    empty.write_bytes(b"")
    assert status_files(empty, tmp_path / "status", *WHERE) == []
    whole = archive(tmp_path, {f"{ROOT}/status/1.status": b"x" * 5000})
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole.read_bytes()[:60])
    assert status_files(cut, tmp_path / "status2", *WHERE) == []

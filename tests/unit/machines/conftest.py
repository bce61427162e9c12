"""libvirt's built-in test driver (no daemon, no VM): helpers beside the ``conn`` fixture
(tests/unit/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import tarfile
from pathlib import Path

import libvirt

from tests.unit.conftest import POOL


def add_volume(conn: libvirt.virConnect, name: str) -> str:
    pool = conn.storagePoolLookupByName(POOL)
    volume = pool.createXML(f"<volume><name>{name}</name><capacity unit='M'>1</capacity>"
                            "</volume>", 0)
    return str(volume.path())


def define(conn: libvirt.virConnect, name: str, disks: tuple[str, ...] = (),
           start: bool = False) -> libvirt.virDomain:
    devices = "".join(f"<disk type='file' device='disk'><source file='{d}'/>"
                      f"<target dev='vd{chr(97 + i)}'/></disk>" for i, d in enumerate(disks))
    domain = conn.defineXML(f"<domain type='test'><name>{name}</name><memory>65536</memory>"
                            f"<os><type>hvm</type></os><devices>{devices}</devices></domain>")
    if start:
        domain.create()
    return domain


def tiny_box(box: Path, scratch: Path) -> Path:
    """A Vagrant box file for the libvirt provider that Vagrant accepts (1 MiB disk)."""
    scratch.mkdir(parents=True, exist_ok=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(scratch / "box.img"), "1M"],
                   check=True)
    (scratch / "metadata.json").write_text(json.dumps(
        {"provider": "libvirt", "format": "qcow2", "virtual_size": 1}))
    (scratch / "Vagrantfile").write_text("Vagrant.configure('2') { |c| }\n")
    with tarfile.open(box, "w") as tar:
        for name in ("box.img", "metadata.json", "Vagrantfile"):
            tar.add(scratch / name, arcname=name)
    return box

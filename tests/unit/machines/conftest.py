"""libvirt's built-in test driver (no daemon, no VM): a connection fixture and helpers."""

from __future__ import annotations

import json
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from harness.machines import libvirtd

POOL = "default-pool"  # the test driver's pool, with target path /default-pool


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    connection = libvirtd.open_connection("test:///default")
    created = {d.name() for d in connection.listAllDomains()}
    volumes = set(connection.storagePoolLookupByName(POOL).listVolumes())
    yield connection
    for domain in connection.listAllDomains():
        if domain.name() not in created:
            if domain.isActive():
                domain.destroy()
            domain.undefine()
    pool = connection.storagePoolLookupByName(POOL)
    for name in set(pool.listVolumes()) - volumes:
        pool.storageVolLookupByName(name).delete(0)
    connection.close()


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

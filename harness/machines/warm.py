"""Warm machines: a booted, ready guest (agent pushed, its first goal state applied) kept across
runs, so that a run's first machine of an image comes up in seconds instead of a boot.

The first pooled machine a host boots for an image leaves a copy of its disk, whose qcow2 holds
the internal snapshot with memory the pool reverts to, and its libvirt definition.  A later
machine of the same kind (any run, any worker) is defined from that copy under its own name,
port, console and disk, its snapshot is redefined, and it is reverted: about as fast as a
revert.  What the saved state depends on is in the key: the image build, the agent, the
machine's shape (vCPUs, memory, accelerator) and the Vagrantfile template.  One entry per image
build and shape is kept (builds of one recipe are its image versions: each has its own); a newer
agent replaces it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import libvirt

from harness.errors import InfrastructureError
from harness.machines import libvirtd
from harness.settings import cache_dir

DISK = "disk.qcow2"
DOMAIN = "domain.xml"
SNAPSHOT = "snapshot.xml"
META = "warm.json"


def warm_dir() -> Path:
    return cache_dir() / "warm"


@dataclass(frozen=True)
class Shape:
    """Everything a saved machine state depends on, apart from the agent (given per save)."""

    image: str
    image_key: str
    driver: str
    cpus: int
    memory_mib: int
    template: str  # the Vagrantfile template's text: devices and their addresses

    def folder(self, agent: str) -> Path:
        digest = hashlib.sha256(json.dumps(
            [self.image_key, self.driver, self.cpus, self.memory_mib, self.template, agent]
        ).encode()).hexdigest()[:16]
        # The build's key in the name: a copy replaces only older copies of the same build
        # (another agent), never one of another build of the image (an older image version).
        return warm_dir() / (f"{self.image}-{self.image_key}-{self.driver}-"
                             f"{self.cpus}x{self.memory_mib}-{digest}")


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    warm_dir().mkdir(parents=True, exist_ok=True)
    with (warm_dir() / f".{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def saved(folder: Path) -> bool:
    return (folder / META).is_file()


def save(domain: libvirt.virDomain, disk: Path, folder: Path, snapshot: str,
         image_key: str) -> None:
    """Copy ``domain`` (just snapshotted as ``snapshot``) into ``folder``, paused while its disk
    is copied; older entries of the same image and shape go."""
    with _locked(folder):
        if saved(folder):
            return
        work = folder.with_name(folder.name + ".part")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            domain.suspend()
            try:
                shutil.copyfile(disk, work / DISK)
            finally:
                domain.resume()
            xml = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
            (work / DOMAIN).write_text(xml)
            (work / SNAPSHOT).write_text(domain.snapshotLookupByName(snapshot).getXMLDesc(
                libvirt.VIR_DOMAIN_SNAPSHOT_XML_SECURE))
            (work / META).write_text(json.dumps({"snapshot": snapshot, "disk": str(disk),
                                                 "name": domain.name(),
                                                 "image_key": image_key}))
        except (libvirt.libvirtError, OSError) as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise InfrastructureError(stage="save warm machine", vm=domain.name(),
                                      detail=str(exc)) from exc
        for older in warm_dir().glob(folder.name.rsplit("-", 1)[0] + "-*"):
            if older.is_dir() and older != work:
                shutil.rmtree(older, ignore_errors=True)
        work.rename(folder)


def discard(folder: Path) -> None:
    """Drop one warm copy (it could not be restored)."""
    with _locked(folder):
        shutil.rmtree(folder, ignore_errors=True)


def remove_for(image_key: str) -> list[Path]:
    """Drop the warm copies made from build ``image_key`` (its box is going); returns them."""
    gone = []
    for meta in warm_dir().glob(f"*/{META}"):
        with contextlib.suppress(OSError, ValueError):
            if json.loads(meta.read_text()).get("image_key") == image_key:
                shutil.rmtree(meta.parent, ignore_errors=True)
                gone.append(meta.parent)
    return gone


def restore(conn: libvirt.virConnect, folder: Path, *, name: str, ssh_port: int,
            console_log: Path, description: str) -> str:
    """Define ``name`` from the saved machine with its own disk (beside the saved one's, named
    after it), port and console, and revert it to the saved snapshot, running; returns its
    UUID.  The domain, whose description records its owner, is defined before its disk is
    copied: a run killed during the copy leaves a domain gc finds, not a disk nobody owns."""
    try:
        meta = json.loads((folder / META).read_text())
        disk = Path(meta["disk"]).with_name(f"{name}.img")
        xml = _renamed(ET.fromstring((folder / DOMAIN).read_text()), name=name, disk=disk,
                       old_disk=meta["disk"], ssh_port=ssh_port, console_log=console_log,
                       description=description)
        domain = conn.defineXML(xml)
        shutil.copyfile(folder / DISK, disk)
        libvirtd.refresh_pools(conn)  # the copy becomes a volume libvirt deletes with the domain
        inner = domain.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE | libvirt.VIR_DOMAIN_XML_SECURE)
        domain.snapshotCreateXML(_snapshot_of(folder, inner),
                                 libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE
                                 | libvirt.VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT)
        domain.revertToSnapshot(domain.snapshotLookupByName(meta["snapshot"]),
                                libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING)
        return str(domain.UUIDString())
    except (libvirt.libvirtError, OSError, ValueError, KeyError, ET.ParseError) as exc:
        raise InfrastructureError(stage="restore warm machine", vm=name, detail=str(exc)) from exc


def _snapshot_of(folder: Path, domain_xml: str) -> str:
    """The saved snapshot's definition (its creation time, state, disks) for the new domain.

    Both copies of the saved machine's definition go: the running one (``domain``) and the
    persistent one (``inactiveDomain``), which a revert installs as the domain's definition;
    left in, every restored domain took the saved machine's name, UUID and disk path, and
    libvirt was left with definitions it could neither find nor remove."""
    snapshot = ET.fromstring((folder / SNAPSHOT).read_text())
    persistent = snapshot.find("inactiveDomain") is not None
    for tag in ("domain", "inactiveDomain"):
        for old in snapshot.findall(tag):
            snapshot.remove(old)
    snapshot.append(ET.fromstring(domain_xml))
    if persistent:
        inactive = ET.fromstring(domain_xml)
        inactive.tag = "inactiveDomain"
        snapshot.append(inactive)
    return ET.tostring(snapshot, encoding="unicode")


def _renamed(tree: ET.Element, *, name: str, disk: Path, old_disk: str, ssh_port: int,
             console_log: Path, description: str) -> str:
    ET.register_namespace("qemu", "http://libvirt.org/schemas/domain/qemu/1.0")
    tree.find("name").text = name  # type: ignore[union-attr]
    with contextlib.suppress(AttributeError):
        tree.remove(tree.find("uuid"))  # type: ignore[arg-type]
    if (text := tree.find("description")) is not None:
        text.text = description
    for source in tree.iter("source"):
        if source.get("file") == old_disk:
            source.set("file", str(disk))
        if source.get("path") is not None and source.get("path", "").endswith("console.log"):
            source.set("path", str(console_log))
    for arg in tree.iter("{http://libvirt.org/schemas/domain/qemu/1.0}arg"):
        value = arg.get("value", "")
        if "hostfwd=tcp:127.0.0.1:" in value:
            head, _, tail = value.partition("hostfwd=tcp:127.0.0.1:")
            arg.set("value", f"{head}hostfwd=tcp:127.0.0.1:{ssh_port}{tail[tail.index('-'):]}")
    return ET.tostring(tree, encoding="unicode")

"""A warm copy is defined under the new machine's own name, disk, SSH port and console, and is
only ever used by a machine of the same image build, agent and shape."""

from __future__ import annotations

import hashlib
import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.agent.client import AGENT_SOURCE, AgentClient
from harness.machines import libvirtd, warm
from harness.machines.linux import LinuxSystemd
from harness.machines.warm import Shape, _renamed
from harness.machines.winestandin import WineStandin

SAVED = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>vmapp-r1-w1-1-debian-12</name>
  <uuid>3ff3ad7f-54a3-4473-aab7-bf4e2856f90d</uuid>
  <description>vmapp-harness run=r1</description>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/vmapp-r1-w1-1-debian-12.img'/>
      <backingStore type='file'><source file='/var/lib/libvirt/images/box.img'/></backingStore>
    </disk>
    <serial type='file'><source path='/state/runs/r1/vmapp-r1-w1-1-debian-12/console.log'/>
    </serial>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-netdev'/>
    <qemu:arg value='user,id=vmappnet,restrict=on,hostfwd=tcp:127.0.0.1:60285-:22'/>
  </qemu:commandline>
</domain>"""


def test_the_copy_gets_its_own_name_disk_port_and_console() -> None:
    text = _renamed(ET.fromstring(SAVED), name="vmapp-r2-w2-1-debian-12",
                    disk=Path("/var/lib/libvirt/images/vmapp-r2-w2-1-debian-12.img"),
                    old_disk="/var/lib/libvirt/images/vmapp-r1-w1-1-debian-12.img",
                    ssh_port=40001, console_log=Path("/state/runs/r2/m/console.log"),
                    description="vmapp-harness run=r2 (warm)")
    tree = ET.fromstring(text)
    assert tree.findtext("name") == "vmapp-r2-w2-1-debian-12"
    assert tree.find("uuid") is None  # libvirt gives it one of its own
    assert tree.findtext("description") == "vmapp-harness run=r2 (warm)"
    files = [s.get("file") for s in tree.iter("source") if s.get("file")]
    assert files == ["/var/lib/libvirt/images/vmapp-r2-w2-1-debian-12.img",
                     "/var/lib/libvirt/images/box.img"]  # the box stays the backing file
    assert [s.get("path") for s in tree.iter("source") if s.get("path")] == [
        "/state/runs/r2/m/console.log"]
    assert "hostfwd=tcp:127.0.0.1:40001-:22" in text and "60285" not in text
    assert "r1" not in text.replace("box.img", "")


def test_anything_the_state_depends_on_changes_the_entry() -> None:
    base = Shape(image="debian-12", image_key="39cd", driver="qemu", cpus=1, memory_mib=1024,
                 template="T")
    folder = base.folder("agent-a")
    assert folder == base.folder("agent-a")
    others = [base.folder("agent-b"),
              Shape("debian-12", "39ce", "qemu", 1, 1024, "T").folder("agent-a"),
              Shape("debian-12", "39cd", "kvm", 1, 1024, "T").folder("agent-a"),
              Shape("debian-12", "39cd", "qemu", 2, 1024, "T").folder("agent-a"),
              Shape("debian-12", "39cd", "qemu", 1, 2048, "T").folder("agent-a"),
              Shape("debian-12", "39cd", "qemu", 1, 1024, "T2").folder("agent-a")]
    assert folder not in others and len(set(others)) == len(others)


def test_a_copy_replaces_copies_of_its_own_build_only() -> None:
    """A new copy removes the entries that share its name up to the agent's digest: older
    agents' copies of the same build, never a copy of another build of the image (an older
    image version a cell boots keeps its warm copy)."""
    def stem(key: str, agent: str) -> str:
        return Shape("debian-12", key, "qemu", 1, 1024, "T").folder(agent).name.rsplit("-", 1)[0]

    assert stem("39cd", "agent-a") == stem("39cd", "agent-b")
    assert stem("39cd", "agent-a") != stem("e03a", "agent-a")


def test_the_snapshot_redefined_for_the_copy_holds_only_the_copys_definition(
        tmp_path: Path) -> None:
    from harness.machines.warm import SNAPSHOT, _snapshot_of
    (tmp_path / SNAPSHOT).write_text(
        "<domainsnapshot><name>vmapp-clean</name><creationTime>1</creationTime>"
        "<domain><name>saved</name><uuid>u-saved</uuid></domain>"
        "<inactiveDomain><name>saved</name><uuid>u-saved</uuid></inactiveDomain>"
        "</domainsnapshot>")
    text = _snapshot_of(tmp_path, "<domain><name>copy</name><uuid>u-copy</uuid></domain>")
    tree = ET.fromstring(text)
    assert "saved" not in text and tree.findtext("creationTime") == "1"
    assert tree.findtext("domain/name") == tree.findtext("inactiveDomain/name") == "copy"


def test_what_the_guest_installs_beside_the_agent_is_part_of_the_agent_key(
        tmp_path: Path) -> None:
    """A warm stand-in holds the launcher, tar.exe and config of its day: a new one of any of
    them must not come up from it.  Linux guests install the agent alone: their key is the
    agent's digest, as it was before the stand-in's programs were counted."""
    linux = AgentClient.source_digest(LinuxSystemd())
    assert linux == hashlib.sha256(AGENT_SOURCE.read_bytes()).hexdigest()[:16]
    programs = {name: tmp_path / name for name in ("launch", "tar", "tar2")}
    for name, path in programs.items():
        path.write_bytes(name.encode())
    standin = AgentClient.source_digest(WineStandin(programs["launch"], programs["tar"]))
    assert standin != linux
    assert standin == AgentClient.source_digest(WineStandin(programs["launch"], programs["tar"]))
    assert standin != AgentClient.source_digest(WineStandin(programs["launch"], programs["tar2"]))


def test_a_run_stopped_while_its_warm_copy_is_copied_leaves_a_domain_that_goes_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make soak`: a SIGKILL 3 s into a warm run left the copied disk and no domain (the copy
    came first), which nothing records once the run's folder is gone.  Now the domain, with its
    owner in its description, comes first, and removing it deletes a disk copied halfway
    (a file the pool has not read yet).  Against the host's libvirtd, in a pool of its own."""
    libvirtd.ensure_daemons()
    conn = libvirtd.open_connection()
    disks = tmp_path / "pool"
    disks.mkdir()
    pool = conn.storagePoolCreateXML(f"<pool type='dir'><name>vmapp-test-{uuid.uuid4().hex}"
                                     f"</name><target><path>{disks}</path></target></pool>", 0)
    saved = tmp_path / "warm"
    saved.mkdir()
    (saved / warm.DISK).write_bytes(b"saved disk")
    (saved / warm.META).write_text(json.dumps({"disk": str(disks / "saved.img"),
                                               "snapshot": "ready"}))
    (saved / warm.DOMAIN).write_text(SAVED.replace(
        "/var/lib/libvirt/images/vmapp-r1-w1-1-debian-12.img", str(disks / "saved.img")).replace(
        "<devices>", "<memory>65536</memory><os><type>hvm</type></os><devices>").replace(
        "<backingStore type='file'><source file='/var/lib/libvirt/images/box.img'/>"
        "</backingStore>", "<target dev='vda'/>"))

    def cut_short(_source: Path, target: Path) -> None:
        Path(target).write_bytes(b"half a di")
        raise KeyboardInterrupt

    monkeypatch.setattr(warm.shutil, "copyfile", cut_short)
    name = f"vmapp-test-{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(KeyboardInterrupt):
            warm.restore(conn, saved, name=name, ssh_port=40001,
                         console_log=tmp_path / "console.log",
                         description=libvirtd.owner_description("r9", tmp_path / "m"))
        owner = libvirtd.domain_owners(conn)[name]
        assert owner is not None and owner.run_id == "r9"
        libvirtd.remove_domain(conn, name)
        assert name not in libvirtd.harness_domains(conn)
        assert not (disks / f"{name}.img").exists()
    finally:
        libvirtd.remove_domain(conn, name)
        pool.destroy()
        conn.close()

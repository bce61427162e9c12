"""libvirt on this host: daemons started when missing, and the domains the harness owns.

Every domain the harness creates is named ``vmapp-<run>-...``; that prefix is what the janitor
(`vmapp gc`) and the leftover checks go by, and its description says which run, process and
folder it belongs to (found again when the run's folder is gone).  Code here takes an injected
connection so unit tests run against libvirt's built-in ``test:///default`` driver.
"""

from __future__ import annotations

import contextlib
import grp
import os
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import libvirt

from harness import proc
from harness.errors import CleanupErrors, InfrastructureError
from harness.waiting import wait_until

SYSTEM_URI = "qemu:///system"
PREFIX = "vmapp-"
KVM_DEVICE = Path("/dev/kvm")

# libvirt silences its default error printer only when a handler is registered.
libvirt.registerErrorHandler(lambda _ctx, _err: None, None)


def fix_kvm_device_access(device: Path = KVM_DEVICE) -> None:
    """Give /dev/kvm to group kvm (as udev does on a normal Debian host).

    Without it libvirt sees "KVM was enabled when probing, but it is not available now", drops
    its QEMU capability cache and re-probes QEMU on every call: each domain define costs ~50 s.
    """
    if not device.exists():
        return
    try:
        kvm_gid = grp.getgrnam("kvm").gr_gid
    except KeyError:
        return
    info = device.stat()
    if info.st_gid != kvm_gid or not info.st_mode & stat.S_IRGRP & stat.S_IWGRP:
        os.chown(device, -1, kvm_gid)
        os.chmod(device, 0o660)


def _running(name: str) -> bool:
    return proc.run(["pgrep", "-x", name], stage="libvirt daemons", check=False).returncode == 0


def ensure_daemons(timeout: float = 60) -> None:
    """Start virtlogd and libvirtd if they are not running (no systemd here), idempotently."""
    fix_kvm_device_access()
    for daemon in ("virtlogd", "libvirtd"):
        if not _running(daemon):
            proc.run([daemon, "-d"], stage=f"start {daemon}")

    def answers() -> bool:
        conn = libvirt.open(SYSTEM_URI)
        conn.close()
        return True

    wait_until(answers, stage="start libvirtd", what="libvirtd to answer", timeout=timeout,
               retry_on=(libvirt.libvirtError,))


def open_connection(uri: str = SYSTEM_URI) -> libvirt.virConnect:
    try:
        return libvirt.open(uri)
    except libvirt.libvirtError as exc:
        raise InfrastructureError(stage="libvirt connect", detail=f"{uri}: {exc}") from exc


def harness_domains(conn: libvirt.virConnect, prefix: str = PREFIX) -> list[str]:
    return sorted(d.name() for d in conn.listAllDomains() if d.name().startswith(prefix))


MARK = re.compile(r"vmapp-harness run=(?P<run>\S+) owner=(?P<owner>\d+ \d+) folder=(?P<folder>.+)")


@dataclass(frozen=True)
class DomainOwner:
    """Whose a domain is, as its description records it: found again even when the run's
    folder (where the run recorded it) is gone."""

    run_id: str
    owner: str  # proc.process_stamp() of the process that made it
    folder: Path  # the machine's folder


def owner_description(run_id: str, folder: Path) -> str:
    """The description every domain the harness defines carries (this process makes it)."""
    return f"vmapp-harness run={run_id} owner={proc.process_stamp()} folder={folder.absolute()}"


def domain_owners(conn: libvirt.virConnect, prefix: str = PREFIX) -> dict[str, DomainOwner | None]:
    """The harness's domains and whose they are (None: no such record, e.g. made elsewhere)."""
    found: dict[str, DomainOwner | None] = {}
    for domain in conn.listAllDomains():
        if domain.name().startswith(prefix):
            text = ET.fromstring(domain.XMLDesc()).findtext("description") or ""
            mark = MARK.fullmatch(text.strip())
            found[domain.name()] = None if mark is None else DomainOwner(
                mark["run"], mark["owner"], Path(mark["folder"]))
    return found


def disk_paths(domain: libvirt.virDomain) -> list[str]:
    tree = ET.fromstring(domain.XMLDesc())
    return [s.get("file", "") for s in tree.findall("./devices/disk/source") if s.get("file")]


def domain_disks(conn: libvirt.virConnect, name: str) -> list[str]:
    """The disk files of domain ``name`` (none when there is no such domain)."""
    try:
        return disk_paths(conn.lookupByName(name))
    except libvirt.libvirtError:
        return []


def remove_domain(conn: libvirt.virConnect, name: str) -> None:
    """Destroy, undefine and delete the disks of one domain; collect every failure.  A domain
    that goes away meanwhile (another tool removing it) is gone, not a failure."""
    try:
        domain = conn.lookupByName(name)
        disks = disk_paths(domain)
        nvram = "<nvram" in domain.XMLDesc()
    except libvirt.libvirtError:
        return
    flags = (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
             | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    if nvram:  # drivers without NVRAM support reject the flag
        flags |= libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
    failures: list[BaseException] = []
    try:
        if domain.isActive():
            domain.destroy()
        domain.undefineFlags(flags)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
            failures.append(exc)
            with contextlib.suppress(libvirt.libvirtError):  # still try: a stopped one goes
                domain.undefineFlags(flags)
    failures += _remove_disks(conn, disks)
    if failures:
        raise CleanupErrors(failures)


def remove_disks(conn: libvirt.virConnect, paths: list[str]) -> None:
    """Delete these disks (volumes of a pool: a machine's own, e.g. one Vagrant did not make);
    one already gone is no failure."""
    failures = _remove_disks(conn, paths)
    if failures:
        raise CleanupErrors(failures)


def _remove_disks(conn: libvirt.virConnect, paths: list[str]) -> list[BaseException]:
    failures: list[BaseException] = []
    for path in paths:
        try:
            _volume_at(conn, path).delete(0)
        except libvirt.libvirtError as exc:
            if Path(path).exists():  # not a volume of any pool: not ours to delete
                failures.append(exc)
    return failures


def _volume_at(conn: libvirt.virConnect, path: str) -> libvirt.virStorageVol:
    """The volume at ``path``; a file written into a pool's folder since the pool was last
    read (a warm copy cut short) is found after the pools are read again."""
    try:
        return conn.storageVolLookupByPath(path)
    except libvirt.libvirtError:
        if not Path(path).exists():
            raise
        refresh_pools(conn)
        return conn.storageVolLookupByPath(path)


def refresh_pools(conn: libvirt.virConnect) -> None:
    """Let every active pool read its folder again (files made there become volumes)."""
    for pool in conn.listAllStoragePools():
        if pool.isActive():
            pool.refresh(0)


def leftover_volumes(conn: libvirt.virConnect, prefix: str = PREFIX) -> list[str]:
    """Per-VM volumes still in any pool (box images, named after the box, are a cache)."""
    refresh_pools(conn)
    return sorted(v for pool in conn.listAllStoragePools() if pool.isActive()
                  for v in pool.listVolumes()
                  if v.startswith(prefix) and "_vagrant_box_image_" not in v)


def remove_volume(conn: libvirt.virConnect, name: str) -> None:
    """Delete the volume ``name`` from whichever pool holds it (gone already: nothing to do)."""
    for pool in conn.listAllStoragePools():
        if not pool.isActive():
            continue
        try:
            volume = pool.storageVolLookupByName(name)
        except libvirt.libvirtError:
            continue
        try:
            volume.delete(0)
        except libvirt.libvirtError as exc:
            raise InfrastructureError(stage="remove volume", detail=f"{name}: {exc}") from exc


def box_volume_prefix(box_name: str) -> str:
    """How vagrant-libvirt names a box's pool copy (``vmapp/x`` -> ``vmapp-VAGRANTSLASH-x...``)."""
    return box_name.replace("/", "-VAGRANTSLASH-") + "_vagrant_box_image_"


def remove_box_volumes(conn: libvirt.virConnect, box_name: str) -> list[str]:
    """Delete the pool copies of a box; returns their names.  Every failure is collected."""
    prefix, removed, failures = box_volume_prefix(box_name), [], []
    for pool in conn.listAllStoragePools():
        if not pool.isActive():
            continue
        pool.refresh(0)
        for name in pool.listVolumes():
            if name.startswith(prefix):
                try:
                    pool.storageVolLookupByName(name).delete(0)
                    removed.append(name)
                except libvirt.libvirtError as exc:
                    failures.append(InfrastructureError(stage="remove box volume",
                                                        detail=f"{name}: {exc}"))
    if failures:
        raise CleanupErrors(failures)
    return removed


def lookup_domain(conn: libvirt.virConnect, name: str) -> libvirt.virDomain:
    try:
        return conn.lookupByName(name)
    except libvirt.libvirtError as exc:
        raise InfrastructureError(stage="libvirt domain", vm=name, detail=str(exc)) from exc


def _call(stage: str, name: str, action: Callable[[], object]) -> None:
    try:
        action()
    except libvirt.libvirtError as exc:
        raise InfrastructureError(stage=stage, vm=name, detail=str(exc)) from exc


SNAPSHOT_XML = "<domainsnapshot><name>{name}</name><description>vmapp-harness</description>" \
    "</domainsnapshot>"


def snapshot(conn: libvirt.virConnect, name: str, snap: str) -> None:
    """An internal snapshot with memory (qcow2), replacing an older one of the same name."""
    domain = lookup_domain(conn, name)
    with contextlib.suppress(libvirt.libvirtError):
        domain.snapshotLookupByName(snap).delete(0)
    _call("snapshot", name, lambda: domain.snapshotCreateXML(SNAPSHOT_XML.format(name=snap), 0))


def revert(conn: libvirt.virConnect, name: str, snap: str) -> None:
    """Back to ``snap``, running (from a running or a powered-off domain)."""
    domain = lookup_domain(conn, name)

    def go() -> None:
        domain.revertToSnapshot(domain.snapshotLookupByName(snap),
                                libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING)

    _call("revert snapshot", name, go)


def power(conn: libvirt.virConnect, name: str, action: str) -> None:
    """``off`` pulls the plug, ``on`` starts, ``reset`` is a hard reset."""
    domain = lookup_domain(conn, name)
    verbs: dict[str, Callable[[], object]] = {
        "off": domain.destroy, "on": domain.create, "reset": lambda: domain.reset(0)}
    _call(f"power {action}", name, verbs[action])

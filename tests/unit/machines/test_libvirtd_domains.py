"""Domain and volume bookkeeping against libvirt's built-in test driver (no daemon, no VM)."""

from __future__ import annotations

from pathlib import Path

import libvirt
import pytest

from harness.errors import CleanupErrors, InfrastructureError
from harness.machines import libvirtd
from tests.unit.machines.conftest import POOL, add_volume, define


def test_harness_domains_go_by_prefix(conn: libvirt.virConnect) -> None:
    define(conn, "vmapp-run2-b")
    define(conn, "vmapp-run1-a", start=True)
    define(conn, "someone-else")
    assert libvirtd.harness_domains(conn) == ["vmapp-run1-a", "vmapp-run2-b"]
    assert libvirtd.harness_domains(conn, prefix="vmapp-run2-") == ["vmapp-run2-b"]
    assert "test" in [d.name() for d in conn.listAllDomains()]  # the driver's own, not ours


def test_remove_domain_destroys_undefines_and_deletes_disks(conn: libvirt.virConnect) -> None:
    disk = add_volume(conn, "vmapp-run1-a.img")
    other = add_volume(conn, "unrelated.img")
    define(conn, "vmapp-run1-a", disks=(disk,), start=True)
    libvirtd.remove_domain(conn, "vmapp-run1-a")
    assert libvirtd.harness_domains(conn) == []
    assert sorted(conn.storagePoolLookupByName(POOL).listVolumes()) == ["unrelated.img"]
    assert other.endswith("/unrelated.img")


def test_remove_domain_of_a_stopped_domain(conn: libvirt.virConnect) -> None:
    define(conn, "vmapp-run1-stopped")
    libvirtd.remove_domain(conn, "vmapp-run1-stopped")
    assert libvirtd.harness_domains(conn) == []


def test_remove_unknown_domain_is_a_no_op(conn: libvirt.virConnect) -> None:
    libvirtd.remove_domain(conn, "vmapp-never-existed")


def test_remove_domain_reports_disks_it_could_not_delete(conn: libvirt.virConnect,
                                                         tmp_path: Path) -> None:
    stray = tmp_path / "disk.qcow2"  # exists, but in no pool: libvirt cannot delete it
    stray.write_bytes(b"x")
    define(conn, "vmapp-run1-stray", disks=(str(stray),))
    with pytest.raises(CleanupErrors) as caught:
        libvirtd.remove_domain(conn, "vmapp-run1-stray")
    assert len(caught.value.failures) == 1
    assert isinstance(caught.value.failures[0], libvirt.libvirtError)
    assert libvirtd.harness_domains(conn) == []  # the rest of the cleanup still happened


def test_remove_domain_ignores_disks_already_gone(conn: libvirt.virConnect,
                                                  tmp_path: Path) -> None:
    define(conn, "vmapp-run1-gone", disks=(str(tmp_path / "vanished.qcow2"),))
    libvirtd.remove_domain(conn, "vmapp-run1-gone")
    assert libvirtd.harness_domains(conn) == []


def test_leftover_volumes_skip_box_images_and_other_names(conn: libvirt.virConnect) -> None:
    add_volume(conn, "vmapp-run1-b.img")
    add_volume(conn, "vmapp-run1-a.img")
    add_volume(conn, "vmapp-debian-12_vagrant_box_image_0_box.img")
    add_volume(conn, "mine.img")
    assert libvirtd.leftover_volumes(conn) == ["vmapp-run1-a.img", "vmapp-run1-b.img"]
    assert libvirtd.leftover_volumes(conn, prefix="vmapp-run1-b") == ["vmapp-run1-b.img"]


def test_leftover_volumes_skip_inactive_pools(conn: libvirt.virConnect) -> None:
    add_volume(conn, "vmapp-run1-a.img")
    pool = conn.storagePoolLookupByName(POOL)
    pool.destroy()
    try:
        assert libvirtd.leftover_volumes(conn) == []
    finally:
        pool.create(0)


def test_open_connection_failure_is_an_infrastructure_error() -> None:
    with pytest.raises(InfrastructureError) as caught:
        libvirtd.open_connection("test:///no/such/file.xml")
    assert caught.value.stage == "libvirt connect"
    assert caught.value.detail.startswith("test:///no/such/file.xml: ")

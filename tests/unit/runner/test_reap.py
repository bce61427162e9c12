"""`vmapp gc` and a new run find a dead run's domains even when the run's folder (its record of
them) is gone: by the owner, run and folder each domain's description records; the domains of
live processes, of other state folders and of no record are left alone.  Against libvirt's
built-in test driver (no daemon, no VM)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import libvirt
import pytest

from harness import proc
from harness.errors import CleanupErrors
from harness.machines import libvirtd
from harness.runner.context import claim_run_folder
from harness.runner.reap import reap
from tests.unit.machines.conftest import POOL, add_volume, define

RUN = "20261203-000002-dead"


def dead_stamp() -> str:
    """The stamp of a process that has ended."""
    done = subprocess.run([sys.executable, "-c", "from harness import proc; "
                           "print(proc.process_stamp())"], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def describe(folder: Path, owner: str, run_id: str = RUN) -> str:
    return f"vmapp-harness run={run_id} owner={owner} folder={folder}"


def define_owned(conn: libvirt.virConnect, name: str, description: str,
                 disks: tuple[str, ...] = ()) -> None:
    define(conn, name, disks=disks)
    xml = conn.lookupByName(name).XMLDesc().replace(
        "<memory", f"<description>{description}</description><memory", 1)
    conn.defineXML(xml)


def test_the_description_names_this_process_and_the_folder(conn: libvirt.virConnect,
                                                           tmp_path: Path) -> None:
    folder = tmp_path / "runs" / RUN / "w0" / "it's a vm"  # spaces and quotes survive
    define_owned(conn, f"vmapp-{RUN}-w0-a", libvirtd.owner_description(RUN, folder))
    define(conn, "vmapp-no-record")
    owners = libvirtd.domain_owners(conn)
    assert owners[f"vmapp-{RUN}-w0-a"] == libvirtd.DomainOwner(RUN, proc.process_stamp(),
                                                               folder)
    assert owners["vmapp-no-record"] is None


def test_a_dead_runs_domain_is_removed_though_its_run_folder_is_gone(
        conn: libvirt.virConnect, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    disk = add_volume(conn, f"vmapp-{RUN}-w0-a.img")
    define_owned(conn, f"vmapp-{RUN}-w0-a", describe(runs / RUN / "w0" / "a", dead_stamp()),
                 disks=(disk,))
    said: list[str] = []
    reap([], runs, say=said.append, conn=conn)
    assert libvirtd.harness_domains(conn) == []
    assert f"vmapp-{RUN}-w0-a.img" not in conn.storagePoolLookupByName(POOL).listVolumes()
    assert said == [f"removing domain vmapp-{RUN}-w0-a (run {RUN}: its folder {runs / RUN} is "
                    "gone, its process ended)"]


def test_domains_of_live_processes_other_state_folders_and_no_record_stay(
        conn: libvirt.virConnect, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    define_owned(conn, "vmapp-a-live", describe(runs / "gone-1" / "a", proc.process_stamp()))
    define_owned(conn, "vmapp-b-other", describe(tmp_path / "elsewhere" / "r" / "a",
                                                 dead_stamp()))
    define_owned(conn, "vmapp-c-folder", describe(runs / "here" / "a", dead_stamp()))
    (runs / "here").mkdir(parents=True)  # its run's folder: that run's own record decides
    define_owned(conn, "vmapp-d-root", describe(runs, dead_stamp()))
    define_owned(conn, "vmapp-e-damaged", describe(runs / "gone-2", "99999999999 1"))
    define(conn, "vmapp-f-no-record")
    said: list[str] = []
    reap([], runs, dry_run=False, say=said.append, conn=conn)
    assert said == [f"removing domain vmapp-e-damaged (run {RUN}: its folder {runs / 'gone-2'} "
                    "is gone, its process ended)"]  # a pid of 11 digits runs nowhere
    assert libvirtd.harness_domains(conn) == ["vmapp-a-live", "vmapp-b-other", "vmapp-c-folder",
                                              "vmapp-d-root", "vmapp-f-no-record"]


def test_a_dry_run_removes_nothing(conn: libvirt.virConnect, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    define_owned(conn, f"vmapp-{RUN}-w0-a", describe(runs / RUN / "a", dead_stamp()))
    said: list[str] = []
    reap([], runs, dry_run=True, say=said.append, conn=conn)
    assert said[0].startswith(f"would remove domain vmapp-{RUN}-w0-a (run {RUN}:")
    assert libvirtd.harness_domains(conn) == [f"vmapp-{RUN}-w0-a"]


def test_a_run_folder_stays_while_its_domain_could_not_be_removed(
        conn: libvirt.virConnect, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    folder = claim_run_folder(runs / RUN)
    stray = tmp_path / "disk.qcow2"  # exists, but in no pool: libvirt cannot delete it
    stray.write_bytes(b"x")
    define(conn, f"vmapp-{RUN}-w0-a", disks=(str(stray),))
    ended = claim_run_folder(runs / "20261203-000003-done")
    said: list[str] = []
    with pytest.raises(CleanupErrors):
        reap([folder, ended], runs, say=said.append, conn=conn)
    assert folder.is_dir() and not ended.exists()
    assert said == [f"removing domain vmapp-{RUN}-w0-a",
                    f"keeping {folder}: its run's domains or volumes could not all be removed",
                    f"removing {ended}"]

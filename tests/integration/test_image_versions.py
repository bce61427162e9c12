"""Gallery images as the VMs' images, on real VMs, through the CLI: a VM created from `latest`
of the debian-12 image definition boots the newest build of the recipe; with the newest version
excluded it boots the build before; a version not replicated to the VM's region is refused with
the seeds' text and no VM boots; two image versions named on the command line run side by side.

What booted is proven inside the guest: every build has an SSH key of its own (made when it was
built), so the key in the guest's authorized_keys names the build.  These tests use the builds
in the host's cache (`vmapp images list`); one that needs two builds of debian-12 is skipped,
saying so, on a host with fewer (a recipe changed and built again keeps its older build)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.images.build import BuiltImage, builds
from harness.report.results import CellResult, RunResult
from tests.integration.conftest import leftovers, record_booted, vmapp

IMAGE = "debian-12"
NOT_IN_WESTUS = ("The gallery image {} is not available in westus region. Please contact image "
                 "owner to replicate to this region, or change your requested region.")


def _builds(count: int) -> list[BuiltImage]:
    found = builds(IMAGE)
    if len(found) < count:
        pytest.skip(f"needs {count} cached builds of {IMAGE} (image versions), this host has "
                    f"{len(found)}: build the recipe again after a change to keep an older one")
    return found


def _public_key(build: BuiltImage) -> list[str]:
    done = subprocess.run(["ssh-keygen", "-y", "-f", str(build.ssh_key)], text=True,
                          capture_output=True, check=True)
    return done.stdout.split()[:2]  # type and key, without the comment


def _guest_key(reports: Path, run: RunResult, cell: CellResult) -> list[str]:
    """The public key the kept VM of ``cell`` lets in: its build's."""
    done = vmapp("ssh", f"{run.run_id}/{cell.cell_id}", "--", "cat",
                 "/home/vagrant/.ssh/authorized_keys", reports=reports)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split()[:2]


def _run_kept(reports: Path, *args: str) -> tuple[RunResult, str]:
    """A run whose VMs are kept (each test destroys them, whatever it finds); its output when
    it did not pass."""
    done = vmapp("run", "--keep", "always", *args, reports=reports, timeout=3600)
    run = record_booted(reports / "latest" / "results.json")
    return run, "" if done.returncode == 0 else done.stdout + done.stderr


def _destroy(reports: Path, run: RunResult) -> None:
    done = vmapp("cell", "destroy", "--all", run.run_id, reports=reports, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert leftovers(run.run_id) == []


def _booted(reports: Path, run: RunResult, cell: CellResult, build: BuiltImage) -> None:
    assert cell.outcome == "passed", cell.message
    assert (cell.image_version, cell.image_key) == (build.version, build.key)
    assert _guest_key(reports, run, cell) == _public_key(build)


def _boots_latest(tmp_path: Path, scenario: str, expected: Callable[[], BuiltImage]) -> None:
    """``scenario``'s VM asks for `latest`, on a kept VM: it boots ``expected()``, read after
    the run (which may have built one)."""
    reports = tmp_path / "reports"
    run, failed = _run_kept(reports, "--image", IMAGE, scenario)
    try:
        assert not failed, failed
        (cell,) = run.cells
        assert cell.image_reference.endswith(f"/images/{IMAGE}/versions/latest")
        _booted(reports, run, cell, expected())
    finally:
        _destroy(reports, run)


def test_latest_boots_the_newest_build(tmp_path: Path) -> None:
    _boots_latest(tmp_path, "scenarios/image-latest.yaml", lambda: _builds(1)[-1])


def test_with_the_newest_excluded_latest_boots_the_build_before(tmp_path: Path) -> None:
    _builds(2)  # skips with the reason when there are fewer
    _boots_latest(tmp_path, "scenarios/image-latest-excluded.yaml", lambda: _builds(2)[-2])


def test_an_unreplicated_version_is_refused_and_no_vm_boots(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = vmapp("run", "--image", IMAGE, "scenarios/image-not-replicated.yaml", reports=reports,
                 timeout=3600)
    newest = _builds(1)[-1]
    run = record_booted(reports / "latest" / "results.json")
    assert done.returncode == 0, done.stdout + done.stderr
    (cell,) = run.cells
    reference = cell.image_reference
    assert reference.endswith(f"/galleries/image_not_replicated/images/{IMAGE}/versions/"
                              f"{newest.version}")
    assert (cell.outcome, cell.vm, cell.image_version) == ("passed", "", "")
    assert cell.steps[0].actual == [f"service error = {NOT_IN_WESTUS.format(reference)!r}"]
    assert "boot" not in cell.timings and leftovers(run.run_id) == []


def test_two_image_versions_side_by_side(tmp_path: Path) -> None:
    older, newer = _builds(2)[-2:]
    reports = tmp_path / "reports"
    run, failed = _run_kept(reports, "--image", f"{IMAGE}@{older.version}", "--image",
                            f"{IMAGE}@{newer.version}", "-j", "1", "scenarios/tar-golang.yaml")
    try:
        assert not failed, failed
        cells = {cell.image: cell for cell in run.cells}
        assert sorted(cells) == sorted([f"{IMAGE}@{older.version}", f"{IMAGE}@{newer.version}"])
        for build in (older, newer):
            cell = cells[f"{IMAGE}@{build.version}"]
            assert cell.image_reference.endswith(f"/images/{IMAGE}/versions/{build.version}")
            _booted(reports, run, cell, build)
    finally:
        _destroy(reports, run)

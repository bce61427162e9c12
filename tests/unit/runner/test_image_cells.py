"""The VM's image in the gallery's terms, end to end on local machines (no VM): the library's
image scenarios and the other ways to name an image, against a cache of builds of the test's
own (manifests only: a local machine runs the host's system whatever build it stands for)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.images.build import images_dir
from harness.images.recipe import find_recipe
from harness.report.results import CellResult
from harness.runner.cell import run_cell
from harness.runner.context import RunContext
from harness.runner.pool import MachinePool
from harness.runner.selection import images_of
from harness.scenario.load import load_scenario
from harness.settings import REPO_ROOT
from tests.unit.runner.local_run import local_pool

LIBRARY = REPO_ROOT / "scenarios"
GALLERY = ("/subscriptions/00000000-0000-0000-0000-00000000cafe/resourceGroups/vmapp-harness"
           "/providers/Microsoft.Compute/galleries")
OLDEST, PREVIOUS, NEWEST = "2026.1203.52647", "2026.1203.63702", "2026.1203.64347"
OLD_KEY, PREVIOUS_KEY = "aaaaaaaaaaaa", "bbbbbbbbbbbb"
NOT_IN_WESTUS = ("The gallery image {} is not available in westus region. Please contact image "
                 "owner to replicate to this region, or change your requested region.")


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunContext,
                                                                          MachinePool]]:
    with local_pool(tmp_path_factory.mktemp("local"), "images") as run:
        yield run


def _build(name: str, key: str, built_at: str) -> None:
    folder = images_dir() / f"{name}-{key}"
    folder.mkdir(parents=True)
    (folder / "image.json").write_text(json.dumps({"name": name, "key": key,
                                                   "built_at": built_at}))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """debian-12: three builds, the newest of its current recipe; debian-13: one."""
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    _build("debian-12", OLD_KEY, "2026-12-03T05:26:47Z")
    _build("debian-12", PREVIOUS_KEY, "2026-12-03T06:37:02Z")
    _build("debian-12", find_recipe("debian-12").key, "2026-12-03T06:43:47Z")
    _build("debian-13", find_recipe("debian-13").key, "2026-12-03T06:52:01Z")


def run(local_run: tuple[RunContext, MachinePool], scenario: Path, image: str) -> CellResult:
    ctx, pool = local_run
    return run_cell(ctx, pool, load_scenario(scenario), image)


@pytest.mark.usefixtures("cache")
def test_latest_boots_the_newest_build(local_run: tuple[RunContext, MachinePool]) -> None:
    cell = run(local_run, LIBRARY / "image-latest.yaml", "debian-12")
    assert cell.outcome == "passed", cell.message
    assert cell.image_reference == f"{GALLERY}/image_latest/images/debian-12/versions/latest"
    assert cell.image_version == NEWEST
    assert local_run[1].has_idle("debian-12", None)  # the recipe's current build's slot


@pytest.mark.usefixtures("cache")
def test_with_the_newest_excluded_latest_boots_the_build_before(
        local_run: tuple[RunContext, MachinePool]) -> None:
    cell = run(local_run, LIBRARY / "image-latest-excluded.yaml", "debian-12")
    assert cell.outcome == "passed", cell.message
    assert cell.image_version == PREVIOUS
    assert cell.image_reference.endswith("/images/debian-12/versions/latest")
    # the machine is pooled as one of that build, never as one of the current build
    assert local_run[1].has_idle("debian-12", PREVIOUS_KEY)


@pytest.mark.usefixtures("cache")
def test_too_few_builds_skip_the_cell_saying_so(local_run: tuple[RunContext, MachinePool]
                                                ) -> None:
    cell = run(local_run, LIBRARY / "image-latest-excluded.yaml", "debian-13")
    assert (cell.outcome, cell.steps, cell.vm) == ("skipped", [], "")
    assert cell.message == (
        "needs 2 image versions of debian-13 (gallery.images.debian-13.needs_versions), this "
        "host has 1 cached build(s) of it (an older build stays as an older version: `vmapp "
        "images list`)")


@pytest.mark.usefixtures("cache")
def test_an_unreplicated_version_is_refused_with_the_seeds_text(
        local_run: tuple[RunContext, MachinePool]) -> None:
    cell = run(local_run, LIBRARY / "image-not-replicated.yaml", "debian-12")
    assert cell.outcome == "passed", cell.message
    reference = f"{GALLERY}/image_not_replicated/images/debian-12/versions/{NEWEST}"
    assert (cell.image_reference, cell.image_version, cell.vm) == (reference, "", "")
    assert cell.steps[0].actual == [f"service error = {NOT_IN_WESTUS.format(reference)!r}"]


@pytest.mark.usefixtures("cache")
def test_a_step_that_needs_the_refused_vm_fails_with_the_answer(
        local_run: tuple[RunContext, MachinePool], tmp_path: Path) -> None:
    text = (LIBRARY / "image-not-replicated.yaml").read_text()
    scenario = tmp_path / "deploy-anyway.yaml"
    scenario.write_text(text + "  - deploy:\n      - {app: probe, version: 1.0.0}\n")
    cell = run(local_run, scenario, "debian-12")
    reference = f"{GALLERY}/deploy_anyway/images/debian-12/versions/{NEWEST}"
    assert (cell.outcome, cell.vm) == ("failed", "")
    assert cell.steps[1].failures == [
        f"no VM: the service refused to create it: {NOT_IN_WESTUS.format(reference)}"]


@pytest.mark.usefixtures("cache")
def test_an_image_version_named_on_the_command_line_boots_that_build(
        local_run: tuple[RunContext, MachinePool]) -> None:
    cell = run(local_run, LIBRARY / "tar-golang.yaml", f"debian-12@{OLDEST}")
    assert cell.outcome == "passed", cell.message
    assert cell.cell_id == f"tar-golang[debian-12@{OLDEST}]"
    assert cell.image_reference == f"{GALLERY}/tar_golang/images/debian-12/versions/{OLDEST}"
    assert cell.image_version == OLDEST
    assert local_run[1].has_idle("debian-12", OLD_KEY)


def _with_reference(tmp_path: Path, reference: str, expect: str) -> Path:
    scenario = tmp_path / "by-id.yaml"
    scenario.write_text(
        "description: the VM names its image by an ARM id\n"
        f"vm:\n  imageReference: {{id: {reference}}}\n"
        "gallery:\n  applications:\n    a:\n      versions:\n"
        "        1.0.0: {package: {content: a}, install: 'true', remove: 'true'}\n"
        f"steps:\n  - expect: {expect}\n")
    return scenario


@pytest.mark.usefixtures("cache")
def test_an_arm_image_reference_resolves_as_written(
        local_run: tuple[RunContext, MachinePool], tmp_path: Path) -> None:
    reference = f"{GALLERY}/by_id/images/debian-12/versions/{PREVIOUS}"
    scenario = _with_reference(tmp_path, reference, "{extension: success}")
    assert load_scenario(scenario).images == ("debian-12",)
    cell = run(local_run, scenario, "debian-12")
    assert (cell.image_reference, cell.image_version) == (reference, PREVIOUS)


@pytest.mark.usefixtures("cache")
def test_a_missing_definition_gets_the_seeds_text(local_run: tuple[RunContext, MachinePool],
                                                  tmp_path: Path) -> None:
    reference = f"{GALLERY}/by_id/images/ubuntu-24/versions/latest"
    answer = (f"The platform image {reference} isn't available. Verify that all fields in the "
              "storage profile are correct. For more details about storage profile "
              "information, please refer to https://aka.ms/storageprofile.")
    expect = json.dumps({"service_error": answer})
    cell = run(local_run, _with_reference(tmp_path, reference, expect), "debian-12")
    assert cell.outcome == "passed", cell.message


@pytest.mark.usefixtures("cache")
def test_a_reference_to_another_recipe_than_the_cells_is_a_config_error(
        local_run: tuple[RunContext, MachinePool], tmp_path: Path) -> None:
    reference = f"{GALLERY}/by_id/images/debian-13/versions/latest"
    scenario = _with_reference(tmp_path, reference, "{extension: success}")
    cell = run(local_run, scenario, "debian-12")  # as `--image debian-12` would ask
    assert cell.outcome == "error"
    assert cell.message == (f"{scenario} vm.imageReference.id: boots the image definition "
                            "'debian-13', the cell's image is 'debian-12': run it on debian-13 "
                            "(images: [debian-13])")
    assert images_of(load_scenario(scenario), ["debian-12", "debian-13"]) == ["debian-13"]


@pytest.mark.usefixtures("cache")
def test_a_named_definition_is_the_scenarios_only_image(
        local_run: tuple[RunContext, MachinePool], tmp_path: Path) -> None:
    scenario = tmp_path / "named.yaml"
    text = (LIBRARY / "image-latest.yaml").read_text().replace(
        "images: [debian-11, debian-12, debian-13, debian-testing]\n", "").replace(
        "image: {version: latest}", f"image: {{definition: debian-12, version: {PREVIOUS}}}")
    scenario.write_text(text)
    loaded = load_scenario(scenario)
    assert loaded.images == ("debian-12",)
    assert images_of(loaded, ["debian-13", f"debian-12@{OLDEST}"]) == ["debian-12"]
    cell = run(local_run, scenario, "debian-12")
    assert cell.outcome == "passed", cell.message
    assert (cell.image_reference, cell.image_version) == (
        f"{GALLERY}/named/images/debian-12/versions/{PREVIOUS}", PREVIOUS)
    wrong = run(local_run, scenario, "debian-13")  # as a direct run_cell could ask
    assert wrong.outcome == "error" and "the cell's image is 'debian-13'" in wrong.message


def test_every_library_scenario_that_names_its_image_runs_here() -> None:
    named = {p.stem for p in LIBRARY.glob("*.yaml") if load_scenario(p).vm_image is not None}
    assert named == {"image-latest", "image-latest-excluded", "image-not-replicated"}


def test_a_scenario_that_names_its_image_keeps_it_on_any_image_version() -> None:
    latest = load_scenario(LIBRARY / "image-latest.yaml")
    plain = load_scenario(LIBRARY / "tar-golang.yaml")
    asked = ["debian-12@2026.1203.1", "debian-12", "debian-13"]
    assert images_of(latest, asked) == ["debian-12", "debian-13"]
    assert images_of(plain, asked) == asked
    assert images_of(plain, None) == list(plain.images)

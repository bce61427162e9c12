"""Builds of a recipe as image versions: each build's version from its time, every cached build
of a recipe listed (the current key's and older keys'), the recipe's image definition, and the
CLI forms that name a version (`vmapp images list`, `--image NAME@VERSION`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli import main
from harness.gallery.names import parse_version
from harness.images.build import (
    BuiltImage,
    builds,
    find_build,
    images_dir,
    version_name,
    version_of,
)
from harness.images.recipe import find_recipe, image_title, load_recipe
from harness.settings import REPO_ROOT


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path / "cache"


def build(name: str, key: str, built_at: str | None) -> BuiltImage:
    """A cache entry as a build leaves it (only its manifest: nothing here boots it)."""
    folder = images_dir() / f"{name}-{key}"
    folder.mkdir(parents=True)
    manifest = {"name": name, "key": key, **({"built_at": built_at} if built_at else {})}
    (folder / "image.json").write_text(json.dumps(manifest))
    return BuiltImage(name, key, folder)


@pytest.mark.parametrize(("built_at", "version"), [
    ("2026-12-03T06:43:47Z", "2026.1203.64347"),
    ("2026-01-03T00:00:05Z", "2026.103.5"),
    ("2027-10-31T23:59:59Z", "2027.1031.235959"),
    ("yesterday", ""), (None, ""), ("2026-12-03 06:43:47", "")])
def test_a_builds_version_is_its_time(built_at: str | None, version: str) -> None:
    assert version_name(built_at) == version
    if version:
        assert parse_version(version) is not None  # a name the gallery takes


def test_a_later_build_is_a_higher_version() -> None:
    times = ["2026-01-09T23:59:59Z", "2026-01-10T00:00:00Z", "2026-10-01T00:00:00Z",
             "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"]
    numbers = [parse_version(version_name(t)) for t in times]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)


def test_every_build_of_a_recipe_is_listed_oldest_first(cache: Path) -> None:
    newest = build("debian-12", "cccccccccccc", "2026-12-03T06:43:47Z")
    oldest = build("debian-12", "aaaaaaaaaaaa", "2026-12-03T05:26:47Z")
    middle = build("debian-12", "bbbbbbbbbbbb", "2026-12-03T06:37:02Z")
    build("debian-12", "dddddddddddd", None)  # no time: no version
    build("debian-12", "eeeeeeeeeeee", "2026-12-03T06:37:02Z")  # the same second as middle
    build("debian-12-slim", "ffffffffffff", "2026-12-04T00:00:00Z")  # another recipe
    (images_dir() / "debian-12-000000000000").mkdir()  # a cut build: no manifest
    assert builds("debian-12") == [oldest, middle, newest]
    assert [b.version for b in builds("debian-12")] == [
        "2026.1203.52647", "2026.1203.63702", "2026.1203.64347"]
    assert find_build("debian-12", version="2026.1203.63702") == middle
    assert find_build("debian-12", key="cccccccccccc") == newest
    assert find_build("debian-12", version="2026.1203.1") is None
    assert builds("debian-13") == []
    assert version_of("debian-12", "bbbbbbbbbbbb") == "2026.1203.63702"
    assert version_of("debian-12@2026.1203.64347", "cccccccccccc") == "2026.1203.64347"
    assert version_of("debian-12", "host") == ""  # a local machine's: no build


def test_a_recipes_image_definition_defaults_and_can_be_set(tmp_path: Path) -> None:
    assert find_recipe("debian-12").gallery.__dict__ == {
        "publisher": "vmapp-harness", "offer": "debian", "sku": "12", "os_type": "Linux",
        "os_state": "Generalized", "hyper_v_generation": "V2"}
    assert (find_recipe("windows-wine").gallery.offer,
            find_recipe("windows-wine").gallery.os_type) == ("windows", "Windows")
    (tmp_path / "configure.sh").write_text("true\n")
    (tmp_path / "alpine.yaml").write_text(
        "name: alpine\nsuite: bookworm\nmirror: http://x\npackages: []\n"
        "configure: configure.sh\n"
        "gallery: {publisher: Contoso, sku: 3-gen1, hyperVGeneration: V1}\n")
    identity = load_recipe(tmp_path / "alpine.yaml").gallery
    assert (identity.publisher, identity.offer, identity.sku, identity.hyper_v_generation) == (
        "Contoso", "alpine", "3-gen1", "V1")


def test_images_list_shows_each_builds_version(cache: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    current = find_recipe("debian-12").key
    build("debian-12", current, "2026-12-03T06:43:47Z")
    build("debian-12", "aaaaaaaaaaaa", "2026-12-03T05:26:47Z")
    assert main(["images", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"debian-12      {current:14} yes      2026-12-03T06:43:47Z  2026.1203.64347" in lines
    assert (f"{'':14} aaaaaaaaaaaa   other    2026-12-03T05:26:47Z  2026.1203.52647" in lines)


def test_image_at_version_names_a_cached_build(cache: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    build("debian-12", "aaaaaaaaaaaa", "2026-12-03T05:26:47Z")
    scenario = str(REPO_ROOT / "scenarios" / "tar-golang.yaml")
    assert main(["list", "--image", "debian-12@2026.1203.52647", scenario]) == 0
    assert "tar-golang[debian-12@2026.1203.52647]" in capsys.readouterr().out
    assert main(["list", "--image", "debian-12@2026.1203.64347", scenario]) == 2
    assert capsys.readouterr().err.strip() == (
        "vmapp: --image: no build of debian-12 has the image version '2026.1203.64347' (its "
        "builds here: 2026.1203.52647; `vmapp images list`)")


def test_an_image_version_of_a_stand_in_still_says_so() -> None:
    assert image_title("windows-wine@2026.1203.92800") == \
        "windows-wine@2026.1203.92800 (wine stand-in)"
    assert image_title("debian-12@2026.1203.64347") == "debian-12@2026.1203.64347"

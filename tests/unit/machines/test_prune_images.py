"""`vmapp images prune`: what a changed or deleted recipe leaves behind is found and removed
(cache folders, Vagrant's box in a scratch VAGRANT_HOME, pool copies in libvirt's test driver)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest

from harness.cli import images as cli_images
from harness.cli import main
from harness.images.build import BuiltImage, cached, images_dir, stale_images
from harness.images.recipe import find_recipe
from harness.machines import libvirtd
from harness.machines.vagrantcli import ensure_box, remove_box
from tests.unit.machines.conftest import POOL, add_volume, tiny_box


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    yield tmp_path / "cache"


def fake_build(name: str, key: str) -> BuiltImage:
    folder = images_dir() / f"{name}-{key}"
    folder.mkdir(parents=True)
    (folder / "image.json").write_text(json.dumps({"name": name, "key": key}))
    return BuiltImage(name, key, folder)


def test_only_builds_no_recipe_produces_are_stale(cache: Path) -> None:
    current = fake_build("debian-12", find_recipe("debian-12").key)
    changed = fake_build("debian-12", "000000000000")
    gone = fake_build("debian-7", "abcdefabcdef")
    (images_dir() / "half-built").mkdir()  # no image.json: a build in progress, not ours to judge
    stale = stale_images()
    assert [(i.name, i.key, i.folder) for i in stale] == [
        (changed.name, changed.key, changed.folder), (gone.name, gone.key, gone.folder)]
    assert current.folder not in {i.folder for i in stale}


def test_box_volumes_go_by_box_name(conn: libvirt.virConnect) -> None:
    prefix = libvirtd.box_volume_prefix("vmapp/debian-12-000000000000")
    assert prefix == "vmapp-VAGRANTSLASH-debian-12-000000000000_vagrant_box_image_"
    add_volume(conn, prefix + "0_1_box.img")
    add_volume(conn, libvirtd.box_volume_prefix("vmapp/debian-12-111111111111") + "0_2_box.img")
    assert libvirtd.remove_box_volumes(conn, "vmapp/debian-12-000000000000") == [
        prefix + "0_1_box.img"]
    left = conn.storagePoolLookupByName(POOL).listVolumes()
    assert not [v for v in left if v.startswith(prefix)]
    assert any("111111111111" in v for v in left)


def test_vagrant_box_is_added_then_removed(cache: Path, tmp_path: Path) -> None:
    image = fake_build("debian-12", "000000000000")
    tiny_box(image.box_file, tmp_path / "box")
    boxes = cache / "vagrant.d" / "boxes" / "vmapp-VAGRANTSLASH-debian-12-000000000000"
    ensure_box(image)
    assert boxes.is_dir()
    assert remove_box(image) is True
    assert not boxes.exists()
    assert remove_box(image) is False


@pytest.mark.parametrize("content", ["{cut", '["not", "a", "manifest"]', '{"name": 12}', ""])
def test_a_corrupt_cache_entry_is_listed_as_corrupt_and_pruned(
        cache: Path, content: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    recipe = find_recipe("debian-12")
    folder = fake_build("debian-12", recipe.key).folder
    (folder / "image.json").write_text(content)
    assert cached(recipe) is None  # a run builds it again
    assert [(i.name, i.key, i.folder) for i in stale_images()] == [
        ("debian-12", recipe.key, folder)]
    assert main(["images", "list"]) == 0
    out = capsys.readouterr().out
    assert f"debian-12      {recipe.key:14} corrupt" in out
    assert f"corrupt cache entry {folder}: unreadable image.json" in out
    removed: list[str] = []
    monkeypatch.setattr(cli_images.libvirtd, "ensure_daemons", lambda: None)
    monkeypatch.setattr(cli_images.libvirtd, "open_connection",
                        lambda: libvirt.open("test:///default"))
    monkeypatch.setattr(cli_images, "remove_box", lambda image: removed.append(image.box_name))
    assert main(["images", "prune"]) == 0
    assert removed == [f"vmapp/debian-12-{recipe.key}"] and not folder.exists()

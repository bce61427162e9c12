"""Image recipes (images/*.yaml): every one loads, names a suite the host's debootstrap can
build, and a recipe's mistakes are refused naming the file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import ConfigErrors
from harness.images.recipe import RECIPES_DIR, find_recipe, load_recipe, recipe_names

DEBOOTSTRAP_SCRIPTS = Path("/usr/share/debootstrap/scripts")


def copy_recipe(tmp_path: Path, name: str, edit: tuple[str, str] = ("", "")) -> Path:
    """``name``'s recipe and configure script in ``tmp_path``, with one text replacement."""
    (tmp_path / "scripts").mkdir(parents=True)
    shutil.copy(RECIPES_DIR / "scripts" / "configure-debian.sh", tmp_path / "scripts")
    path = tmp_path / f"{name}.yaml"
    path.write_text((RECIPES_DIR / f"{name}.yaml").read_text().replace(*edit))
    return path


def test_the_four_debian_releases_have_recipes_debootstrap_can_build() -> None:
    names = recipe_names()
    assert {"debian-11", "debian-12", "debian-13", "debian-testing"} <= set(names)
    for name in names:
        recipe = find_recipe(name)
        assert (DEBOOTSTRAP_SCRIPTS / recipe.suite).exists(), (name, recipe.suite)


def test_the_testing_image_says_it_moves_and_keeps_initramfs_tools() -> None:
    recipe = find_recipe("debian-testing")
    assert recipe.suite == "testing" and "moving" in recipe.description
    assert "initramfs-tools" in recipe.packages
    assert recipe.late_packages == ("linux-image-amd64",)
    assert find_recipe("debian-11").late_packages == ()


def test_late_packages_are_part_of_the_cache_key(tmp_path: Path) -> None:
    plain = load_recipe(copy_recipe(tmp_path / "plain", "debian-11"))
    late = load_recipe(copy_recipe(tmp_path / "late", "debian-11",
                                   ("configure:", "late_packages: [jq]\nconfigure:")))
    assert late.late_packages == ("jq",) and late.key != plain.key


def test_a_suite_the_builder_does_not_know_is_refused_with_file_line_and_field(
        tmp_path: Path) -> None:
    path = copy_recipe(tmp_path, "debian-11", ("suite: bullseye", "suite: buster"))
    with pytest.raises(ConfigErrors) as err:
        load_recipe(path)
    line = path.read_text().splitlines().index("suite: buster") + 1
    assert str(err.value).startswith(f"{path}:{line} suite: ")
    assert "buster" in str(err.value) and "testing" in str(err.value)

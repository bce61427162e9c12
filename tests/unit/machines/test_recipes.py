"""Image recipes: the wine stand-in's (a second configure script, its guest kind, its label) and
how reports title an image by its recipe."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.errors import ConfigError, ConfigErrors
from harness.images.recipe import RECIPES_DIR, find_recipe, image_title, load_recipe


def test_the_stand_in_recipe_runs_both_scripts_in_order_and_is_labelled() -> None:
    recipe = find_recipe("windows-wine")
    assert (recipe.guest, recipe.label, recipe.suite) == ("wine-standin", "wine stand-in", "trixie")
    assert [s.name for s in recipe.scripts] == ["configure-debian.sh", "configure-wine.sh"]
    assert {"wine", "wine64"} <= set(recipe.packages)
    debian = find_recipe("debian-13")
    assert (debian.guest, debian.label, debian.configure_after) == ("linux-systemd", "", ())


def test_reports_title_a_labelled_image_with_its_label() -> None:
    assert image_title("windows-wine") == "windows-wine (wine stand-in)"
    assert image_title("debian-12") == "debian-12"
    assert image_title("gone-image") == "gone-image"  # a merged report from elsewhere
    assert image_title("windows-wine@2026.1203.92800") == (
        "windows-wine@2026.1203.92800 (wine stand-in)")
    long = "\u00e9" * 300  # a results file's image name: a path this long raised OSError
    assert image_title(long) == long and image_title("../../etc/x") == "../../etc/x"


def recipe_copy(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    for script in (RECIPES_DIR / "scripts").iterdir():
        shutil.copy(script, tmp_path / "scripts" / script.name)
    path = tmp_path / "windows-wine.yaml"
    path.write_text((RECIPES_DIR / "windows-wine.yaml").read_text())
    return path


def test_every_configure_script_is_in_the_cache_key(tmp_path: Path) -> None:
    path = recipe_copy(tmp_path)
    before = load_recipe(path).key
    with (tmp_path / "scripts" / "configure-wine.sh").open("a") as script:
        script.write("true\n")
    assert load_recipe(path).key != before


def test_a_missing_later_script_is_named_with_its_line(tmp_path: Path) -> None:
    path = recipe_copy(tmp_path)
    path.write_text(path.read_text().replace("configure-wine.sh", "configure-vine.sh"))
    with pytest.raises(ConfigError) as caught:
        load_recipe(path)
    line = path.read_text().splitlines().index(
        "configure_after: [scripts/configure-vine.sh]") + 1
    assert str(caught.value).startswith(f"{path}:{line} configure_after[0]: no such script: ")


def test_an_unknown_guest_kind_is_refused(tmp_path: Path) -> None:
    path = recipe_copy(tmp_path)
    path.write_text(path.read_text().replace("guest: wine-standin", "guest: windoze"))
    with pytest.raises(ConfigErrors) as caught:
        load_recipe(path)
    assert "guest" in str(caught.value) and "wine-standin" in str(caught.value)

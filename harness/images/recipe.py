"""Image recipes (``images/<name>.yaml``): what to build, and the cache key derived from it."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, ConfigErrors
from harness.images.identity import GalleryIdentity, gallery_identity
from harness.images.userbox import BoxRecipe, load_box_recipe
from harness.schema import Field, Validator, suggest
from harness.settings import REPO_ROOT
from harness.yamldoc import load_file

RECIPES_DIR = REPO_ROOT / "images"
BUILDER_VERSION = "1"
# How the agent runs in a guest of the image: the Linux extension under systemd, the Windows
# extension in a wine prefix (harness/machines/winestandin.py), or on a user's own Windows box
# (harness/images/userbox.py: a recipe of another kind, nothing built).
GUESTS = ("linux-systemd", "wine-standin", "windows")

SCHEMA = {
    "name": Field(str, required=True),
    "description": Field(str),
    "suite": Field(str, required=True, choices=("bullseye", "bookworm", "trixie", "testing")),
    "mirror": Field(str, required=True),
    "packages": Field(list, required=True, items=Field(str)),
    "late_packages": Field(list, items=Field(str)),
    "configure": Field(str, required=True),
    "configure_after": Field(list, items=Field(str)),
    "guest": Field(str, choices=GUESTS),
    "label": Field(str),
    "disk_gib": Field(int, minimum=2, maximum=64),
    # The image definition its builds are published under in a scenario's gallery (seed 003's
    # identifier and properties); every key has a default (see ``GalleryIdentity``).
    "gallery": Field(dict, keys={
        "publisher": Field(str),
        "offer": Field(str),
        "sku": Field(str),
        "osType": Field(str, choices=("Linux", "Windows")),
        "osState": Field(str, choices=("Generalized", "Specialized")),
        "hyperVGeneration": Field(str, choices=("V1", "V2")),
    }),
    "readiness": Field(dict, keys={
        "boot_seconds": Field(int, minimum=10),
        "ssh_seconds": Field(int, minimum=10),
    }),
}


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    suite: str
    mirror: str
    packages: tuple[str, ...]
    # Installed by apt in the new root after debootstrap: apt weighs what is already there where
    # debootstrap takes the first of "a | b" (forky's kernel: dracut, which initramfs-tools
    # conflicts with).
    late_packages: tuple[str, ...]
    configure: Path
    configure_after: tuple[Path, ...]  # more scripts, run in the image after ``configure``
    guest: str  # one of GUESTS
    label: str  # shown beside the image's name wherever reports name it ("wine stand-in")
    disk_gib: int
    boot_seconds: int
    ssh_seconds: int
    source: Path
    gallery: GalleryIdentity  # its image definition in a scenario's gallery

    @property
    def key(self) -> str:
        """Changes whenever anything that goes into the image changes."""
        digest = hashlib.sha256(BUILDER_VERSION.encode())
        digest.update(self.source.read_bytes())
        for script in self.scripts:
            digest.update(script.read_bytes())
        return digest.hexdigest()[:12]

    @property
    def scripts(self) -> tuple[Path, ...]:
        """The configure scripts, in the order they run."""
        return (self.configure, *self.configure_after)


AnyRecipe = Recipe | BoxRecipe


def load_recipe(path: Path) -> AnyRecipe:
    doc = load_file(path)
    if isinstance(doc.data, dict) and doc.data.get("guest") == "windows":
        return load_box_recipe(doc, path)
    check = Validator(doc)
    check.mapping(doc.data, SCHEMA)
    if check.errors:
        raise ConfigErrors(check.errors)
    data = doc.data
    if data["name"] != path.stem:
        raise doc.error(("name",), f"must match the file name {path.stem!r}")
    scripts = []
    for where, name in [(("configure",), data["configure"]), *(
            (("configure_after", index), name)
            for index, name in enumerate(data.get("configure_after", [])))]:
        script = (path.parent / name).resolve()
        if not script.is_file():
            raise doc.error(where, f"no such script: {script}")
        scripts.append(script)
    readiness = data.get("readiness", {})
    guest = data.get("guest", GUESTS[0])
    return Recipe(
        name=data["name"], description=data.get("description", ""), suite=data["suite"],
        mirror=data["mirror"], packages=tuple(data["packages"]),
        late_packages=tuple(data.get("late_packages", ())), configure=scripts[0],
        configure_after=tuple(scripts[1:]), guest=guest,
        label=data.get("label", ""),
        disk_gib=data.get("disk_gib", 4), boot_seconds=readiness.get("boot_seconds", 240),
        ssh_seconds=readiness.get("ssh_seconds", 240), source=path,
        gallery=gallery_identity(data["name"], guest, data.get("gallery", {})),
    )


def recipe_names(directory: Path = RECIPES_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def unknown_image(name: str, directory: Path = RECIPES_DIR) -> str | None:
    """Why ``name`` is not an image the harness can build (with a "did you mean"), or None."""
    known = recipe_names(directory)
    if name in known:
        return None
    return (f"no image recipe named {name!r}{suggest(name, known)} "
            f"(known: {', '.join(known) or 'none'})")


def split_image(image: str) -> tuple[str, str]:
    """A cell's image, ``NAME`` or ``NAME@VERSION`` (one image version of recipe NAME's):
    ``(NAME, VERSION)``, the version "" when none is named."""
    name, _, version = image.partition("@")
    return name, version


@functools.cache
def image_title(name: str) -> str:
    """How reports, logs and JUnit names show an image: its name, and its recipe's label if it
    has one ("windows-wine (wine stand-in)"), so that no result of a stand-in passes for one
    of the real thing; ``NAME@VERSION`` (one image version) is labelled as NAME.  An image
    without a recipe here (a merged report from elsewhere) is shown by name."""
    base = split_image(name)[0]  # any text (a results file's): never a path to look at
    try:
        label = load_recipe(RECIPES_DIR / f"{base}.yaml").label if base in recipe_names() else ""
    except (ConfigError, ConfigErrors):  # a broken recipe is reported where it is used
        label = ""
    return f"{name} ({label})" if label else name


def find_recipe(name: str, directory: Path = RECIPES_DIR) -> AnyRecipe:
    problem = unknown_image(name, directory)
    if problem is not None:
        raise ConfigError(problem=problem, field="image")
    return load_recipe(directory / f"{name}.yaml")

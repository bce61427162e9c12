"""The cell's VM in the gallery's terms.

Every cached build of a recipe is an image version of the recipe's image definition in the
cell's gallery (publisher/offer/SKU, OS type and state, Hyper-V generation from the recipe; the
version from the build's time, ``BuiltImage.version``), replicated to the gallery's and the VM's
regions unless the scenario's ``gallery.images`` says otherwise.  The VM is then PUT with the
image reference the scenario names (or the version of a ``NAME@VERSION`` cell) through the same
path `vmapp gallery replay` takes for a VM, so ``latest``, ``excludeFromLatest``, regional
exclusion and replication are the model's and a refusal is the seeds' text; the cell boots the
build the model resolved the reference to.  Apart from ``prepare`` (a fresh host builds the
recipe first), nothing here reads more than the cache's manifests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.errors import ConfigError, HarnessError
from harness.gallery import ServiceError
from harness.gallery.names import region_key
from harness.gallery.publish import ImageFacts, publish_requests
from harness.images.build import BuiltImage, builds, find_build
from harness.images.recipe import find_recipe, recipe_names, split_image
from harness.runner.goal import RESOURCE_GROUP, SUBSCRIPTION, CellGallery
from harness.scenario.images import NEWEST
from harness.scenario.model import ImageChoice, Scenario

VM_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
         "/providers/Microsoft.Compute/virtualMachines/vmapp-vm")


class TooFewVersions(HarnessError):
    """The scenario needs more image versions (cached builds) of a recipe than this host has:
    the cell is skipped, saying so."""


@dataclass(frozen=True)
class VmImage:
    """What the service made of the VM's image reference."""

    reference: str  # storageProfile.imageReference.id as the VM's PUT named it
    version: str  # the image version it resolved to (what ``latest`` meant)
    build: BuiltImage  # that version's build: what the cell boots


@dataclass(frozen=True)
class Placed:
    """The VM's create: its image, or the service's refusal (then there is no VM)."""

    reference: str
    image: VmImage | None = None
    refused: str | None = None


def asked(scenario: Scenario, image: str) -> ImageChoice | None:
    """What the cell's VM asks the gallery for: the scenario's own reference, else the version
    of a ``NAME@VERSION`` cell; None for neither (the recipe's current build, booted as is)."""
    if scenario.vm_image is not None:
        return scenario.vm_image
    version = split_image(image)[1]
    return ImageChoice(version=version) if version else None


def _definitions(name: str, choice: ImageChoice) -> list[str]:
    """The recipes published: the cell's, and the one an ``imageReference.id`` names."""
    return [d for d in dict.fromkeys([name, choice.definition]) if d in recipe_names()]


def _enough(scenario: Scenario, name: str) -> None:
    """The cell's definition has the versions the scenario needs, or the cell is skipped."""
    wanted = scenario.gallery_images.get(name)
    have = len(builds(name))
    if wanted is not None and have < wanted.needs_versions:
        raise TooFewVersions(
            f"needs {wanted.needs_versions} image versions of {name} (gallery.images.{name}."
            f"needs_versions), this host has {have} cached build(s) of it (an older build "
            "stays as an older version: `vmapp images list`)")


def _options(scenario: Scenario, name: str, versions: list[BuiltImage]
             ) -> dict[str, dict[str, Any]]:
    """``gallery.images.<name>.versions`` by version name (``newest``: the highest)."""
    names = [b.version for b in versions]
    wanted = scenario.gallery_images.get(name)
    if wanted is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for selector, options in wanted.versions.items():
        version = names[-1] if selector == NEWEST and names else selector
        if version not in names:
            raise ConfigError(
                problem=f"no build of {name} has the version {selector!r} on this host "
                f"(its builds: {', '.join(names) or 'none'})", file=str(scenario.file),
                field=f"gallery.images.{name}.versions")
        found[version] = options
    return found


def publish_images(gallery: CellGallery, scenario: Scenario, names: list[str]) -> None:
    """PUT each recipe's image definition and every cached build of it as a version (the
    gallery's own ``publish_requests``, with the scenario's options over its publishingProfile);
    a definition or version the service refuses is recorded as the app versions' refusals are
    ("NAME", "NAME@VERSION")."""
    same = region_key(scenario.vm_location) == region_key(scenario.location)
    for name in names:
        identity = find_recipe(name).gallery
        versions = builds(name)
        options = _options(scenario, name, versions)
        for build in versions:
            requests = publish_requests(gallery.gallery_id, ImageFacts(
                name=name, publisher=identity.publisher, offer=identity.offer,
                sku=identity.sku, os_type=identity.os_type, os_state=identity.os_state,
                hyper_v_generation=identity.hyper_v_generation, version=build.version,
                region=scenario.location, target_regions=() if same else (scenario.vm_location,)))
            body = requests.version_body
            body["properties"]["publishingProfile"].update(options.get(build.version, {}))
            try:  # the definition's PUT again for each version: an update that changes nothing
                gallery.service.put(requests.definition_path, requests.definition_body)
            except ServiceError as error:  # two recipes with one publisher/offer/SKU
                gallery.publish_errors[name] = str(error)
                break
            try:
                gallery.service.put(requests.version_path, body)
            except ServiceError as error:
                gallery.publish_errors[f"{name}@{build.version}"] = str(error)


def _reference(gallery: CellGallery, name: str, version: str) -> str:
    if version == NEWEST:
        versions = builds(name)
        version = versions[-1].version if versions else version
    return f"{gallery.gallery_id}/images/{name}/versions/{version}"


def place_vm(gallery: CellGallery, scenario: Scenario, image: str,
             prepare: Callable[[str], None]) -> Placed | None:
    """Publish the images and PUT the cell's VM with the image reference it asks for; None when
    it asks for none.  ``prepare`` makes sure the recipe's current build exists (a fresh host
    has none yet).  A reference the service accepts but that is no image a cell can boot (not
    a gallery image, or another recipe's than the cell's) is a ConfigError."""
    choice = asked(scenario, image)
    if choice is None:
        return None
    name = split_image(image)[0]
    prepare(name)
    _enough(scenario, name)
    publish_images(gallery, scenario, _definitions(name, choice))
    reference = choice.reference_id or _reference(gallery, choice.definition or name,
                                                  choice.version)
    recipe = find_recipe(name).gallery
    properties: dict[str, Any] = {"storageProfile": {"imageReference": {"id": reference}}}
    if recipe.os_state == "Generalized":
        kind = "windowsConfiguration" if recipe.os_type == "Windows" else "linuxConfiguration"
        properties["osProfile"] = {"computerName": "vmapp-guest", "adminUsername": "vagrant",
                                   kind: {}}
    try:
        gallery.service.put(VM_ID, {"location": scenario.vm_location, "properties": properties})
    except ServiceError as error:
        return Placed(reference, refused=str(error))
    got = gallery.service.deployed_image(VM_ID)
    field = "vm.imageReference.id" if choice.reference_id else "vm.image"
    if got is None:
        raise ConfigError(problem=f"{reference!r} is not a gallery image: a cell boots the "
                          "builds of its gallery's image definitions", file=str(scenario.file),
                          field=field)
    definition = got.definition_id.rsplit("/", 1)[-1].lower()
    build = find_build(definition, version=got.version)
    if definition != name or build is None:
        raise ConfigError(problem=f"boots the image definition {definition!r}, the cell's image "
                          f"is {name!r}: run it on {definition} (images: [{definition}])",
                          file=str(scenario.file), field=field)
    return Placed(reference, image=VmImage(reference, got.version, build))

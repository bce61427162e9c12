"""The VM's image in the gallery's terms (``vm.image``, ``vm.imageReference``) and the
publishing options of image versions (``gallery.images``): checked when the file loads, as far
as a file can tell (which builds exist is a cell's business: the cache of the host it runs on).
"""

from __future__ import annotations

from typing import Any

from harness.gallery.names import parse_version
from harness.gallery.routes import parse_reference
from harness.images.recipe import recipe_names, unknown_image
from harness.scenario.model import GalleryImage, ImageChoice
from harness.schema import Validator, suggest

LATEST, NEWEST = "latest", "newest"  # newest: the definition's highest version, by its name
VERSION_HINT = ("a version name Major.Minor.Patch (a build's, e.g. 2026.1203.64347: `vmapp "
                "images list` shows them)")


def _version_name(check: Validator, path: tuple[str | int, ...], name: object,
                  allowed: tuple[str, ...]) -> None:
    if str(name) not in allowed and parse_version(str(name)) is None:
        check.fail(path, f"{name!r} is not {', '.join(allowed)} or {VERSION_HINT}"
                   f"{suggest(str(name), list(allowed))}")


def _only_image(check: Validator, data: dict[str, Any], path: tuple[str, ...],
                definition: str, what: str) -> None:
    images = data.get("images") if check.clean(("images",)) else None
    if images is not None and list(images) != [definition]:
        check.fail(path, f"{what} the image definition {definition!r}: the scenario runs on "
                   f"that image only (images: [{definition}], or leave images out)")


def vm_image(check: Validator, data: dict[str, Any]) -> ImageChoice | None:
    """What ``vm.image`` / ``vm.imageReference`` ask for (None: neither); a definition named
    (``vm.image.definition``, or a recipe's in the id) is the scenario's only image."""
    vm = data.get("vm") if check.clean(("vm",)) else None
    if not isinstance(vm, dict) or not ({"image", "imageReference"} & set(vm)):
        return None
    if "image" in vm and "imageReference" in vm:
        check.fail(("vm", "imageReference"), "give vm.image or vm.imageReference, not both")
        return None
    if "image" in vm:
        version, definition = vm["image"]["version"], vm["image"].get("definition", "")
        _version_name(check, ("vm", "image", "version"), version, (LATEST, NEWEST))
        problem = unknown_image(definition) if definition else None
        if problem is not None:
            check.fail(("vm", "image", "definition"),
                       f"{problem}; an image definition is a recipe's name")
        elif definition:
            _only_image(check, data, ("vm", "image", "definition"), definition, "is")
        return ImageChoice(version=version, definition=definition)
    reference = vm["imageReference"]["id"]
    route = parse_reference(reference, ("image", "imageVersion"))
    named = route.definition.lower() if route is not None else ""
    definition = named if named in recipe_names() else ""
    if definition:
        _only_image(check, data, ("vm", "imageReference", "id"), definition, "names")
    return ImageChoice(reference_id=reference, definition=definition)


def gallery_images(check: Validator, data: dict[str, Any]) -> dict[str, GalleryImage]:
    """``gallery.images``: each definition (a recipe) with its versions' options (by version
    name or ``newest``) and the number of versions its cells need."""
    gallery = data.get("gallery")
    raw = gallery.get("images") if isinstance(gallery, dict) else None
    found: dict[str, GalleryImage] = {}
    for name, body in raw.items() if isinstance(raw, dict) else ():
        path: tuple[str | int, ...] = ("gallery", "images", name)
        if not check.clean(path):  # the schema's error says what is wrong
            continue
        problem = unknown_image(str(name))
        if problem is not None:
            check.fail(path, f"{problem}; an image definition is a recipe's name")
            continue
        versions = body.get("versions", {})
        for version in versions:
            _version_name(check, (*path, "versions", version), version, (NEWEST,))
        found[name] = GalleryImage({str(v): dict(o) for v, o in versions.items()},
                                   body.get("needs_versions", 1))
    return found

"""What an image reference may become after a VM or scale set exists (seed 003): a VM's disks
were copied from its image, so its reference stays; a scale set's may change to an image of the
same OS type, also when its former image is outside the model (a managed image)."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    SUB,
    VMSS,
    define,
    error,
    machine,
    ok,
    vm_id,
)

from harness.gallery import GalleryService

MANAGED = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Compute/images/base"
MARKETPLACE = {"publisher": "Debian", "offer": "debian-12", "sku": "12", "version": "latest"}
CHANGED = (409, "PropertyChangeNotAllowed", "Changing property 'imageReference' is not allowed.")


def reference_of(body: dict[str, Any]) -> dict[str, Any]:
    holder = body["properties"].get("virtualMachineProfile", body["properties"])
    reference: dict[str, Any] = holder["storageProfile"]["imageReference"]
    return reference


def with_reference(body: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, Any]:
    storage = body["properties"].get("virtualMachineProfile", body["properties"])[
        "storageProfile"]
    storage.pop("imageReference")
    if reference is not None:
        storage["imageReference"] = reference
    return body


# -- a VM's image reference (seed 003: its disks are copies of the image's VHDs) ---------------

@pytest.mark.parametrize("second", ["other-gallery-image", "marketplace", "managed"])
def test_a_vms_image_reference_cannot_change(gallery: GalleryService, second: str) -> None:
    first = define(gallery, "first")
    ok(gallery.request("PUT", vm_id(), machine(first)), 201)
    other = {"other-gallery-image": {"id": define(gallery, "other")},
             "marketplace": MARKETPLACE, "managed": {"id": MANAGED}}[second]
    assert error(gallery.request("PUT", vm_id(), with_reference(machine(first), other))) == (
        CHANGED)
    patch = {"properties": {"storageProfile": {"imageReference": other}}}
    assert error(gallery.request("PATCH", vm_id(), patch)) == CHANGED


def test_a_marketplace_vm_keeps_its_marketplace_image(gallery: GalleryService) -> None:
    body = with_reference(machine("unused"), MARKETPLACE)
    ok(gallery.request("PUT", vm_id(), body), 201)
    newer = with_reference(machine("unused"), {**MARKETPLACE, "sku": "12-gen2"})
    assert error(gallery.request("PUT", vm_id(), newer)) == CHANGED
    same = with_reference(machine("unused"), {k: v.upper() for k, v in MARKETPLACE.items()})
    ok(gallery.request("PUT", vm_id(), same), 200)


def test_a_vm_updated_with_its_own_answer_or_without_a_reference_keeps_its_image(
        gallery: GalleryService) -> None:
    image = define(gallery, versions=("1.0.0", "2.0.0"))
    created = ok(gallery.request("PUT", vm_id(), machine(f"{image}/versions/LATEST")), 201)
    assert reference_of(created)["exactVersion"] == "2.0.0"
    sent_back = with_reference(machine(image), {**reference_of(created), "id": (
        f"{image}/versions/latest".upper())})
    ok(gallery.request("PUT", vm_id(), sent_back), 200)
    kept = ok(gallery.request("PUT", vm_id(), with_reference(machine(image), None)), 200)
    assert reference_of(kept) == {"id": f"{image}/versions/LATEST", "exactVersion": "2.0.0"}
    assert error(gallery.request("PUT", vm_id(), machine(image)))[2] == CHANGED[2]


# -- a scale set's image from a managed image (seed 003 FAQ) ----------------------------------

SWAP_OS = ("The scale set image reference can only change to an image with the same OS type, "
           "Hyper-V generation and data disk layout: {image} has OS type Linux, the current "
           "image Windows.")


def windows_scale_set(reference: dict[str, Any]) -> dict[str, Any]:
    body = with_reference(machine("unused", kind=VMSS), reference)
    profile = body["properties"]["virtualMachineProfile"]
    profile["storageProfile"]["osDisk"] = {"osType": "Windows", "createOption": "FromImage"}
    return body


def test_scale_set_from_a_managed_image_keeps_its_os_type(gallery: GalleryService) -> None:
    path = vm_id("ss", kind=VMSS)
    ok(gallery.request("PUT", path, windows_scale_set({"id": MANAGED})), 201)
    linux = define(gallery, "linux")
    swap = {"properties": {"virtualMachineProfile": {"storageProfile": {
        "osDisk": {"osType": None}, "imageReference": {"id": linux}}}}}
    assert error(gallery.request("PATCH", path, swap)) == (
        400, "InvalidParameter", SWAP_OS.format(image=linux))
    windows = define(gallery, "windows", os_type="Windows")
    swap["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = {
        "id": windows}
    got = ok(gallery.request("PATCH", path, swap), 200)
    assert reference_of(got) == {"id": windows, "exactVersion": "1.0.0"}

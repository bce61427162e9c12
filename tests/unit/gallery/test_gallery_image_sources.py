"""Image version sources (seed 003): what a source can be, VHDs, and capturing what the model
knows (another gallery's image version, a VM of the model) into an image definition."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    RG,
    SUB,
    error,
    gallery_body,
    gallery_id,
    image_body,
    image_id,
    ok,
    vm_body,
    vm_id,
)

from harness.gallery import GalleryService

VER = "galleryImageVersion.properties"
COMPUTE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute"


@pytest.fixture
def gallery(svc: GalleryService) -> GalleryService:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    ok(svc.request("PUT", image_id(), image_body()), 201)
    return svc


def put_version(svc: GalleryService, storage: dict[str, Any], image: str = "img",
                version: str = "1.0.0", location: str = "eastus") -> Any:
    return svc.request("PUT", f"{image_id(image)}/versions/{version}", {
        "location": location, "properties": {"publishingProfile": {},
                                             "storageProfile": storage}})


@pytest.mark.parametrize("source", [
    f"{COMPUTE}/virtualMachines/vm", f"{COMPUTE}/disks/d", f"{COMPUTE}/snapshots/s",
    f"{COMPUTE}/images/i", f"{gallery_id('far')}/images/x/versions/1.0.0"])
def test_sources_the_seed_lists(gallery: GalleryService, source: str) -> None:
    ok(put_version(gallery, {"source": {"id": source}}), 201)


@pytest.mark.parametrize("storage,parameter", [
    ({"source": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/"
                       "storageAccounts/sa"}}, "storageProfile.source.id"),
    ({"source": {"id": "myImage"}}, "storageProfile.source.id"),
    ({"source": {"id": f"{gallery_id()}/images/x"}}, "storageProfile.source.id"),
    ({"osDiskImage": {"source": {"id": f"{COMPUTE}/availabilitySets/a"}}},
     "storageProfile.osDiskImage.source.id"),
    ({"source": {"virtualMachineId": f"{COMPUTE}/disks/d"}},
     "storageProfile.source.virtualMachineId"),
])
def test_other_sources_are_refused(gallery: GalleryService, storage: dict[str, Any],
                                   parameter: str) -> None:
    value = storage.get("source") or storage["osDiskImage"]["source"]
    assert error(put_version(gallery, storage)) == (
        400, "InvalidParameter", f"The value '{next(iter(value.values()))}' of parameter "
        f"'{VER}.{parameter}' is not valid: the source can be a VM, managed disk, snapshot, "
        "managed image, or another image version.")


def test_vhd_source_needs_its_storage_account(gallery: GalleryService) -> None:
    uri = "https://sa.blob.core.windows.net/vhds/os.vhd"
    assert error(put_version(gallery, {"osDiskImage": {"source": {"uri": uri}}}))[2] == (
        f"Required parameter '{VER}.storageProfile.osDiskImage.source.storageAccountId' is "
        "missing (null).")
    account = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/" \
              "storageAccounts/sa"
    ok(put_version(gallery, {"osDiskImage": {"source": {"uri": uri,
                                                        "storageAccountId": account}}}), 201)


MISMATCH = ("Image definition {definition} holds image versions of {what} {expected}; the "
            "source {source} is {actual}.")


@pytest.mark.parametrize("props,what,expected,actual", [
    ({"os_type": "Windows"}, "OS type", "Linux", "Windows"),
    ({"os_state": "Specialized"}, "OS state", "Generalized", "Specialized"),
    ({"hyperVGeneration": "V2"}, "Hyper-V generation", "V1", "V2"),
])
def test_image_version_source_must_match_the_definition(
        gallery: GalleryService, props: dict[str, Any], what: str, expected: str,
        actual: str) -> None:
    ok(gallery.request("PUT", image_id("src"), image_body(sku="src", **props)), 201)
    ok(put_version(gallery, {"source": {"id": f"{COMPUTE}/images/i"}}, image="src"), 201)
    source = f"{image_id('src')}/versions/1.0.0"
    assert error(put_version(gallery, {"source": {"id": source}})) == (
        400, "InvalidParameter", MISMATCH.format(definition="gal/img", what=what,
                                                 expected=expected, source=source,
                                                 actual=actual))


def test_image_version_source_of_the_same_kind_is_accepted(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id("src"), image_body(sku="src")), 201)
    ok(put_version(gallery, {"source": {"id": f"{COMPUTE}/images/i"}}, image="src"), 201)
    ok(put_version(gallery, {"source": {"id": f"{image_id('src')}/versions/1.0.0"}}), 201)


def model_vm(svc: GalleryService, *, location: str = "eastus", **props: Any) -> str:
    body = vm_body(location=location)
    body["properties"].update(props)
    ok(svc.request("PUT", vm_id(), body), 201)
    return vm_id()


@pytest.mark.parametrize("key", ["id", "virtualMachineId"])
def test_captured_vm_is_in_the_versions_region(gallery: GalleryService, key: str) -> None:
    vm = model_vm(gallery, location="westus")
    assert error(put_version(gallery, {"source": {key: vm}})) == (
        400, "InvalidParameter", f"The source {vm} is in westus; the image version is created "
        "in eastus and its source must be in the same location.")


def test_captured_vm_must_match_the_definition_os_type(gallery: GalleryService) -> None:
    vm = model_vm(gallery, storageProfile={"osDisk": {"osType": "Windows"}})
    assert error(put_version(gallery, {"source": {"virtualMachineId": vm}}))[2] == (
        MISMATCH.format(definition="gal/img", what="OS type", expected="Linux", source=vm,
                        actual="Windows"))


def test_nvme_vm_is_captured_only_into_nvme_definitions(gallery: GalleryService) -> None:
    vm = model_vm(gallery, storageProfile={"osDisk": {"osType": "Linux"},
                                           "diskControllerType": "NVMe"})
    assert error(put_version(gallery, {"source": {"virtualMachineId": vm}}))[2] == (
        "NVMe VMs and disks can only be captured in image definitions that are tagged to be "
        "supporting NVMe.")
    nvme = [{"name": "DiskControllerTypes", "value": "SCSI, NVMe"}]
    ok(gallery.request("PUT", image_id("nvme"), image_body(sku="nvme", features=nvme)), 201)
    ok(put_version(gallery, {"source": {"virtualMachineId": vm}}, image="nvme"), 201)


def test_accelerated_networking_definition_captures_only_such_vms(
        gallery: GalleryService) -> None:
    accelerated = [{"name": "IsAcceleratedNetworkSupported", "value": "True"}]
    ok(gallery.request("PUT", image_id("an"), image_body(sku="an", features=accelerated)), 201)
    vm = model_vm(gallery)
    assert error(put_version(gallery, {"source": {"virtualMachineId": vm}}, image="an"))[2] == (
        "Image definition gal/an sets IsAcceleratedNetworkSupported=True: capturing VMs that "
        "don't support accelerated networking is not supported.")


# -- API versions the seed's FAQ names ---------------------------------------------------------

VM_SOURCE = {"source": {"virtualMachineId": f"{COMPUTE}/virtualMachines/far"}}
VHD_SOURCE = {"osDiskImage": {"source": {
    "uri": "https://sa.blob.core.windows.net/vhds/os.vhd",
    "storageAccountId": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/"
                        "storageAccounts/sa"}}}


@pytest.mark.parametrize("storage,account,what,minimum,old", [
    (None, "Standard_ZRS", "storageAccountType Standard_ZRS", "2019-03-01", "2018-06-01"),
    (VM_SOURCE, None, "storageProfile.source.virtualMachineId", "2023-07-03", "2022-03-03"),
    (VHD_SOURCE, None, "storageProfile.osDiskImage.source.storageAccountId", "2022-03-03",
     "2021-10-01"),
])
def test_properties_need_their_api_version(gallery: GalleryService, storage: Any,
                                           account: str | None, what: str, minimum: str,
                                           old: str) -> None:
    body = {"location": "eastus", "properties": {
        "publishingProfile": {"storageAccountType": account} if account else {},
        "storageProfile": storage or {"source": {"id": f"{COMPUTE}/images/i"}}}}
    path = f"{image_id()}/versions/1.0.0"
    assert error(gallery.request("PUT", f"{path}?api-version={old}", body)) == (
        400, "InvalidParameter", f"The property '{what}' is not supported in api-version "
        f"'{old}': it needs api-version {minimum} or later.")
    ok(gallery.request("PUT", f"{path}?api-version={minimum}", body), 201)
    ok(gallery.request("PUT", path, body), 200)


# -- disks of a captured VM (seed 004: at most 1 TB; seed 003: shallow up to 32 TB) -----------

def test_captured_vm_disks_are_at_most_1_tb(gallery: GalleryService) -> None:
    vm = model_vm(gallery, storageProfile={
        "osDisk": {"osType": "Linux", "diskSizeGB": 30},
        "dataDisks": [{"lun": 0, "diskSizeGB": 1024}, {"lun": 1, "diskSizeGB": 1025}]})
    assert error(put_version(gallery, {"source": {"virtualMachineId": vm}})) == (
        400, "InvalidParameter", "The disk 'vm/dataDisks[1]' is 1025 GB; disks of full "
        "replicated image versions must be at most 1024 GB.")
    ok(gallery.request("PUT", f"{image_id()}/versions/1.0.0", {
        "location": "eastus", "properties": {
            "publishingProfile": {"replicationMode": "Shallow"},
            "storageProfile": {"source": {"virtualMachineId": vm}}}}), 201)

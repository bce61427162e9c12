"""Image versions over time (seeds 003, 004): replication before deployment, regions kept by the
safety profile, locations, deletion while VMs use a version, and community images across
tenants."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    NOW,
    OTHER,
    SUB,
    ScriptedProbe,
    error,
    gallery_body,
    gallery_id,
    image_body,
    image_id,
    image_version_body,
    ok,
    regions,
    replay_example,
    vm_body,
    vm_id,
)

from harness.gallery import GalleryService

NOT_IN_WESTUS = ("The gallery image {ref} is not available in westus region. Please contact "
                 "image owner to replicate to this region, or change your requested region.")


def vm(image: str, location: str = "eastus", **props: Any) -> dict[str, Any]:
    body = vm_body(os_type=None, image=image, location=location)
    body["properties"].update(props)
    return body


@pytest.fixture
def gallery(svc: GalleryService) -> GalleryService:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    ok(svc.request("PUT", image_id(), image_body()), 201)
    return svc


def put_version(svc: GalleryService, version: str, **profile: Any) -> Any:
    return svc.request("PUT", f"{image_id()}/versions/{version}", image_version_body(**profile))


def test_deploy_only_once_replicated_to_the_region(probe: ScriptedProbe) -> None:
    svc = GalleryService(now=NOW, link_probe=probe, replication="manual")
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    ok(svc.request("PUT", image_id(), image_body()), 201)
    ok(put_version(svc, "1.0.0", targetRegions=regions("eastus", "westus")), 201)
    latest = f"{image_id()}/versions/latest"
    assert error(svc.request("PUT", vm_id(), vm(latest, "westus")))[2] == (
        NOT_IN_WESTUS.format(ref=latest))
    svc.settle()
    got = ok(svc.request("PUT", vm_id(), vm(latest, "westus")), 201)
    assert got["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0"


def test_safety_profile_keeps_an_image_versions_regions(gallery: GalleryService) -> None:
    body = image_version_body(targetRegions=regions("eastus", "westus"))
    body["properties"]["safetyProfile"] = {"allowDeletionOfReplicatedLocations": False}
    ok(gallery.request("PUT", f"{image_id()}/versions/1.0.0", body), 201)
    body["properties"]["publishingProfile"]["targetRegions"] = regions("eastus")
    assert error(gallery.request("PUT", f"{image_id()}/versions/1.0.0", body)) == (
        400, "OperationNotAllowed", "Removing replicated regions westus is not allowed: "
        "safetyProfile.allowDeletionOfReplicatedLocations is false.")


def test_definition_and_version_may_live_in_other_locations(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id("far"), image_body(sku="far", location="westus")), 201)
    ok(gallery.request("PUT", f"{image_id('far')}/versions/1.0.0", image_version_body(
        location="westus2", targetRegions=regions("westus2"))), 201)


def test_deleting_a_version_vms_use(gallery: GalleryService) -> None:
    for version in ("1.0.0", "2.0.0"):
        ok(put_version(gallery, version), 201)
    ok(gallery.request("PUT", vm_id(), vm(image_id())), 201)
    assert gallery.request("DELETE", f"{image_id()}/versions/2.0.0").status == 202
    assert gallery.get(vm_id())["properties"]["storageProfile"]["imageReference"][
        "exactVersion"] == "2.0.0"
    again = ok(gallery.request("PUT", vm_id("next"), vm(image_id())), 201)
    assert again["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0"
    pinned = f"{image_id()}/versions/2.0.0"
    assert error(gallery.request("PUT", vm_id("pinned"), vm(pinned)))[0] == 404
    assert error(gallery.request("DELETE", image_id())) == (
        409, "CannotDeleteResource", "Can not delete resource before nested resources are "
        "deleted.")


def test_flexible_scale_set_from_a_community_image_of_another_tenant(
        svc: GalleryService) -> None:
    svc.set_tenant(SUB, "tenant-a")
    svc.set_tenant(OTHER, "tenant-b")
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={
        "permissions": "Community", "communityGalleryInfo": {"publicNamePrefix": "c"}})), 201)
    ok(svc.request("POST", f"{gallery_id()}/share", {"operationType": "EnableCommunity"}))
    ok(svc.request("PUT", image_id(), image_body()), 201)
    ok(put_version(svc, "1.0.0"), 201)
    [name] = ok(svc.request("GET", gallery_id()))["properties"]["sharingProfile"][
        "communityGalleryInfo"]["publicNames"]
    community = vm("unused")
    community["properties"]["storageProfile"]["imageReference"] = {
        "communityGalleryImageId": f"/CommunityGalleries/{name}/Images/img"}
    body = {"location": "eastus", "properties": {
        "orchestrationMode": "Flexible", "virtualMachineProfile": community["properties"]}}
    path = vm_id("ss", OTHER, "virtualMachineScaleSets")
    assert error(svc.request("PUT", path, body))[2] == (
        "You can't currently create a Flexible virtual machine scale set from an image shared "
        "by another tenant.")
    ok(svc.request("PUT", vm_id("vm", OTHER), community), 201)


def test_a_vm_keeps_its_version_a_scale_set_model_moves_to_latest(
        gallery: GalleryService) -> None:
    ok(put_version(gallery, "1.0.0"), 201)
    scale_set = vm_id("ss", kind="virtualMachineScaleSets")
    model = {"location": "eastus", "properties": {
        "virtualMachineProfile": vm(image_id())["properties"]}}
    ok(gallery.request("PUT", vm_id(), vm(image_id())), 201)
    ok(gallery.request("PUT", scale_set, model), 201)
    ok(put_version(gallery, "2.0.0"), 201)
    again = ok(gallery.request("PUT", vm_id(), vm(image_id())), 200)
    assert again["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0"
    moved = ok(gallery.request("PUT", scale_set, model), 200)
    assert moved["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"][
        "exactVersion"] == "2.0.0"


def test_images_example_through_vmapp_gallery_replay(
        capsys: pytest.CaptureFixture[str]) -> None:
    answers = replay_example("images.json", capsys)
    assert [a["status"] for a in answers] == [201, 201, 201, 201, 201, 400, 201, 400, 400]
    vm1 = answers[6]["body"]["properties"]["storageProfile"]["imageReference"]
    assert vm1["exactVersion"] == "1.1.0"
    assert answers[7]["body"]["error"]["message"].endswith("the VM asks for ConfidentialVM.")
    assert "is not available in westus2 region" in answers[8]["body"]["error"]["message"]


def test_galleries_and_definitions_named_like_collections(svc: GalleryService) -> None:
    gallery = gallery_id("images")
    ok(svc.request("PUT", gallery, gallery_body()), 201)
    ok(svc.request("PUT", f"{gallery}/images/versions", image_body()), 201)
    ok(svc.request("PUT", f"{gallery}/images/versions/versions/1.0.0", image_version_body()),
       201)
    got = ok(svc.request("PUT", vm_id(), vm(f"{gallery}/images/versions")), 201)
    assert got["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.0.0"
    ok(svc.request("PUT", f"{gallery}/providers/Microsoft.Authorization/roleAssignments/r", {
        "properties": {"roleDefinitionId": "reader", "principalId": OTHER}}), 201)
    ok(svc.request("PUT", vm_id(sub=OTHER), vm(f"{gallery}/images/versions")), 201)

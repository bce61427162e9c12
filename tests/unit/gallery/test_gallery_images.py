"""Image definitions and versions (seeds 003/004): identifiers, required fields, what may change,
latest with regional precedence, shallow replication, limits."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    NOW,
    ScriptedProbe,
    error,
    gallery_body,
    gallery_id,
    image_body,
    image_id,
    image_version_body,
    ok,
    regions,
    small_limits,
)

from harness.gallery import GalleryService

DEF = "galleryImage.properties"


def put_version(svc: GalleryService, version: str, image: str = "img", **profile: Any) -> Any:
    return svc.request("PUT", f"{image_id(image)}/versions/{version}",
                       image_version_body(**profile))


def test_definition_defaults_and_required_fields(gallery: GalleryService) -> None:
    body = ok(gallery.request("PUT", image_id(), image_body()), 201)
    assert body["properties"]["hyperVGeneration"] == "V1"
    bad = image_body()
    del bad["properties"]["osState"]
    assert error(gallery.request("PUT", image_id("b"), bad)) == (
        400, "InvalidParameter", f"Required parameter '{DEF}.osState' is missing (null).")
    bad = image_body()
    del bad["properties"]["identifier"]["sku"]
    assert error(gallery.request("PUT", image_id("c"), bad))[2] == (
        f"Required parameter '{DEF}.identifier.sku' is missing (null).")
    assert "expected one of V1, V2" in error(gallery.request(
        "PUT", image_id("d"), image_body(hyperVGeneration="V3")))[2]


def test_publisher_offer_sku_unique_per_gallery(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id("myImage1"), image_body("Contoso", "Finance",
                                                               "Backend")), 201)
    ok(gallery.request("PUT", image_id("myImage2"), image_body("Contoso", "Finance",
                                                               "Frontend")), 201)
    ok(gallery.request("PUT", image_id("myImage3"), image_body("Testing", "Finance",
                                                               "Frontend")), 201)
    assert error(gallery.request("PUT", image_id("dup"), image_body("contoso", "finance",
                                                                    "backend"))) == (
        409, "Conflict", "An image definition with publisher 'contoso', offer 'finance' and sku "
        "'backend' already exists in gallery 'gal' (myImage1).")
    ok(gallery.request("PUT", f"{gallery_id('other')}", gallery_body()), 201)
    ok(gallery.request("PUT", image_id("dup", "other"), image_body()), 201)


def test_features_and_security_types(gallery: GalleryService) -> None:
    trusted = [{"name": "SecurityType", "value": "TrustedLaunch"}]
    assert "requires hyperVGeneration V2" in error(gallery.request(
        "PUT", image_id("t1"), image_body(features=trusted)))[2]
    ok(gallery.request("PUT", image_id("t2"), image_body(features=trusted,
                                                         hyperVGeneration="V2")), 201)
    supported = [{"name": "SecurityType", "value": "ConfidentialVMSupported"}]
    assert error(gallery.request("PUT", image_id("t5"), image_body(features=supported)))[2] == (
        f"The value 'V1' of parameter '{DEF}.hyperVGeneration' is not valid: SecurityType "
        "'ConfidentialVMSupported' requires hyperVGeneration V2.")
    bad = [{"name": "IsHibernateSupported", "value": "Maybe"}]
    assert "expected one of True, False" in error(gallery.request(
        "PUT", image_id("t3"), image_body(features=bad)))[2]
    nvme = [{"name": "DiskControllerTypes", "value": "SCSI,NVMe"}]
    ok(gallery.request("PUT", image_id("t4"), image_body(features=nvme, sku="nvme")), 201)


def test_private_only_security_types_refused_in_shared_galleries(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id("shared"), gallery_body(
        sharingProfile={"permissions": "Groups"})), 201)
    features = [{"name": "SecurityType", "value": "ConfidentialVM"}]
    assert error(svc.request("PUT", image_id("cvm", "shared"), image_body(
        features=features, hyperVGeneration="V2"))) == (
        400, "InvalidParameter", "SecurityType 'ConfidentialVM' is only supported in private "
        "galleries; gallery 'shared' is shared as 'Groups'.")
    supported = [{"name": "SecurityType", "value": "ConfidentialVMSupported"}]
    ok(svc.request("PUT", image_id("cvm", "shared"), image_body(
        features=supported, hyperVGeneration="V2")), 201)


def test_recommended_bounds(gallery: GalleryService) -> None:
    bad = {"vCPUs": {"min": 8, "max": 2}}
    assert error(gallery.request("PUT", image_id(), image_body(recommended=bad)))[2] == (
        f"The value '8' of parameter '{DEF}.recommended.vCPUs.min' is not valid: min must not "
        "exceed max (2).")
    ok(gallery.request("PUT", image_id(), image_body(
        recommended={"vCPUs": {"min": 2, "max": 8}, "memory": {"min": 4, "max": 32}})), 201)


def test_definition_updatable_properties(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body(description="a")), 201)
    ok(gallery.request("PUT", image_id(), image_body(
        description="b", endOfLifeDate="2030-01-01", releaseNoteUri="https://contoso.com/r",
        recommended={"vCPUs": {"min": 1, "max": 4}})), 200)
    for change, prop in ((image_body(os_type="Windows"), "osType"),
                         (image_body(os_state="Specialized"), "osState"),
                         (image_body(sku="Other"), "identifier"),
                         (image_body(hyperVGeneration="V2"), "hyperVGeneration"),
                         (image_body(eula="https://contoso.com/eula"), "eula")):
        assert error(gallery.request("PUT", image_id(), change)) == (
            409, "PropertyChangeNotAllowed", f"Changing property '{DEF}.{prop}' is not "
            "allowed.")


def test_image_version_name_rule(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    assert error(put_version(gallery, "1.0"))[2].startswith(
        "The gallery image version name is invalid. The image version name should follow "
        "Major(int32).Minor(int32).Patch(int32) format")
    ok(put_version(gallery, "1.0.0"), 201)


def test_image_version_needs_a_source(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    body = image_version_body(storage={"osDiskImage": {}})
    assert error(gallery.request("PUT", f"{image_id()}/versions/1.0.0", body))[2] == (
        "Required parameter 'galleryImageVersion.properties.storageProfile.source.id' is "
        "missing (null).")


def test_image_version_replicas_50_per_region_and_encryption_allowed(
        gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    assert error(put_version(gallery, "1.0.0", replicaCount=51))[2] == (
        "The value 51 of parameter 'galleryImageVersion.properties.publishingProfile."
        "replicaCount' is out of range. The value must be between 1 and 50, inclusive.")
    encrypted = [{"name": "eastus", "encryption": {"osDiskImage": {"diskEncryptionSetId": "x"}}}]
    ok(put_version(gallery, "1.0.0", replicaCount=50, targetRegions=encrypted), 201)


def test_total_replicas_per_image_version(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    targets = regions("eastus", "westus", "westeurope", regionalReplicaCount=40)
    assert error(put_version(gallery, "1.0.0", targetRegions=targets))[2] == (
        "The total number of replicas of an image version (120) exceeds the maximum of 100.")
    ok(put_version(gallery, "1.0.0", targetRegions=regions("eastus", "westus",
                                                           regionalReplicaCount=50)), 201)


def test_encrypted_versions_refused_in_direct_shared_gallery(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={"permissions": "Groups"})),
       201)
    ok(svc.request("PUT", image_id(), image_body()), 201)
    encrypted = [{"name": "eastus", "encryption": {"osDiskImage": {}}}]
    assert error(put_version(svc, "1.0.0", targetRegions=encrypted))[2] == (
        "A direct shared gallery can't contain encrypted image versions.")
    ok(put_version(svc, "1.0.0"), 201)


def test_image_version_updatable_and_immutable(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    ok(put_version(gallery, "1.0.0"), 201)
    body = ok(put_version(gallery, "1.0.0", excludeFromLatest=True, endOfLifeDate="2030-01-01",
                          targetRegions=regions("eastus", "westus", regionalReplicaCount=2)),
              200)
    assert len(body["properties"]["replicationStatus"]["summary"]) == 2
    other_source = {"source": {"id": "/subscriptions/x/resourceGroups/y/providers/"
                                     "Microsoft.Compute/images/other"}}
    assert error(put_version(gallery, "1.0.0", storage=other_source)) == (
        409, "PropertyChangeNotAllowed", "Changing property "
        "'galleryImageVersion.properties.storageProfile' is not allowed.")


def test_latest_is_highest_not_excluded_with_regional_precedence(
        gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    ok(put_version(gallery, "1.9.0", targetRegions=regions("eastus", "westus")), 201)
    ok(put_version(gallery, "1.10.0", targetRegions=regions("eastus", "westus")), 201)
    ok(put_version(gallery, "2.0.0", excludeFromLatest=True, targetRegions=[
        {"name": "eastus"}, {"name": "westus", "regionalExcludeFromLatest": False}]), 201)
    ok(put_version(gallery, "1.10.1", targetRegions=[
        {"name": "eastus", "regionalExcludeFromLatest": True}, {"name": "westus"}]), 201)
    assert gallery.latest_version(image_id(), "eastus") == "1.10.0"
    assert gallery.latest_version(image_id(), "westus") == "2.0.0"
    assert gallery.latest_version(image_id()) == "1.10.1"


def test_shallow_replication(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    big = {"source": {"id": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/"
                            "snapshots/s"}, "osDiskImage": {"sizeInGB": 4096}}
    assert error(put_version(gallery, "1.0.0", storage=big))[2] == (
        "The disk 'osDiskImage' is 4096 GB; disks of full replicated image versions must be at "
        "most 1024 GB.")
    assert error(put_version(gallery, "1.0.0", storage=big, replicationMode="Shallow",
                             targetRegions=regions("eastus", "westus")))[2] == (
        "Shallow replication only supports the source region eastus as target region.")
    gallery.replication = "manual"
    body = ok(put_version(gallery, "1.0.0", storage=big, replicationMode="Shallow"), 201)
    assert body["properties"]["publishingProfile"]["replicationMode"] == "Shallow"
    assert body["properties"]["replicationStatus"]["aggregatedState"] == "Completed"


@pytest.mark.parametrize("limit,what", [("image_definitions", "image definitions"),
                                        ("image_versions", "image versions")])
def test_image_quotas_per_subscription_and_region(probe: ScriptedProbe, limit: str,
                                                  what: str) -> None:
    svc = GalleryService(now=NOW, link_probe=probe, limits=small_limits(**{limit: 1}))
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    ok(svc.request("PUT", image_id("a"), image_body(sku="a")), 201)
    ok(put_version(svc, "1.0.0", "a"), 201)
    if limit == "image_definitions":
        answer = svc.request("PUT", image_id("b"), image_body(sku="b"))
        ok(svc.request("PUT", image_id("w"), image_body(sku="w", location="westus")), 201)
    else:
        answer = put_version(svc, "1.0.1", "a")
        ok(put_version(svc, "1.0.2", "a", location="westus",
                       targetRegions=regions("westus")), 201)
    assert error(answer) == (409, "OperationNotAllowed", f"Operation results in exceeding quota "
                             f"limits of {what} per subscription per region. Maximum allowed: "
                             "1, Current in use: 1, Additional requested: 1.")


def test_null_publishing_profile_gets_defaults(gallery: GalleryService) -> None:
    ok(gallery.request("PUT", image_id(), image_body()), 201)
    body = image_version_body()
    body["properties"]["publishingProfile"] = None
    got = ok(gallery.request("PUT", f"{image_id()}/versions/1.0.0", body), 201)
    assert got["properties"]["publishingProfile"]["targetRegions"] == [
        {"name": "eastus", "regionalReplicaCount": 1, "storageAccountType": "Standard_LRS"}]


def test_os_type_must_be_linux_or_windows(gallery: GalleryService) -> None:
    assert error(gallery.request("PUT", image_id(), image_body(os_type="Mac")))[2] == (
        f"The value 'Mac' of parameter '{DEF}.osType' is not valid: expected one of Linux, "
        "Windows.")
    assert ok(gallery.request("PUT", image_id(), image_body(os_type="Windows")), 201)[
        "properties"]["osType"] == "Windows"

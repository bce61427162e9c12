"""Community galleries (seed 004): once enabled, their images are everyone's "as a new resource
type under Microsoft.Compute/communityGalleries", while the original Microsoft.Compute/galleries
resources stay private."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    OTHER,
    define,
    error,
    gallery_body,
    gallery_id,
    image_version_body,
    machine,
    ok,
    replay_example,
    vm_id,
)

from harness.gallery import GalleryService

LOCATIONS = f"/subscriptions/{OTHER}/providers/Microsoft.Compute/locations"
NOT_AUTHORIZED = (403, "AuthorizationFailed", "Subscription not authorized to access this image.")


@pytest.fixture
def community(svc: GalleryService) -> str:
    """A community gallery with image ``img`` (versions 1.0.0 and 1.1.0), not yet enabled."""
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={
        "permissions": "Community", "communityGalleryInfo": {"publicNamePrefix": "contoso"}})),
        201)
    return define(svc, versions=("1.0.0", "1.1.0"))


def enable(svc: GalleryService) -> str:
    """Enables the community gallery; returns its public name."""
    ok(svc.request("POST", f"{gallery_id()}/share", {"operationType": "EnableCommunity"}))
    [name] = ok(svc.request("GET", gallery_id()))["properties"]["sharingProfile"][
        "communityGalleryInfo"]["publicNames"]
    assert isinstance(name, str) and name.startswith("contoso-")
    return name


def community_vm(reference: dict[str, Any]) -> dict[str, Any]:
    body = machine("unused")
    body["properties"]["storageProfile"]["imageReference"] = reference
    return body


def test_community_images_are_read_under_the_public_name(svc: GalleryService,
                                                         community: str) -> None:
    name = enable(svc)
    base = f"{LOCATIONS}/eastus/communityGalleries/{name}"
    got = ok(svc.request("GET", base, caller=OTHER))
    assert (got["type"], got["identifier"]) == (
        "Microsoft.Compute/locations/communityGalleries",
        {"uniqueId": f"/CommunityGalleries/{name}"})
    [image] = ok(svc.request("GET", f"{base}/images"))["value"]
    assert image["identifier"]["uniqueId"] == f"/CommunityGalleries/{name}/Images/img"
    assert image["properties"]["osType"] == "Linux"
    versions = ok(svc.request("GET", f"{base}/images/IMG/versions"))["value"]
    assert [v["name"] for v in versions] == ["1.0.0", "1.1.0"]
    version = ok(svc.request("GET", f"{base}/images/img/versions/1.1.0"))
    assert version["properties"] == {"publishingProfile": {
        "publishedDate": "2024-06-01T00:00:00+00:00", "excludeFromLatest": False}}
    assert error(svc.request("GET", f"{base}/images/img/versions/9.9.9"))[:2] == (
        404, "ResourceNotFound")


def test_not_enabled_or_reset_community_galleries_share_nothing(svc: GalleryService,
                                                                community: str) -> None:
    name = enable(svc)
    ok(svc.request("POST", f"{gallery_id()}/share", {"operationType": "Reset"}))
    base = f"{LOCATIONS}/eastus/communityGalleries/{name}"
    assert error(svc.request("GET", base)) == (
        404, "ResourceNotFound", f"The community gallery resource '/CommunityGalleries/{name}' "
        "was not found in location 'eastus'.")
    reference = f"/CommunityGalleries/{name}/Images/img"
    assert error(svc.request("PUT", vm_id(sub=OTHER), community_vm(
        {"communityGalleryImageId": reference}))) == (
        404, "NotFound", f"The platform image {reference} isn't available. Verify that all "
        "fields in the storage profile are correct. For more details about storage profile "
        "information, please refer to https://aka.ms/storageprofile.")


def test_anyone_boots_a_community_image_and_sees_the_version_it_got(
        svc: GalleryService, community: str) -> None:
    name = enable(svc)
    for index, (reference, version) in enumerate((
            (f"/CommunityGalleries/{name}/Images/img", "1.1.0"),
                               (f"/communitygalleries/{name}/images/img/versions/latest",
                                "1.1.0"),
                               (f"/CommunityGalleries/{name}/Images/img/Versions/1.0.0",
                                "1.0.0"))):
        got = ok(svc.request("PUT", vm_id(f"vm{index}", OTHER), community_vm(
            {"communityGalleryImageId": reference})), 201)
        assert got["properties"]["storageProfile"]["imageReference"] == {
            "communityGalleryImageId": reference, "exactVersion": version}


def test_the_original_ids_of_a_community_gallery_stay_private(svc: GalleryService,
                                                             community: str) -> None:
    enable(svc)
    assert error(svc.request("PUT", vm_id(sub=OTHER), machine(community))) == NOT_AUTHORIZED
    assert error(svc.request("GET", community, caller=OTHER))[:2] == (403, "AuthorizationFailed")
    ok(svc.request("PUT", vm_id(), machine(community)), 201)


def test_community_images_follow_replication_and_latest(svc: GalleryService,
                                                        community: str) -> None:
    name = enable(svc)
    ok(svc.request("PUT", f"{community}/versions/2.0.0", image_version_body(
        excludeFromLatest=True)), 201)
    got = ok(svc.request("PUT", vm_id(sub=OTHER), community_vm(
        {"communityGalleryImageId": f"/CommunityGalleries/{name}/Images/img"})), 201)
    assert got["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.1.0"
    west = community_vm({"communityGalleryImageId": f"/CommunityGalleries/{name}/Images/img"})
    west["location"] = "westus"
    assert error(svc.request("PUT", vm_id("west", OTHER), west))[2].endswith(
        "is not available in westus region. Please contact image owner to replicate to this "
        "region, or change your requested region.")


@pytest.mark.parametrize("reference,text", [
    ({"id": "x", "communityGalleryImageId": "/CommunityGalleries/c/Images/i"},
     "The value '/CommunityGalleries/c/Images/i' of parameter "
     "'properties.storageProfile.imageReference' is not valid: give either id or "
     "communityGalleryImageId."),
    ({"communityGalleryImageId": "/CommunityGalleries/c/Pictures/i"},
     "The value '/CommunityGalleries/c/Pictures/i' of parameter "
     "'properties.storageProfile.imageReference.communityGalleryImageId' is not a valid "
     "community gallery image resource id."),
])
def test_malformed_community_references(svc: GalleryService, reference: dict[str, Any],
                                        text: str) -> None:
    assert error(svc.request("PUT", vm_id(), community_vm(reference))) == (
        400, "InvalidParameter", text)


def test_community_galleries_are_read_in_a_known_region(svc: GalleryService,
                                                        community: str) -> None:
    name = enable(svc)
    assert error(svc.request("GET", f"{LOCATIONS}/mars/communityGalleries/{name}"))[:2] == (
        400, "LocationNotAvailableForResourceType")


def test_community_example_through_vmapp_gallery_replay(
        capsys: pytest.CaptureFixture[str]) -> None:
    answers = replay_example("community.json", capsys)
    assert [a["status"] for a in answers] == [201, 201, 201, 200, 200, 201, 403, 409]
    assert answers[5]["body"]["properties"]["storageProfile"]["imageReference"][
        "exactVersion"] == "1.0.0"

"""Publishing built images: the ARM bodies from a recipe's facts, and `latest` through the model."""

from __future__ import annotations

import dataclasses

import pytest
from gallery_builders import RG, SUB, error, gallery_id, ok, vm_body, vm_id

from harness.gallery import GalleryService, ServiceError
from harness.gallery.publish import ImageFacts, PublishRequests, publish_requests, source_id

FACTS = ImageFacts(name="debian-12", publisher="Debian", offer="debian-12", sku="12-gen2",
                   os_type="Linux", os_state="Generalized", hyper_v_generation="V2",
                   version="1.0.0", region="eastus")
GROUP = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Compute"


def publish(svc: GalleryService, facts: ImageFacts) -> PublishRequests:
    requests = publish_requests(gallery_id(), facts)
    svc.put(requests.definition_path, requests.definition_body)
    svc.put(requests.version_path, requests.version_body)
    return requests


def test_bodies_from_a_recipes_facts() -> None:
    requests = publish_requests(gallery_id(), FACTS)
    assert requests.definition_path == f"{gallery_id()}/images/debian-12"
    assert requests.definition_body == {"location": "eastus", "properties": {
        "identifier": {"publisher": "Debian", "offer": "debian-12", "sku": "12-gen2"},
        "osType": "Linux", "osState": "Generalized", "hyperVGeneration": "V2"}}
    assert requests.version_path == f"{gallery_id()}/images/debian-12/versions/1.0.0"
    assert requests.version_body == {"location": "eastus", "properties": {
        "publishingProfile": {"targetRegions": [{"name": "eastus"}],
                              "excludeFromLatest": False},
        "storageProfile": {"source": {"id": f"{GROUP}/images/debian-12-1.0.0"}}}}


def test_snapshot_source_more_regions_description_and_tags() -> None:
    facts = dataclasses.replace(FACTS, source="snapshot", target_regions=("westus", "eastus"),
                                description="Debian 12", tags={"recipe": "abc"})
    requests = publish_requests(gallery_id(), facts)
    assert requests.definition_body["properties"]["description"] == "Debian 12"
    assert requests.definition_body["tags"] == requests.version_body["tags"] == {"recipe": "abc"}
    props = requests.version_body["properties"]
    assert props["storageProfile"] == {"osDiskImage": {"source": {
        "id": f"{GROUP}/snapshots/debian-12-1.0.0-osdisk"}}}
    assert props["publishingProfile"]["targetRegions"] == [{"name": "eastus"}, {"name": "westus"}]


def test_not_a_gallery_id_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="not a gallery id"):
        publish_requests(f"{gallery_id()}/images/x", FACTS)
    with pytest.raises(ValueError, match="not a gallery id"):
        source_id("/subscriptions/s", FACTS)


def test_published_versions_resolve_latest(gallery: GalleryService) -> None:
    for version in ("1.0.0", "1.1.0"):
        publish(gallery, dataclasses.replace(FACTS, version=version))
    definition = f"{gallery_id()}/images/debian-12"
    assert gallery.resolve_image(f"{definition}/versions/latest", region="eastus").version == (
        "1.1.0")
    publish(gallery, dataclasses.replace(FACTS, version="1.2.0", exclude_from_latest=True))
    resolved = gallery.resolve_image(definition, region="eastus")
    assert (resolved.version, resolved.hyper_v_generation) == ("1.1.0", "V2")
    got = ok(gallery.request("PUT", vm_id(), vm_body(os_type=None, image=definition)), 201)
    assert got["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.1.0"


def test_snapshot_published_version_is_accepted(gallery: GalleryService) -> None:
    publish(gallery, dataclasses.replace(FACTS, source="snapshot"))
    assert gallery.latest_version(f"{gallery_id()}/images/debian-12", "eastus") == "1.0.0"


def test_unreplicated_region_gives_the_seeds_error(gallery: GalleryService) -> None:
    requests = publish(gallery, FACTS)
    with pytest.raises(ServiceError) as caught:
        gallery.resolve_image(requests.version_path, region="westus")
    assert str(caught.value) == (
        f"The gallery image {requests.version_path} is not available in westus region. Please "
        "contact image owner to replicate to this region, or change your requested region.")


def test_a_build_version_the_gallery_refuses(gallery: GalleryService) -> None:
    requests = publish_requests(gallery_id(), dataclasses.replace(FACTS, version="20240601"))
    gallery.put(requests.definition_path, requests.definition_body)
    assert error(gallery.request("PUT", requests.version_path, requests.version_body))[2] == (
        "The gallery image version name is invalid. The image version name should follow "
        "Major(int32).Minor(int32).Patch(int32) format, where int is between 0 and "
        "2,147,483,647 (inclusive). e.g. 1.0.0, 2018.12.1 etc.")

"""ARM requests that publish a built image into a gallery: an image definition and a version.

Pure: the runner gives an image recipe's facts and the gallery's id, and sends the requests to
a ``GalleryService`` (or to ARM).  The version's source is a managed image or an OS disk
snapshot whose id is made up from the image's name and version, in the gallery's subscription
and resource group (the harness boots its own disk file; the id only names it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from harness.gallery.bodies import Json
from harness.gallery.routes import COMPUTE, Route, parse_path

Source = Literal["image", "snapshot"]


@dataclass(frozen=True)
class ImageFacts:
    """What a recipe and its build say about an image (seed 003's definition parameters)."""

    name: str  # the image definition's name, e.g. the recipe's "debian-12"
    publisher: str
    offer: str
    sku: str
    os_type: str  # Linux / Windows
    os_state: str  # Generalized / Specialized
    hyper_v_generation: str  # V1 / V2
    version: str  # Major.Minor.Patch, from the build
    region: str  # the version's source region
    target_regions: tuple[str, ...] = ()  # more regions to replicate to
    exclude_from_latest: bool = False
    description: str = ""
    source: Source = "image"
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PublishRequests:
    """Two PUTs, in order: the image definition, then the image version."""

    definition_path: str
    definition_body: Json
    version_path: str
    version_body: Json


def _gallery(gallery_id: str) -> Route:
    route = parse_path(gallery_id)
    if route is None or route.kind != "gallery":
        raise ValueError(f"not a gallery id: {gallery_id!r}")
    return route


def source_id(gallery_id: str, facts: ImageFacts) -> str:
    """The made-up managed image (``images/NAME-VERSION``) or OS disk snapshot
    (``snapshots/NAME-VERSION-osdisk``) the version is created from."""
    route = _gallery(gallery_id)
    group = f"/subscriptions/{route.subscription}/resourceGroups/{route.resource_group}{COMPUTE}"
    if facts.source == "snapshot":
        return f"{group}/snapshots/{facts.name}-{facts.version}-osdisk"
    return f"{group}/images/{facts.name}-{facts.version}"


def _definition_body(facts: ImageFacts) -> Json:
    props: Json = {
        "identifier": {"publisher": facts.publisher, "offer": facts.offer, "sku": facts.sku},
        "osType": facts.os_type, "osState": facts.os_state,
        "hyperVGeneration": facts.hyper_v_generation,
    }
    if facts.description:
        props["description"] = facts.description
    body: Json = {"location": facts.region, "properties": props}
    if facts.tags:
        body["tags"] = dict(facts.tags)
    return body


def _version_body(gallery_id: str, facts: ImageFacts) -> Json:
    regions = [facts.region, *(r for r in facts.target_regions if r != facts.region)]
    source = {"id": source_id(gallery_id, facts)}
    storage: Json = ({"osDiskImage": {"source": source}} if facts.source == "snapshot"
                     else {"source": source})
    body: Json = {"location": facts.region, "properties": {
        "publishingProfile": {"targetRegions": [{"name": r} for r in regions],
                              "excludeFromLatest": facts.exclude_from_latest},
        "storageProfile": storage}}
    if facts.tags:
        body["tags"] = dict(facts.tags)
    return body


def publish_requests(gallery_id: str, facts: ImageFacts) -> PublishRequests:
    """The PUTs that publish ``facts`` as version ``facts.version`` of image definition
    ``facts.name`` in the gallery ``gallery_id``.  Sending the definition's PUT again for a
    later version is an update that changes nothing."""
    definition = f"{_gallery(gallery_id).id}/images/{facts.name}"
    return PublishRequests(definition, _definition_body(facts),
                           f"{definition}/versions/{facts.version}",
                           _version_body(gallery_id, facts))


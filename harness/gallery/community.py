"""Community galleries as everyone sees them (seed 004).

"When a gallery is marked as a community gallery, all images under the gallery become available
to all Azure customers as a new resource type under Microsoft.Compute/communityGalleries. All
Azure customers can see the galleries and use them to create VMs. Your original resources of
the type Microsoft.Compute/galleries are still under your subscription, and private."

So, once ``EnableCommunity`` is done, any subscription can GET
``/subscriptions/{s}/providers/Microsoft.Compute/locations/{region}/communityGalleries/
{publicName}[/images[/{image}[/versions[/{version}]]]]`` and boot a VM from
``storageProfile.imageReference.communityGalleryImageId`` =
``/CommunityGalleries/{publicName}/Images/{image}[/Versions/{version or latest}]``; the
original ``Microsoft.Compute/galleries`` ids stay the owner's (and RBAC grantees').  Applications
are not shared this way: the seed speaks of images.  What is shown is the public metadata: the
definition's properties, and of a version its publishing dates and ``excludeFromLatest``.
"""

from __future__ import annotations

from harness.gallery.bodies import Json
from harness.gallery.core import Core
from harness.gallery.errors import fail
from harness.gallery.names import region_key
from harness.gallery.regions import KNOWN_REGIONS
from harness.gallery.render import render
from harness.gallery.resources import Gallery, ImageDefinition, ImageVersion, Resource
from harness.gallery.routes import Route
from harness.gallery.sharing import public_name

COMMUNITY_T = "Microsoft.Compute/locations/communityGalleries"
VERSION_FIELDS = ("publishedDate", "endOfLifeDate", "excludeFromLatest")


def community_gallery(core: Core, name: str) -> Gallery | None:
    """The enabled community gallery whose public name is ``name`` (any case)."""
    for resource in core.resources.values():
        if (isinstance(resource, Gallery) and resource.community and not resource.deleting
                and public_name(resource).lower() == name.lower()):
            return resource
    return None


def parse_image_id(text: str) -> tuple[str, str, str | None] | None:
    """(public name, image, version or None) of a ``communityGalleryImageId``."""
    seg = [s for s in text.split("/") if s] if text.startswith("/") else []
    literals = (("CommunityGalleries", 0), ("Images", 2), ("Versions", 4))
    if len(seg) not in (4, 6) or any(i < len(seg) and seg[i].lower() != word.lower()
                                     for word, i in literals):
        return None
    return seg[1], seg[3], seg[5] if len(seg) == 6 else None


def original_definition(core: Core, name: str, image: str) -> ImageDefinition | None:
    """The image definition a community image name stands for (None: not shared, or going)."""
    gallery = community_gallery(core, name)
    if gallery is None:
        return None
    definition = core.find_as(f"{gallery.id}/images/{image}", ImageDefinition)
    return definition if definition is not None and not definition.deleting else None


def _unique_id(route: Route) -> str:
    unique = f"/CommunityGalleries/{route.gallery}"
    if route.definition:
        unique += f"/Images/{route.definition}"
    return unique + (f"/Versions/{route.version}" if route.version else "")


def _public(route: Route, kind: str, resource: Resource, props: Json) -> Json:
    name = route.version or route.definition or route.gallery
    return {"name": name, "location": resource.location, "type": f"{COMMUNITY_T}{kind}",
            "identifier": {"uniqueId": _unique_id(route)}, "properties": props}


def _image(route: Route, definition: ImageDefinition) -> Json:
    props = render(definition)["properties"]
    props.pop("provisioningState", None)
    return _public(route, "/images", definition, props)


def _version(route: Route, version: ImageVersion) -> Json:
    profile = render(version)["properties"]["publishingProfile"]
    props = {"publishingProfile": {k: profile[k] for k in VERSION_FIELDS if k in profile}}
    return _public(route, "/images/versions", version, props)


def get_community(core: Core, route: Route) -> tuple[int, Json]:
    """A GET under ``communityGalleries``: anyone may read what an enabled gallery shares."""
    if region_key(route.location) not in KNOWN_REGIONS:
        raise fail("unknown_location", "location", location=route.location, type=COMMUNITY_T)
    missing = fail("community_not_found", name=_unique_id(route), location=route.location)
    gallery = community_gallery(core, route.gallery)
    if gallery is None:
        raise missing
    if route.kind == "communityGallery":
        return 200, _public(route, "", gallery, {"communityMetadata": {
            "publicNames": [public_name(gallery)]}})
    if route.kind == "communityImages":
        return 200, {"value": [
            _image(Route("communityImage", route.subscription, gallery=route.gallery,
                         definition=r.name, location=route.location), r)
            for r in core.children(gallery.key)
            if isinstance(r, ImageDefinition) and not r.deleting]}
    definition = original_definition(core, route.gallery, route.definition)
    if definition is None:
        raise missing
    if route.kind == "communityImage":
        return 200, _image(route, definition)
    versions = [v for v in core.versions_of(definition.key) if not v.deleting]
    if route.kind == "communityImageVersions":
        return 200, {"value": [_version(Route(
            "communityImageVersion", route.subscription, gallery=route.gallery,
            definition=route.definition, version=v.name, location=route.location), v)
            for v in versions]}
    for version in versions:
        if version.name.lower() == route.version.lower():
            return 200, _version(route, version)
    raise missing

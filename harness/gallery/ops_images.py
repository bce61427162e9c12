"""Image definitions and versions: create and update, with seed 004's per-region limits."""

from __future__ import annotations

from harness.gallery.bodies import Json
from harness.gallery.capture import check_sources
from harness.gallery.core import TYPES, Core
from harness.gallery.errors import fail
from harness.gallery.images import (
    PRIVATE_ONLY_SECURITY,
    check_definition_update,
    check_image_version_update,
    parse_definition,
    parse_image_version,
)
from harness.gallery.names import valid_image_name
from harness.gallery.render import render
from harness.gallery.replication import (
    IMAGE_VERSION,
    check_region_removal,
    parse_publishing,
    replicate,
)
from harness.gallery.resources import GROUPS, PRIVATE, Gallery, ImageDefinition, ImageVersion
from harness.gallery.routes import Route
from harness.gallery.validation import check_body_name, check_location_update

IMAGE_RULE = ("The name may be at most 80 characters long, contain only letters, digits, "
              "hyphens (-), periods (.) and underscores (_), and may not end with a period.")


def put_image(core: Core, route: Route, body: Json, operation: str) -> tuple[int, Json]:
    check_body_name(body, route.definition)
    if not valid_image_name(route.definition):
        raise fail("invalid_name", "name", kind="gallery image", name=route.definition,
                   rule=IMAGE_RULE)
    gallery = core.parent(route, operation)
    assert isinstance(gallery, Gallery)
    existing = core.find_as(route.id, ImageDefinition)
    core.not_deleting(existing, operation)
    location = core.location(body, TYPES["image"])
    fields = parse_definition(body)
    security = fields.features.security_type
    if security in PRIVATE_ONLY_SECURITY and gallery.permissions != PRIVATE:
        raise fail("security_type_private_only", "galleryImage.properties.features",
                   security_type=security, gallery=gallery.name,
                   permissions=gallery.permissions)
    base = core.base_fields(route, body, location, existing)
    if existing is not None:
        check_location_update(existing.location, location)
        check_definition_update(existing.properties, base["properties"])
    else:
        for other in core.children(gallery.key):
            if (isinstance(other, ImageDefinition)
                    and (other.publisher.lower(), other.offer.lower(), other.sku.lower())
                    == (fields.publisher.lower(), fields.offer.lower(), fields.sku.lower())):
                raise fail("identifier_taken", "galleryImage.properties.identifier",
                           publisher=fields.publisher, offer=fields.offer, sku=fields.sku,
                           gallery=gallery.name, existing=other.name)
        current = core.count(TYPES["image"], route.subscription, location)
        if current >= core.limits.image_definitions:
            raise fail("quota_exceeded", what="image definitions",
                       limit=core.limits.image_definitions, current=current)
    image = ImageDefinition(
        **base, os_type=fields.os_type, os_state=fields.os_state,
        hyper_v_generation=fields.hyper_v_generation, publisher=fields.publisher,
        offer=fields.offer, sku=fields.sku, features=fields.features)
    core.resources[image.key] = image
    return (200 if existing else 201), render(image)


def put_image_version(core: Core, route: Route, body: Json, operation: str) -> tuple[int, Json]:
    number, existing, location, _props, profile = core.start_version_put(
        route, body, operation, ImageVersion, invalid_name="invalid_image_version_name",
        body_name="galleryImageVersion")
    publishing = parse_publishing(profile, location, IMAGE_VERSION,
                                  features=core.has_features(route.subscription),
                                  restricted=core.restricted)
    total = sum(t.replicas for t in publishing.targets)
    if total > core.limits.replicas_per_image_version:
        raise fail("replicas_exceeded", "galleryImageVersion.properties.publishingProfile",
                   total=total, limit=core.limits.replicas_per_image_version)
    gallery = core.find_as(Route("gallery", route.subscription, route.resource_group,
                                 route.gallery).id, Gallery)
    if (gallery is not None and gallery.permissions == GROUPS
            and any(t.encryption is not None for t in publishing.targets)):
        raise fail("encrypted_in_shared_gallery",
                   "galleryImageVersion.properties.publishingProfile.targetRegions")
    fields = parse_image_version(body, location, publishing)
    if existing is not None:
        check_location_update(existing.location, location)
        old = parse_image_version({"properties": existing.properties}, existing.location,
                                  existing.publishing)
        check_image_version_update(old, fields, existing.publishing, publishing)
        check_region_removal(existing.publishing, publishing,
                             allowed=existing.allow_replicated_location_deletion,
                             param="galleryImageVersion")
    else:
        definition = core.find_as(Route("image", route.subscription, route.resource_group,
                                        route.gallery, route.definition).id, ImageDefinition)
        assert definition is not None  # start_version_put checked the parent
        check_sources(core, definition, fields.storage_profile, location,
                      shallow=fields.shallow)
        current = core.count(TYPES["imageVersion"], route.subscription, location)
        if current >= core.limits.image_versions:
            raise fail("quota_exceeded", what="image versions",
                       limit=core.limits.image_versions, current=current)
    # Shallow replication copies nothing, so it is ready at once (seed 003).
    immediate = core.replication == "immediate" or fields.shallow
    replication = replicate(existing.replication if existing else {}, publishing.targets,
                            immediate=immediate)
    pending = any(r.state != "Completed" for r in replication.values())
    version = ImageVersion(
        **core.base_fields(route, body, location, existing), number=number,
        publishing=publishing, replication=replication, shallow=fields.shallow,
        allow_replicated_location_deletion=fields.allow_replicated_location_deletion,
        data_disk_luns=fields.data_disk_luns,
        provisioning=("Updating" if existing else "Creating") if pending else "Succeeded",
    )
    core.resources[version.key] = version
    return (200 if existing else 201), render(version)

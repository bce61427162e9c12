"""Turning references into concrete versions, with the seeds' rows for each way it can fail.

Order of the checks for a packageReferenceId (seed 000's rows):
1. the referenced subscription has no application definitions at all -> "Storage account in
   the arguments doesn't exist." (its description: "There are no applications for this
   subscription");
2. the gallery, application or version does not exist (or is marked for deletion) -> "The
   platform image {image} isn't available ..." with the reference as written;
3. the caller's subscription may not read it -> "Subscription not authorized to access this
   image.";
4. the version is not replicated (completed) in the VM's region -> "The gallery image {image}
   is not available in {region} region ...".
Gallery image references (``storageProfile.imageReference.id``) use rows 2-4 the same way;
a community image (``communityGalleryImageId``) is readable by everyone, so rows 2 and 4.
"""

from __future__ import annotations

from typing import TypeVar

from harness.gallery.bodies import opt_date
from harness.gallery.community import original_definition, parse_image_id
from harness.gallery.core import Core
from harness.gallery.errors import fail
from harness.gallery.latest import latest
from harness.gallery.names import region_key
from harness.gallery.replication import COMPLETED, RegionReplication
from harness.gallery.resources import (
    AppEntry,
    ApplicationDefinition,
    ApplicationVersion,
    ImageDefinition,
    ImageVersion,
    ResolvedApplication,
    ResolvedImage,
)
from harness.gallery.routes import Route, parse_reference

LATEST = "latest"
V = TypeVar("V", ApplicationVersion, ImageVersion)


def _replicated(replication: dict[str, RegionReplication], region: str) -> bool:
    state = replication.get(region_key(region))
    return state is not None and state.state == COMPLETED


def _deployable(core: Core, kind: type[V], owner: ApplicationDefinition | ImageDefinition,
                pinned_id: str | None, *, region: str, caller: str | None, tenant: str | None,
                target: str, reference: str) -> V:
    """The version a reference names (or ``latest`` in the region), checked in the seeds' order:
    exists, caller may read it (``caller`` None: everyone may), replicated to the region."""
    versions: list[V] = core.versions_of(owner.key)
    version: V | None
    if pinned_id is not None:
        version = core.find_as(pinned_id, kind)
        if version is None or version.deleting:
            raise fail("image_not_available", target, image=reference)
    else:
        version = latest(versions, region_key(region))
    if caller is not None and not core.authorized(caller, tenant, version or owner):
        raise fail("not_authorized", target)
    if version is None:
        if latest(versions) is None:
            raise fail("image_not_available", target, image=reference)
        raise fail("not_in_region", target, image=reference, region=region)
    if not _replicated(version.replication, region):
        raise fail("not_in_region", target, image=reference, region=region)
    return version


def resolve_entry(core: Core, entry: AppEntry, *, region: str, caller: str,
                  tenant: str | None = None, target: str = "") -> ResolvedApplication:
    reference = entry.package_reference_id
    route = parse_reference(reference, ("applicationVersion",))
    if route is None:
        raise fail("invalid_reference", target, value=reference, parameter=target or "reference",
                   what="gallery application version")
    has_apps = any(isinstance(r, ApplicationDefinition) and not r.deleting
                   and r.subscription.lower() == route.subscription.lower()
                   for r in core.resources.values())
    if not has_apps:
        raise fail("no_applications", target)
    app_route = Route("application", route.subscription, route.resource_group, route.gallery,
                      route.definition)
    app = core.find_as(app_route.id, ApplicationDefinition)
    if app is None or app.deleting or core.gallery_of(app).deleting:
        raise fail("image_not_available", target, image=reference)
    pinned = route.version.lower() != LATEST
    version = _deployable(core, ApplicationVersion, app, route.id if pinned else None,
                          region=region, caller=caller, tenant=tenant, target=target,
                          reference=reference)
    link = entry.configuration_reference or version.package.default_configuration_link
    return ResolvedApplication(
        entry=entry, application=app.name, version=version.name, version_id=version.id,
        nested=version.nested, os_type=app.os_type, package=version.package,
        configuration_link=link, pinned=pinned, end_of_life=version.publishing.end_of_life,
    )


def resolve_image(core: Core, reference: str, *, region: str, caller: str,
                  tenant: str | None = None, target: str = "") -> ResolvedImage | None:
    """The gallery image version a VM boots; None when the reference is not a gallery image.

    A version id pins that version; ``.../versions/latest`` and the definition id alone mean
    the latest version in ``region``."""
    if "/galleries/" not in reference.lower():
        return None
    route = parse_reference(reference, ("image", "imageVersion"))
    if route is None:
        raise fail("invalid_reference", target, value=reference, parameter=target,
                   what="gallery image")
    definition = core.find_as(Route("image", route.subscription, route.resource_group,
                                    route.gallery, route.definition).id, ImageDefinition)
    if definition is None or definition.deleting or core.gallery_of(definition).deleting:
        raise fail("image_not_available", target, image=reference)
    pinned = route.kind == "imageVersion" and route.version.lower() != LATEST
    return _image(core, definition, reference, route.id if pinned else None, region=region,
                  caller=caller, tenant=tenant, target=target)


def resolve_community_image(core: Core, reference: str, *, region: str,
                            target: str = "") -> ResolvedImage:
    """The image version a ``communityGalleryImageId`` means in ``region`` (seed 004: a
    community gallery's images are everyone's, under its public name)."""
    parsed = parse_image_id(reference)
    if parsed is None:
        raise fail("invalid_reference", target, value=reference, parameter=target,
                   what="community gallery image")
    name, image, version = parsed
    definition = original_definition(core, name, image)
    if definition is None:
        raise fail("image_not_available", target, image=reference)
    pinned = version is not None and version.lower() != LATEST
    return _image(core, definition, reference,
                  f"{definition.id}/versions/{version}" if pinned else None, region=region,
                  caller=None, tenant=None, target=target, field="communityGalleryImageId")


def _image(core: Core, definition: ImageDefinition, reference: str, pinned_id: str | None, *,
           region: str, caller: str | None, tenant: str | None, target: str,
           field: str = "id") -> ResolvedImage:
    version = _deployable(core, ImageVersion, definition, pinned_id, region=region,
                          caller=caller, tenant=tenant, target=target, reference=reference)
    return ResolvedImage(
        reference=reference, definition_id=definition.id, version=version.name,
        version_id=version.id, pinned=pinned_id is not None, os_type=definition.os_type,
        os_state=definition.os_state, hyper_v_generation=definition.hyper_v_generation,
        features=definition.features, data_disk_luns=version.data_disk_luns,
        end_of_life=version.publishing.end_of_life or opt_date(
            definition.properties, "endOfLifeDate", "galleryImage.properties"), field=field)

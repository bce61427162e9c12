"""Gallery operations: create/update, share, RBAC grants, feature registration, delete.

Deletion is asynchronous, as in ARM: DELETE answers 202 and marks the resource (and nothing
else) ``Deleting``; it stays visible, refuses other writes with the "marked for deletion" row,
and disappears when the service settles (``GalleryService.settle`` / replay ``{"harness":
"settle"}``).  A resource with nested resources cannot be deleted.
"""

from __future__ import annotations

from typing import Any

from harness.gallery.bodies import Json, obj, req_str
from harness.gallery.core import GALLERY_T, Core
from harness.gallery.errors import fail
from harness.gallery.names import valid_gallery_name
from harness.gallery.render import render, render_feature, render_grant
from harness.gallery.resources import Gallery, Machine, RoleAssignment
from harness.gallery.routes import Route
from harness.gallery.sharing import apply_share, parse_share
from harness.gallery.validation import (
    check_body_name,
    check_gallery_update,
    check_location_update,
    parse_gallery,
)

GALLERY_RULE = ("Allowed characters are letters, digits, underscores and periods; it must start "
                "and end with a letter or digit and be at most 80 characters long.")


def put_gallery(core: Core, route: Route, body: Json, operation: str) -> tuple[int, Json]:
    check_body_name(body, route.gallery)
    if not valid_gallery_name(route.gallery):
        raise fail("invalid_name", "name", kind="gallery", name=route.gallery, rule=GALLERY_RULE)
    existing = core.find_as(route.id, Gallery)
    core.not_deleting(existing, operation)
    location = core.location(body, GALLERY_T)
    permissions = parse_gallery(body)
    fields = core.base_fields(route, body, location, existing)
    if existing is not None:
        check_location_update(existing.location, location)
        if permissions != existing.permissions:
            parameter = "gallery.properties.sharingProfile.permissions"
            raise fail("property_change", parameter, parameter=parameter)
        check_gallery_update(existing.properties, fields["properties"])
        gallery = Gallery(**fields, permissions=permissions,
                          shared_subscriptions=existing.shared_subscriptions,
                          shared_tenants=existing.shared_tenants, community=existing.community)
        core.resources[gallery.key] = gallery
        return 200, render(gallery)
    for other in core.resources.values():
        if (isinstance(other, Gallery) and other.name.lower() == route.gallery.lower()
                and other.subscription.lower() == route.subscription.lower()):
            raise fail("gallery_name_taken", "name", name=route.gallery,
                       subscription=route.subscription)
    current = core.count(GALLERY_T, route.subscription, location)
    if current >= core.limits.galleries:
        raise fail("quota_exceeded", what="galleries", limit=core.limits.galleries,
                   current=current)
    gallery = Gallery(**fields, permissions=permissions)
    core.resources[gallery.key] = gallery
    return 201, render(gallery)


def share(core: Core, route: Route, body: Json, operation: str) -> tuple[int, Json]:
    gallery = core.find_as(Route("gallery", route.subscription, route.resource_group,
                                 route.gallery).id, Gallery)
    if gallery is None:
        core.require(Route("gallery", route.subscription, route.resource_group, route.gallery))
    assert gallery is not None
    core.not_deleting(gallery, operation)
    apply_share(gallery, parse_share(body))
    return 200, render(gallery)["properties"]["sharingProfile"]


def put_grant(core: Core, route: Route, body: Json) -> tuple[int, Json]:
    assert route.scope is not None
    core.require(route.scope)
    props = obj(body, "properties", "roleAssignment")
    principal = req_str(props, "principalId", "roleAssignment.properties")
    role = req_str(props, "roleDefinitionId", "roleAssignment.properties")
    status = 200 if route.id.lower() in core.grants else 201
    grant = RoleAssignment(route.id.lower(), route.id, route.scope.id.lower(), principal, role)
    core.grants[grant.key] = grant
    return status, render_grant(grant)


def get_grant(core: Core, route: Route) -> tuple[int, Json]:
    grant = core.grants.get(route.id.lower())
    if grant is None:
        raise fail("resource_not_found", type="Microsoft.Authorization/roleAssignments",
                   name=route.name, group=route.resource_group)
    return 200, render_grant(grant)


def delete_grant(core: Core, route: Route) -> tuple[int, Json]:
    grant = core.grants.pop(route.id.lower(), None)
    return (200, render_grant(grant)) if grant else (204, {})


def feature(core: Core, route: Route) -> tuple[int, Json]:
    """GET a feature, or POST register/unregister (registration completes at once)."""
    full = f"microsoft.compute/{route.name.lower()}"
    registered = core.features.setdefault(route.subscription.lower(), set())
    if route.action == "register":
        registered.add(full)
    elif route.action == "unregister":
        registered.discard(full)
    return 200, render_feature(route.subscription, route.name, full in registered)


def delete(core: Core, route: Route) -> tuple[int, Json]:
    """Mark a gallery resource for deletion (VMs and scale sets go at once)."""
    resource = core.find(route.id)
    if resource is None:
        return 204, {}
    if isinstance(resource, Machine):
        del core.resources[resource.key]
        return 202, {}
    if any(not isinstance(child, Machine) for child in core.children(resource.key)):
        raise fail("nested_resources")
    resource.deleting = True
    return 202, {}


def settle(core: Core, path: str | None = None) -> None:
    """Finish what is in progress: pending replication completes, deletions take effect."""
    prefix = path.lower() if path else ""
    for key, resource in list(core.resources.items()):
        if prefix and not (key == prefix or key.startswith(prefix + "/")):
            continue
        if resource.deleting:
            del core.resources[key]
            for grant_key in [k for k, g in core.grants.items() if g.scope_key == key]:
                del core.grants[grant_key]
            continue
        replication: Any = getattr(resource, "replication", None)
        if replication:
            for state in replication.values():
                state.state = "Completed"
        resource.provisioning = "Succeeded"

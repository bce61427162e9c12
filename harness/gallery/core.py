"""The control plane's state and the lookups every operation shares.

Holds resources by lower-cased id, RBAC grants, registered features and known tenants, plus
the settings a service is built with.  ``now`` is given, never read from a clock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from harness.gallery.bodies import Json, obj
from harness.gallery.errors import Wording, fail
from harness.gallery.links import LinkProbe, no_storage
from harness.gallery.names import VersionNumber, parse_version, region_key
from harness.gallery.regions import DEFAULT_RESTRICTED, KNOWN_REGIONS
from harness.gallery.resources import (
    ApplicationVersion,
    Gallery,
    ImageVersion,
    Resource,
    RoleAssignment,
)
from harness.gallery.routes import Route
from harness.gallery.sharing import can_read
from harness.gallery.validation import check_body_name

GALLERY_T = "Microsoft.Compute/galleries"
TYPES = {
    "gallery": GALLERY_T,
    "application": f"{GALLERY_T}/applications",
    "applicationVersion": f"{GALLERY_T}/applications/versions",
    "image": f"{GALLERY_T}/images",
    "imageVersion": f"{GALLERY_T}/images/versions",
    "vm": "Microsoft.Compute/virtualMachines",
    "vmss": "Microsoft.Compute/virtualMachineScaleSets",
}
R = TypeVar("R", bound=Resource)
# A gallery resource's key is its canonical id, lower-cased: "/subscriptions/S/resourcegroups/
# RG/providers/microsoft.compute/galleries/G[/images|applications/D[/versions/V]]".  Its
# gallery's key is the first 9 "/"-separated parts, its definition's the first 11 (names may
# be "images" or "versions": the parts are counted, not searched for).
GALLERY_SEGMENTS, DEFINITION_SEGMENTS = 9, 11


def _key_prefix(resource: Resource, segments: int) -> str:
    return "/".join(resource.key.split("/")[:segments])


@dataclass(frozen=True)
class Limits:
    """Seed 004's per-subscription, per-region limits (smaller values make tests cheap)."""

    galleries: int = 100
    image_definitions: int = 1000
    image_versions: int = 10_000
    replicas_per_image_version: int = 100


@dataclass
class Core:
    now: datetime
    link_probe: LinkProbe = no_storage
    wording: Wording = "current"
    replication: str = "immediate"  # or "manual": regions stay Replicating until settle()
    restricted: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RESTRICTED))
    limits: Limits = field(default_factory=Limits)
    resources: dict[str, Resource] = field(default_factory=dict)
    grants: dict[str, RoleAssignment] = field(default_factory=dict)
    features: dict[str, set[str]] = field(default_factory=dict)
    tenants: dict[str, str] = field(default_factory=dict)

    # -- lookups -----------------------------------------------------------------------------
    def find(self, key: str) -> Resource | None:
        return self.resources.get(key.lower())

    def find_as(self, key: str, kind: type[R]) -> R | None:
        found = self.find(key)
        return found if isinstance(found, kind) else None

    def children(self, key: str) -> Iterator[Resource]:
        """Every resource nested under ``key`` (at any depth)."""
        prefix = key.lower() + "/"
        return (r for k, r in self.resources.items() if k.startswith(prefix))

    def versions_of(self, definition_key: str) -> list[Any]:
        prefix = definition_key.lower() + "/versions/"
        return [r for k, r in self.resources.items()
                if k.startswith(prefix) and isinstance(r, ApplicationVersion | ImageVersion)]

    def ancestors(self, route: Route) -> list[Resource]:
        """The existing gallery and definition above ``route`` (outermost first)."""
        found = []
        gallery = self.find(Route("gallery", route.subscription, route.resource_group,
                                  route.gallery).id)
        if gallery is not None:
            found.append(gallery)
        if route.definition and route.kind not in ("application", "image", "applications",
                                                    "images"):
            single = "application" if "application" in route.kind else "image"
            definition = self.find(Route(single, route.subscription, route.resource_group,
                                         route.gallery, route.definition).id)
            if definition is not None:
                found.append(definition)
        return found

    def gallery_of(self, resource: Resource) -> Gallery:
        key = _key_prefix(resource, GALLERY_SEGMENTS)
        gallery = self.find_as(key, Gallery)
        assert gallery is not None, key
        return gallery

    def count(self, type_: str, subscription: str, location: str) -> int:
        region = region_key(location)
        return sum(1 for r in self.resources.values()
                   if r.type == type_ and r.subscription.lower() == subscription.lower()
                   and region_key(r.location) == region)

    def has_features(self, subscription: str) -> set[str]:
        return self.features.get(subscription.lower(), set())

    # -- shared checks -----------------------------------------------------------------------
    def parent(self, route: Route, operation: str) -> Resource:
        """The resource a PUT nests under: it must exist and not be marked for deletion."""
        chain = self.ancestors(route)
        needed = 1 if route.kind in ("application", "image", "share") else 2
        if len(chain) < needed:
            names = [route.gallery, route.definition][:needed]
            raise fail("parent_not_found", parent="/".join(names[:len(chain) + 1]))
        for ancestor in chain:
            if ancestor.deleting:
                raise fail("marked_for_deletion", operation_name=operation,
                           application=ancestor.nested)
        return chain[-1]

    def not_deleting(self, resource: Resource | None, operation: str) -> None:
        if resource is not None and resource.deleting:
            raise fail("marked_for_deletion", operation_name=operation, application=resource.nested)

    def require(self, route: Route) -> Resource:
        found = self.find(route.id)
        if found is None:
            nested = "/".join(p for p in (route.gallery, route.definition, route.version,
                                          route.name) if p)
            raise fail("resource_not_found", type=TYPES.get(route.kind, route.kind),
                       name=nested, group=route.resource_group)
        return found

    def start_version_put(self, route: Route, body: Json, operation: str, kind: type[R], *,
                          invalid_name: str, body_name: str
                          ) -> tuple[VersionNumber, R | None, str, Json, Json]:
        """The checks every version PUT (application or image) begins with, in the service's
        order; returns the version number, the stored version, location, properties and
        publishing profile."""
        number = parse_version(route.version)
        if number is None:
            raise fail(invalid_name, "name")
        check_body_name(body, route.version)
        self.parent(route, operation)
        existing = self.find_as(route.id, kind)
        self.not_deleting(existing, operation)
        location = self.location(body, TYPES[route.kind])
        props = obj(body, "properties", body_name)
        return number, existing, location, props, obj(props, "publishingProfile",
                                                      f"{body_name}.properties")

    def location(self, body: Mapping[str, Any], type_: str) -> str:
        location = body.get("location")
        if not isinstance(location, str) or not location.strip():
            raise fail("location_required", "location")
        if region_key(location) not in KNOWN_REGIONS:
            raise fail("unknown_location", "location", location=location, type=type_)
        return location

    def base_fields(self, route: Route, body: Mapping[str, Any], location: str,
                    existing: Resource | None) -> dict[str, Any]:
        """Constructor arguments every resource shares."""
        nested = "/".join(p for p in (route.gallery, route.definition, route.version,
                                      route.name) if p)
        param = "resource"
        tags: Json = obj(body, "tags", param)
        return dict(
            key=route.id.lower(), id=existing.id if existing else route.id,
            type=TYPES[route.kind], name=route.version or route.definition or route.name
            or route.gallery, nested=existing.nested if existing else nested,
            subscription=route.subscription, resource_group=route.resource_group,
            location=location, properties=copy.deepcopy(obj(body, "properties", param)),
            tags=dict(tags),
            created=existing.created if existing else self.now,
        )

    def authorized(self, caller: str, tenant: str | None, resource: Resource) -> bool:
        """May ``caller`` read ``resource``: grants on it, its definition or its gallery count."""
        gallery = self.gallery_of(resource)
        scopes = [gallery.key, _key_prefix(resource, DEFINITION_SEGMENTS), resource.key]
        tenant = tenant or self.tenants.get(caller.lower())
        return can_read(caller, tenant, gallery, scopes, self.grants.values())

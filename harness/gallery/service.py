"""``GalleryService``: the in-memory control plane, one method per REST operation.

``request(method, path, body)`` answers like ARM (a ``Response`` with status and body, errors
in ARM's envelope).  Scenario code can use the typed helpers instead: ``put``/``get``/``delete``
raise ``ServiceError``; ``resolve`` and ``resolve_profile`` turn packageReferenceIds into the
concrete versions a VM would receive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.gallery import ops_apps, ops_gallery, ops_images, ops_vms
from harness.gallery.api_versions import check_api_version
from harness.gallery.bodies import Json, merge
from harness.gallery.community import get_community
from harness.gallery.core import TYPES, Core, Limits
from harness.gallery.errors import ServiceError, Wording, fail
from harness.gallery.latest import latest
from harness.gallery.links import LinkProbe, no_storage
from harness.gallery.names import region_key
from harness.gallery.profiles import parse_entries
from harness.gallery.regions import DEFAULT_RESTRICTED
from harness.gallery.render import render
from harness.gallery.resolve import resolve_entry, resolve_image
from harness.gallery.resources import AppEntry, Machine, ResolvedApplication, ResolvedImage
from harness.gallery.routes import Route, parse_path, strip_path

GALLERY_KINDS = ("gallery", "application", "applicationVersion", "image", "imageVersion")
COLLECTIONS = {"applications": "gallery", "images": "gallery",
               "applicationVersions": "application", "imageVersions": "image"}
PUTS = {"gallery": ops_gallery.put_gallery, "application": ops_apps.put_application,
        "applicationVersion": ops_apps.put_application_version,
        "image": ops_images.put_image, "imageVersion": ops_images.put_image_version}


@dataclass(frozen=True)
class Response:
    status: int
    body: Json

    def as_json(self) -> Json:
        return {"status": self.status, "body": self.body}


class GalleryService:
    """The control plane.  ``now`` is given (and may be moved); nothing here reads a clock."""

    def __init__(
        self, *, now: datetime, link_probe: LinkProbe = no_storage,
        wording: Wording = "current", replication: str = "immediate",
        restricted: Mapping[str, str] | None = None, limits: Limits | None = None,
    ) -> None:
        if replication not in ("immediate", "manual"):
            raise ValueError(f"replication must be 'immediate' or 'manual', not {replication!r}")
        self.core = Core(now=now, link_probe=link_probe, wording=wording,
                         replication=replication,
                         restricted=dict(DEFAULT_RESTRICTED if restricted is None
                                         else restricted),
                         limits=limits or Limits())

    @property
    def now(self) -> datetime:
        return self.core.now

    @now.setter
    def now(self, value: datetime) -> None:
        self.core.now = value

    @property
    def replication(self) -> str:
        return self.core.replication

    @replication.setter
    def replication(self, mode: str) -> None:
        if mode not in ("immediate", "manual"):
            raise ValueError(f"replication must be 'immediate' or 'manual', not {mode!r}")
        self.core.replication = mode

    # -- REST ---------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: Any = None, *, caller: str | None = None,
                tenant: str | None = None) -> Response:
        """Answer one REST request as ARM would; never raises ``ServiceError``."""
        try:
            status, answer = self._dispatch(method.upper(), path, body, caller, tenant)
        except ServiceError as error:
            error = error.worded(self.core.wording)
            return Response(error.status, error.body())
        return Response(status, answer)

    def call(self, method: str, path: str, body: Any = None, *, caller: str | None = None,
             tenant: str | None = None) -> Json:
        """Like ``request`` but returns the body and raises ``ServiceError`` on an error."""
        try:
            return self._dispatch(method.upper(), path, body, caller, tenant)[1]
        except ServiceError as error:
            raise error.worded(self.core.wording) from None

    def put(self, path: str, body: Json, *, caller: str | None = None) -> Json:
        return self.call("PUT", path, body, caller=caller)

    def get(self, path: str, *, caller: str | None = None) -> Json:
        return self.call("GET", path, caller=caller)

    def delete(self, path: str, *, caller: str | None = None) -> None:
        self.call("DELETE", path, caller=caller)

    def settle(self, path: str | None = None) -> None:
        """Complete pending replication and deletions (under ``path``'s resource, or all)."""
        route = parse_path(path) if path else None
        ops_gallery.settle(self.core, route.id if route else None)

    def register_feature(self, subscription: str, feature: str) -> None:
        """Register ``Microsoft.Compute/<feature>`` (or a bare name) for a subscription."""
        name = feature.split("/", 1)[1] if "/" in feature else feature
        ops_gallery.feature(self.core, Route("featureAction", subscription, name=name,
                                             action="register"))

    def set_tenant(self, subscription: str, tenant: str) -> None:
        """Record which tenant a subscription belongs to (for sharing with tenants)."""
        self.core.tenants[subscription.lower()] = tenant

    # -- resolution for scenarios -------------------------------------------------------------
    def resolve(self, package_reference_id: str, *, region: str, caller: str | None = None,
                configuration_reference: str | None = None) -> ResolvedApplication:
        """The concrete version a reference means in ``region`` (``versions/latest`` too)."""
        entry = AppEntry(0, package_reference_id, configuration_reference=configuration_reference)
        route = parse_path(package_reference_id)
        who = caller or (route.subscription if route else "")
        try:
            return resolve_entry(self.core, entry, region=region, caller=who)
        except ServiceError as error:
            raise error.worded(self.core.wording) from None

    def resolve_profile(
        self, gallery_applications: Sequence[Json], *, region: str, subscription: str,
        os_type: str | None = None, previous: Sequence[Json] = (),
    ) -> list[ResolvedApplication]:
        """All deploy-time rules for a VM's ``galleryApplications``; deployment order."""
        try:
            entries = parse_entries({"galleryApplications": list(gallery_applications)})
            before = parse_entries({"galleryApplications": list(previous)})
            return ops_vms.resolve_profile(self.core, entries, region=region,
                                           caller=subscription, tenant=None, vm_os=os_type,
                                           previous=before, operation="CreateOrUpdate")
        except ServiceError as error:
            raise error.worded(self.core.wording) from None

    def deployed(self, machine_id: str) -> list[ResolvedApplication]:
        """What a VM or scale set accepted by PUT resolved to, in deployment order."""
        machine = self.core.find_as(machine_id, Machine)
        if machine is None:
            raise KeyError(machine_id)
        return list(machine.resolved)

    def deployed_image(self, machine_id: str) -> ResolvedImage | None:
        """The gallery image version a VM or scale set accepted by PUT boots (None: no gallery
        image); for ``latest`` the version it meant then."""
        machine = self.core.find_as(machine_id, Machine)
        if machine is None:
            raise KeyError(machine_id)
        return machine.image

    def resolve_image(self, reference: str, *, region: str,
                      caller: str | None = None) -> ResolvedImage:
        """The image version a gallery image reference (version id, ``.../versions/latest``
        or definition id) means in ``region``, with the seeds' image errors."""
        route = parse_path(reference)
        try:
            found = resolve_image(self.core, reference, region=region,
                                  caller=caller or (route.subscription if route else ""))
            if found is None:
                raise fail("invalid_reference", value=reference, parameter="reference",
                           what="gallery image")
            return found
        except ServiceError as error:
            raise error.worded(self.core.wording) from None

    def latest_version(self, definition_id: str, region: str | None = None) -> str | None:
        """The name of the latest version of an application or image definition."""
        found = latest(self.core.versions_of(strip_path(definition_id)),
                       region_key(region) if region else None)
        return found.name if found is not None else None

    # -- routing ------------------------------------------------------------------------------
    def _dispatch(self, method: str, path: str, body: Any, caller: str | None,
                  tenant: str | None) -> tuple[int, Json]:
        route = parse_path(path)
        if route is None:
            raise fail("no_route", method=method, path=strip_path(path))
        who = caller or route.subscription
        if tenant:
            self.core.tenants[who.lower()] = tenant
        if method == "GET":
            return self._get(route, who, tenant)
        if who.lower() != route.subscription.lower():
            raise fail("access_denied", client=who, action=self._action(route, method),
                       scope=route.id)
        if method in ("PUT", "PATCH") and route.kind == "imageVersion":
            check_api_version(path, body)
        if method in ("PUT", "PATCH") and route.kind in (*GALLERY_KINDS, "vm", "vmss",
                                                          "roleAssignment"):
            return self._put(route, method, body, who, tenant)
        if method == "POST" and route.kind == "share":
            return ops_gallery.share(self.core, route, self._body(body), "Update")
        if method == "POST" and route.kind == "featureAction":
            return ops_gallery.feature(self.core, route)
        if method == "DELETE" and route.kind == "roleAssignment":
            return ops_gallery.delete_grant(self.core, route)
        if method == "DELETE" and route.kind in (*GALLERY_KINDS, "vm", "vmss"):
            return ops_gallery.delete(self.core, route)
        raise fail("method_not_allowed", method=method, path=strip_path(path))

    @staticmethod
    def _action(route: Route, method: str) -> str:
        """The ARM action a write needs (seed 004's activity-log names)."""
        if route.kind == "share":
            return "Microsoft.Compute/galleries/share/action"
        if route.kind == "featureAction":
            return f"Microsoft.Features/providers/features/{route.action}/action"
        verb = "delete" if method == "DELETE" else "write"
        if route.kind == "roleAssignment":
            return f"Microsoft.Authorization/roleAssignments/{verb}"
        return f"{TYPES.get(route.kind, 'Microsoft.Compute/galleries')}/{verb}"

    @staticmethod
    def _body(body: Any) -> Json:
        if body is None:
            raise fail("body_required", reason="the request body is required")
        if not isinstance(body, dict):
            raise fail("body_required", reason="the request body must be a JSON object")
        return body

    def _put(self, route: Route, method: str, body: Any, who: str,
             tenant: str | None) -> tuple[int, Json]:
        data = self._body(body)
        operation = "CreateOrUpdate"
        if method == "PATCH":
            operation = "Update"
            if route.kind == "roleAssignment":
                raise fail("method_not_allowed", method=method, path=route.id)
            existing = self.core.require(route)
            data = merge({"location": existing.location, "tags": existing.tags,
                          "properties": existing.properties}, data)
        if route.kind == "roleAssignment":
            return ops_gallery.put_grant(self.core, route, data)
        if route.kind in ("vm", "vmss"):
            return ops_vms.put_machine(self.core, route, data, operation, who, tenant)
        return PUTS[route.kind](self.core, route, data, operation)

    def _get(self, route: Route, who: str, tenant: str | None) -> tuple[int, Json]:
        owner = who.lower() == route.subscription.lower()
        if route.kind == "feature":
            if not owner:
                raise fail("access_denied", client=who, action="Microsoft.Features/read",
                           scope=route.id)
            return ops_gallery.feature(self.core, route)
        if route.kind == "roleAssignment":
            return ops_gallery.get_grant(self.core, route)
        if route.kind.startswith("community"):
            return get_community(self.core, route)
        if route.kind in COLLECTIONS:
            parent_route = Route(COLLECTIONS[route.kind], route.subscription,
                                 route.resource_group, route.gallery, route.definition)
            parent = self.core.require(parent_route)
            self._readable(parent_route, parent, who, tenant, owner)
            if route.kind in ("applications", "images"):
                kind = TYPES["application" if route.kind == "applications" else "image"]
                items = [r for r in self.core.children(parent.key) if r.type == kind]
            else:
                items = self.core.versions_of(parent.key)
            return 200, {"value": [render(r) for r in items]}
        if route.kind not in (*GALLERY_KINDS, "vm", "vmss"):
            raise fail("method_not_allowed", method="GET", path=route.id)
        resource = self.core.require(route)
        self._readable(route, resource, who, tenant, owner)
        return 200, render(resource)

    def _readable(self, route: Route, resource: Any, who: str, tenant: str | None,
                  owner: bool) -> None:
        if owner:
            return
        if route.kind in GALLERY_KINDS and self.core.authorized(who, tenant, resource):
            return
        raise fail("access_denied", client=who, action=f"{TYPES[route.kind]}/read",
                   scope=route.id)

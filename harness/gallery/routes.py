"""Resource ids and request paths: parsing ARM paths into what they name, and building ids.

Literal segments (``resourceGroups``, ``providers``, ``Microsoft.Compute`` ...) match
case-insensitively, as ARM does; names keep the spelling the user wrote.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from dataclasses import dataclass

COMPUTE = "/providers/Microsoft.Compute"


@dataclass(frozen=True)
class Route:
    """What a path names.  ``kind`` is one of the ``KINDS``; unused parts are empty."""

    kind: str
    subscription: str
    resource_group: str = ""
    gallery: str = ""
    definition: str = ""
    version: str = ""
    name: str = ""  # VM / scale set / feature / role assignment name
    action: str = ""  # feature register / unregister
    scope: Route | None = None  # what a role assignment is scoped to
    location: str = ""  # community galleries are read through a location

    @property
    def id(self) -> str:
        """The canonical resource id (collections and actions: the path itself)."""
        base = f"/subscriptions/{self.subscription}"
        if self.kind.startswith("feature"):
            feature = f"{base}/providers/Microsoft.Features/providers/Microsoft.Compute/features"
            return f"{feature}/{self.name}" + (f"/{self.action}" if self.action else "")
        if self.kind.startswith("community"):
            kind = self.kind[len("community"):]
            original = dataclasses.replace(self, kind=kind[0].lower() + kind[1:])
            tail = original.id.split(f"/galleries/{self.gallery}", 1)[1]
            return (f"{base}{COMPUTE}/locations/{self.location}/communityGalleries/"
                    f"{self.gallery}{tail}")
        group = f"{base}/resourceGroups/{self.resource_group}{COMPUTE}"
        if self.kind == "vm":
            return f"{group}/virtualMachines/{self.name}"
        if self.kind == "vmss":
            return f"{group}/virtualMachineScaleSets/{self.name}"
        if self.kind == "roleAssignment":
            assert self.scope is not None
            return (f"{self.scope.id}/providers/Microsoft.Authorization/roleAssignments/"
                    f"{self.name}")
        path = f"{group}/galleries/{self.gallery}"
        if self.kind == "share":
            return f"{path}/share"
        collection = "applications" if "application" in self.kind else "images"
        if self.kind in ("applications", "images"):
            return f"{path}/{collection}"
        if self.definition:
            path = f"{path}/{collection}/{self.definition}"
        if self.kind in ("applicationVersions", "imageVersions"):
            return f"{path}/versions"
        return f"{path}/versions/{self.version}" if self.version else path


KINDS = ("gallery", "share", "applications", "application", "applicationVersions",
         "applicationVersion", "images", "image", "imageVersions", "imageVersion",
         "roleAssignment", "vm", "vmss", "feature", "featureAction", *(
             f"community{kind}" for kind in ("Gallery", "Images", "Image", "ImageVersions",
                                             "ImageVersion")))


def _is(segment: str, literal: str) -> bool:
    return segment.lower() == literal.lower()


def strip_path(path: str) -> str:
    """Drop scheme, host and query (``?api-version=...``) from a request path."""
    parts = urllib.parse.urlsplit(path)
    return urllib.parse.unquote(parts.path)


def _gallery_tail(sub: str, rg: str, gallery: str, tail: list[str]) -> Route | None:
    base = Route("gallery", sub, rg, gallery)
    for i in range(len(tail) - 3):
        if (_is(tail[i], "providers") and _is(tail[i + 1], "Microsoft.Authorization")
                and _is(tail[i + 2], "roleAssignments") and len(tail) == i + 4):
            scope = _gallery_tail(sub, rg, gallery, tail[:i])
            if scope is None or scope.kind not in ("gallery", "application",
                                                   "applicationVersion", "image",
                                                   "imageVersion"):
                return None
            return Route("roleAssignment", sub, rg, gallery, name=tail[i + 3], scope=scope)
    if not tail:
        return base
    if len(tail) == 1 and _is(tail[0], "share"):
        return Route("share", sub, rg, gallery)
    for collection, single in (("applications", "application"), ("images", "image")):
        if not _is(tail[0], collection):
            continue
        if len(tail) == 1:
            return Route(collection, sub, rg, gallery)
        if len(tail) == 2:
            return Route(single, sub, rg, gallery, tail[1])
        if len(tail) in (3, 4) and _is(tail[2], "versions"):
            if len(tail) == 3:
                return Route(f"{single}Versions", sub, rg, gallery, tail[1])
            return Route(f"{single}Version", sub, rg, gallery, tail[1], tail[3])
    return None


def _community_tail(sub: str, location: str, name: str, tail: list[str]) -> Route | None:
    """``.../locations/{location}/communityGalleries/{publicName}[/images/...]`` (seed 004:
    a community gallery's images "as a new resource type under
    Microsoft.Compute/communityGalleries")."""
    route = _gallery_tail(sub, "", name, tail)
    if route is None or route.kind not in ("gallery", "images", "image", "imageVersions",
                                           "imageVersion"):
        return None
    kind = "community" + route.kind[0].upper() + route.kind[1:]
    return dataclasses.replace(route, kind=kind, location=location)


def parse_path(path: str) -> Route | None:
    """The route a request path names, or None when the model has no such resource."""
    seg = [s for s in strip_path(path).split("/") if s]
    if len(seg) < 2 or not _is(seg[0], "subscriptions"):
        return None
    sub, rest = seg[1], seg[2:]
    if (len(rest) in (6, 7) and _is(rest[0], "providers") and _is(rest[1], "Microsoft.Features")
            and _is(rest[2], "providers") and _is(rest[3], "Microsoft.Compute")
            and _is(rest[4], "features")):
        if len(rest) == 6:
            return Route("feature", sub, name=rest[5])
        if rest[6].lower() in ("register", "unregister"):
            return Route("featureAction", sub, name=rest[5], action=rest[6].lower())
        return None
    if (len(rest) >= 6 and _is(rest[0], "providers") and _is(rest[1], "Microsoft.Compute")
            and _is(rest[2], "locations") and _is(rest[4], "communityGalleries")):
        return _community_tail(sub, rest[3], rest[5], rest[6:])
    if (len(rest) < 6 or not _is(rest[0], "resourceGroups") or not _is(rest[2], "providers")
            or not _is(rest[3], "Microsoft.Compute")):
        return None
    rg, collection, name, tail = rest[1], rest[4], rest[5], rest[6:]
    if _is(collection, "virtualMachines") and not tail:
        return Route("vm", sub, rg, name=name)
    if _is(collection, "virtualMachineScaleSets") and not tail:
        return Route("vmss", sub, rg, name=name)
    if _is(collection, "galleries"):
        return _gallery_tail(sub, rg, name, tail)
    return None


def parse_reference(text: str, kinds: tuple[str, ...]) -> Route | None:
    """A resource id used as a reference (packageReferenceId, imageReference.id)."""
    route = parse_path(text)
    if route is None or route.kind not in kinds:
        return None
    return route

"""Who may read a gallery's resources: owner, RBAC grants, direct sharing, community (seed 004).

The caller is a subscription (the replay's path subscription, or its ``"as"``).  RBAC grants
name a subscription as ``principalId``; a grant on the gallery covers everything in it, on a
definition covers the definition and its versions, on a version covers that version.  A direct
shared gallery (``sharingProfile.permissions: Groups``) is readable by the subscriptions and
tenants it is shared with.  A community gallery, once enabled, is readable by everyone under
its public name only (``community.py``): "Your original resources of the type
Microsoft.Compute/galleries are still under your subscription, and private" (seed 004).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.gallery.bodies import Json, one_of, opt_list
from harness.gallery.errors import fail
from harness.gallery.resources import COMMUNITY, GROUPS, Gallery, RoleAssignment

MAX_SHARED_SUBSCRIPTIONS = 30  # seed 004, direct shared gallery preview limits
MAX_SHARED_TENANTS = 5
OPERATIONS = ("Add", "Remove", "Reset", "EnableCommunity")
GROUP_TYPES = ("Subscriptions", "AADTenants")


def can_read(
    caller: str, tenant: str | None, gallery: Gallery, scope_keys: Iterable[str],
    grants: Iterable[RoleAssignment],
) -> bool:
    """May ``caller`` read (so deploy) the resource whose ancestry is ``scope_keys``."""
    who = caller.lower()
    if who == gallery.subscription.lower():
        return True
    if gallery.permissions == GROUPS and (
            who in (s.lower() for s in gallery.shared_subscriptions)
            or (tenant is not None and tenant.lower() in (t.lower()
                                                          for t in gallery.shared_tenants))):
        return True
    scopes = set(scope_keys)
    return any(g.principal.lower() == who and g.scope_key in scopes for g in grants)


@dataclass(frozen=True)
class ShareRequest:
    operation: str
    subscriptions: tuple[str, ...]
    tenants: tuple[str, ...]


def parse_share(body: Mapping[str, Any]) -> ShareRequest:
    operation = one_of(body, "operationType", "sharingUpdate", OPERATIONS)
    if operation is None:
        raise fail("missing_parameter", "sharingUpdate.operationType",
                   parameter="sharingUpdate.operationType")
    ids: dict[str, list[str]] = {t: [] for t in GROUP_TYPES}
    for index, group in enumerate(opt_list(body, "groups", "sharingUpdate")):
        path = f"sharingUpdate.groups[{index}]"
        if not isinstance(group, dict):
            raise fail("invalid_value", path, value=group, parameter=path,
                       reason="expected an object")
        kind = one_of(group, "type", path, GROUP_TYPES)
        if kind is None:
            raise fail("missing_parameter", f"{path}.type", parameter=f"{path}.type")
        for item in opt_list(group, "ids", path):
            if not isinstance(item, str) or not item:
                raise fail("invalid_value", f"{path}.ids", value=item, parameter=f"{path}.ids",
                           reason="expected a subscription or tenant id")
            ids[kind].append(item)
    return ShareRequest(operation, tuple(ids["Subscriptions"]), tuple(ids["AADTenants"]))


def _union(current: list[str], added: Iterable[str]) -> list[str]:
    result = list(current)
    for item in added:
        if item.lower() not in (r.lower() for r in result):
            result.append(item)
    return result


def apply_share(gallery: Gallery, request: ShareRequest) -> None:
    """Apply a sharing update to ``gallery`` (validated first, so a refusal changes nothing)."""
    if request.operation in ("Add", "Remove") and gallery.permissions != GROUPS:
        raise fail("sharing_disabled", "sharingUpdate.operationType", operation=request.operation,
                   gallery=gallery.name, permissions=GROUPS, actual=gallery.permissions)
    if request.operation == "EnableCommunity" and gallery.permissions != COMMUNITY:
        raise fail("sharing_disabled", "sharingUpdate.operationType", operation=request.operation,
                   gallery=gallery.name, permissions=COMMUNITY, actual=gallery.permissions)
    if request.operation == "Add":
        subscriptions = _union(gallery.shared_subscriptions, request.subscriptions)
        tenants = _union(gallery.shared_tenants, request.tenants)
        for what, items, limit in (("subscriptions", subscriptions, MAX_SHARED_SUBSCRIPTIONS),
                                   ("tenants", tenants, MAX_SHARED_TENANTS)):
            if len(items) > limit:
                raise fail("share_limit", "sharingUpdate.groups", limit=limit, what=what,
                           count=len(items))
        gallery.shared_subscriptions, gallery.shared_tenants = subscriptions, tenants
    elif request.operation == "Remove":
        gone = {i.lower() for i in (*request.subscriptions, *request.tenants)}
        gallery.shared_subscriptions = [s for s in gallery.shared_subscriptions
                                        if s.lower() not in gone]
        gallery.shared_tenants = [t for t in gallery.shared_tenants if t.lower() not in gone]
    elif request.operation == "Reset":
        gallery.shared_subscriptions, gallery.shared_tenants = [], []
        gallery.community = False
    else:
        gallery.community = True


def public_name(gallery: Gallery) -> str:
    """A community gallery's public name, as ARM makes it: its ``publicNamePrefix`` (else the
    gallery's name), a hyphen and a GUID (here derived from the gallery's id, so stable)."""
    sharing = gallery.properties.get("sharingProfile") or {}
    info = sharing.get("communityGalleryInfo") or {}
    prefix = info.get("publicNamePrefix") or gallery.name
    return f"{prefix}-{uuid.uuid5(uuid.NAMESPACE_URL, gallery.key)}"


def sharing_profile(gallery: Gallery, requested: Json) -> Json:
    """The ``sharingProfile`` a GET shows."""
    profile: Json = dict(requested)
    profile["permissions"] = gallery.permissions
    if gallery.permissions == GROUPS:
        profile["groups"] = [{"type": "Subscriptions", "ids": list(gallery.shared_subscriptions)},
                             {"type": "AADTenants", "ids": list(gallery.shared_tenants)}]
    if gallery.permissions == COMMUNITY:
        info = dict(requested.get("communityGalleryInfo") or {})
        info["communityGalleryEnabled"] = gallery.community
        if gallery.community:
            info["publicNames"] = [public_name(gallery)]
        profile["communityGalleryInfo"] = info
    return profile

"""Sharing (seed 004): RBAC grants, direct sharing with subscriptions/tenants, community,
and what another subscription may do with a gallery it does not own."""

from __future__ import annotations

from gallery_builders import (
    OTHER,
    SUB,
    app_id,
    entry,
    error,
    gallery_body,
    gallery_id,
    ok,
    publish,
    version_body,
    version_id,
    vm_body,
    vm_id,
)

from harness.gallery import GalleryService, Response

NOT_AUTHORIZED = (403, "AuthorizationFailed", "Subscription not authorized to access this image.")
READER = "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"
TENANT = "33333333-3333-3333-3333-333333333333"


def deploy_from_other(svc: GalleryService, ref: str | None = None, **kw: str) -> Response:
    return svc.request("PUT", vm_id(sub=OTHER), vm_body(entry(ref or version_id())), **kw)


def grant(svc: GalleryService, scope: str, principal: str = OTHER, name: str = "g1") -> None:
    ok(svc.request("PUT", f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
                   {"properties": {"roleDefinitionId": READER, "principalId": principal}}), 201)


def test_other_subscription_is_not_authorized_by_default(svc: GalleryService) -> None:
    publish(svc)
    assert error(deploy_from_other(svc)) == NOT_AUTHORIZED
    ok(svc.request("PUT", vm_id(), vm_body(entry(version_id()))), 201)


def test_rbac_on_gallery_covers_everything(svc: GalleryService) -> None:
    publish(svc)
    grant(svc, gallery_id())
    ok(deploy_from_other(svc), 201)
    assert ok(svc.request("GET", version_id(), caller=OTHER))["name"] == "1.0.0"


def test_rbac_on_definition_covers_its_versions_only(svc: GalleryService) -> None:
    publish(svc)
    publish(svc, app="other")
    grant(svc, app_id())
    ok(deploy_from_other(svc), 201)
    assert error(deploy_from_other(svc, version_id(app="other"))) == NOT_AUTHORIZED
    assert error(svc.request("GET", gallery_id(), caller=OTHER))[:2] == (
        403, "AuthorizationFailed")


def test_rbac_grant_removed(svc: GalleryService) -> None:
    publish(svc)
    grant(svc, gallery_id())
    path = f"{gallery_id()}/providers/Microsoft.Authorization/roleAssignments/g1"
    assert ok(svc.request("GET", path))["properties"]["principalId"] == OTHER
    assert svc.request("DELETE", path).status == 200
    assert error(deploy_from_other(svc)) == NOT_AUTHORIZED


def test_direct_share_to_subscription(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={"permissions": "Groups"})),
       201)
    publish(svc)
    answer = ok(svc.request("POST", gallery_id() + "/share", {
        "operationType": "Add", "groups": [{"type": "Subscriptions", "ids": [OTHER]}]}))
    assert answer["groups"][0] == {"type": "Subscriptions", "ids": [OTHER]}
    ok(deploy_from_other(svc), 201)
    ok(svc.request("POST", gallery_id() + "/share", {
        "operationType": "Remove", "groups": [{"type": "Subscriptions", "ids": [OTHER]}]}))
    assert error(svc.request("PUT", vm_id("vm2", OTHER), vm_body(entry(version_id())))) == \
        NOT_AUTHORIZED


def test_direct_share_to_tenant(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={"permissions": "Groups"})),
       201)
    publish(svc)
    ok(svc.request("POST", gallery_id() + "/share", {
        "operationType": "Add", "groups": [{"type": "AADTenants", "ids": [TENANT]}]}))
    assert error(deploy_from_other(svc)) == NOT_AUTHORIZED
    ok(deploy_from_other(svc, tenant=TENANT), 201)


def test_direct_share_needs_groups_permissions_and_limits(svc: GalleryService) -> None:
    publish(svc)
    add = {"operationType": "Add", "groups": [{"type": "Subscriptions", "ids": [OTHER]}]}
    assert error(svc.request("POST", gallery_id() + "/share", add)) == (
        400, "OperationNotAllowed", "Operation Add requires gallery 'gal' to be created with "
        "sharingProfile.permissions 'Groups'; its permissions are 'Private'.")
    ok(svc.request("PUT", gallery_id("g2"), gallery_body(sharingProfile={"permissions":
                                                                         "Groups"})), 201)
    many = [f"{i:08d}-0000-0000-0000-000000000000" for i in range(31)]
    assert error(svc.request("POST", gallery_id("g2") + "/share", {
        "operationType": "Add", "groups": [{"type": "Subscriptions", "ids": many}]}))[2] == (
        "A gallery can be shared directly with at most 30 subscriptions; this request would "
        "share it with 31.")
    ok(svc.request("POST", gallery_id("g2") + "/share", {
        "operationType": "Add", "groups": [{"type": "Subscriptions", "ids": many[:30]}]}))
    tenants = [f"{i:08d}-1111-0000-0000-000000000000" for i in range(6)]
    assert "at most 5 tenants" in error(svc.request("POST", gallery_id("g2") + "/share", {
        "operationType": "Add", "groups": [{"type": "AADTenants", "ids": tenants}]}))[2]


def test_community_gallery_keeps_its_original_resources_private(svc: GalleryService) -> None:
    """Seed 004: "Your original resources of the type Microsoft.Compute/galleries are still
    under your subscription, and private" (everyone reads its images under its public name:
    test_gallery_community.py)."""
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={
        "permissions": "Community", "communityGalleryInfo": {"publicNamePrefix": "contoso"}})),
        201)
    publish(svc)
    ok(svc.request("POST", gallery_id() + "/share", {"operationType": "EnableCommunity"}))
    info = ok(svc.request("GET", gallery_id()))["properties"]["sharingProfile"]
    assert info["communityGalleryInfo"]["communityGalleryEnabled"] is True
    assert error(deploy_from_other(svc)) == NOT_AUTHORIZED
    assert error(svc.request("GET", gallery_id(), caller=OTHER))[:2] == (
        403, "AuthorizationFailed")


def test_other_subscriptions_cannot_write(svc: GalleryService) -> None:
    publish(svc)
    grant(svc, gallery_id())
    assert error(svc.request("PUT", version_id("2.0.0"), version_body(), caller=OTHER)) == (
        403, "AuthorizationFailed", f"The client '{OTHER}' with object id '{OTHER}' does not "
        "have authorization to perform action 'Microsoft.Compute/galleries/applications/"
        f"versions/write' over scope '{version_id('2.0.0')}' or the scope is invalid. If access "
        "was recently granted, please refresh your credentials.")
    assert error(svc.request("DELETE", gallery_id(), caller=OTHER))[:2] == (
        403, "AuthorizationFailed")
    assert svc.request("PUT", version_id("2.0.0"), version_body(), caller=SUB).status == 201


def test_write_actions_named_in_denials(svc: GalleryService) -> None:
    publish(svc)
    share = svc.request("POST", gallery_id() + "/share", {"operationType": "Reset"},
                        caller=OTHER)
    assert "'Microsoft.Compute/galleries/share/action'" in error(share)[2]
    grant_path = f"{gallery_id()}/providers/Microsoft.Authorization/roleAssignments/x"
    assert "'Microsoft.Authorization/roleAssignments/write'" in error(svc.request(
        "PUT", grant_path, {"properties": {"principalId": OTHER, "roleDefinitionId": "r"}},
        caller=OTHER))[2]

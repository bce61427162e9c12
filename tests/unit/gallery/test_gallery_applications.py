"""Galleries, application definitions and application versions: each rule passing and failing."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    CONFIG,
    MEDIA,
    NOW,
    OTHER,
    SUB,
    FakeBlob,
    ScriptedProbe,
    app_body,
    app_id,
    error,
    gallery_body,
    gallery_id,
    ok,
    publish,
    regions,
    small_limits,
    version_body,
    version_id,
)

from harness.gallery import GalleryService

V = "galleryApplicationVersion.properties.publishingProfile"


def with_app(svc: GalleryService, os_type: str = "Linux") -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    ok(svc.request("PUT", app_id(), app_body(os_type)), 201)


# -- galleries ------------------------------------------------------------------------------
def test_gallery_create_then_update_description(svc: GalleryService) -> None:
    body = ok(svc.request("PUT", gallery_id(), gallery_body(description="a")), 201)
    assert body["properties"]["identifier"]["uniqueName"] == f"{SUB}-GAL"
    body = ok(svc.request("PUT", gallery_id(), gallery_body(description="b")), 200)
    assert body["properties"]["description"] == "b"


def test_gallery_location_and_permissions_cannot_change(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    assert error(svc.request("PUT", gallery_id(), gallery_body("westus"))) == (
        409, "PropertyChangeNotAllowed", "Changing property 'location' is not allowed.")
    changed = gallery_body(sharingProfile={"permissions": "Groups"})
    assert error(svc.request("PUT", gallery_id(), changed)) == (
        409, "PropertyChangeNotAllowed",
        "Changing property 'gallery.properties.sharingProfile.permissions' is not allowed.")


def test_gallery_name_rules(svc: GalleryService) -> None:
    status, code, message = error(svc.request("PUT", gallery_id("my-gallery"), gallery_body()))
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("The gallery name 'my-gallery' is invalid.")
    ok(svc.request("PUT", gallery_id("my_gallery.1"), gallery_body()), 201)


def test_gallery_name_is_unique_per_subscription(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    assert error(svc.request("PUT", gallery_id(rg="rg2"), gallery_body())) == (
        409, "Conflict", f"A gallery named 'gal' already exists in subscription '{SUB}'.")
    ok(svc.request("PUT", gallery_id(sub=OTHER, rg="rg2"), gallery_body()), 201)


def test_gallery_quota_per_subscription_and_region(probe: ScriptedProbe) -> None:
    svc = GalleryService(now=NOW, link_probe=probe, limits=small_limits(galleries=2))
    ok(svc.request("PUT", gallery_id("g1"), gallery_body()), 201)
    ok(svc.request("PUT", gallery_id("g2"), gallery_body()), 201)
    ok(svc.request("PUT", gallery_id("g3"), gallery_body("westus")), 201)
    assert error(svc.request("PUT", gallery_id("g4"), gallery_body())) == (
        409, "OperationNotAllowed", "Operation results in exceeding quota limits of galleries "
        "per subscription per region. Maximum allowed: 2, Current in use: 2, "
        "Additional requested: 1.")


def test_location_required_and_known(svc: GalleryService) -> None:
    assert error(svc.request("PUT", gallery_id(), {"properties": {}}))[1] == "LocationRequired"
    assert error(svc.request("PUT", gallery_id(), gallery_body("moon"))) == (
        400, "LocationNotAvailableForResourceType", "The provided location 'moon' is not "
        "available for resource type 'Microsoft.Compute/galleries'.")
    ok(svc.request("PUT", gallery_id(), gallery_body("East US")), 201)


# -- application definitions ----------------------------------------------------------------
def test_application_name_at_most_117_and_not_ending_in_period(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    ok(svc.request("PUT", app_id("a" * 117), app_body()), 201)
    for bad in ("a" * 118, "app.", "my app"):
        status, code, message = error(svc.request("PUT", app_id(bad), app_body()))
        assert (status, code) == (400, "InvalidParameter")
        assert message.startswith(f"The gallery application name '{bad}' is invalid.")


def test_supported_os_type_required_and_linux_or_windows(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    assert error(svc.request("PUT", app_id(), {"location": "eastus", "properties": {}})) == (
        400, "InvalidParameter", "Required parameter "
        "'galleryApplication.properties.supportedOSType' is missing (null).")
    assert error(svc.request("PUT", app_id(), app_body("MacOS")))[2] == (
        "The value 'MacOS' of parameter 'galleryApplication.properties.supportedOSType' is not "
        "valid: expected one of Linux, Windows.")
    assert ok(svc.request("PUT", app_id(), app_body("windows")), 201)["properties"][
        "supportedOSType"] == "windows"


def test_application_metadata_end_of_life_must_be_future(svc: GalleryService) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    assert "must be in the future" in error(
        svc.request("PUT", app_id(), app_body(endOfLifeDate="2020-01-01")))[2]
    ok(svc.request("PUT", app_id(), app_body(
        endOfLifeDate="2030-01-01", description="d", eula="https://contoso.com/eula",
        privacyStatementUri="https://contoso.com/p", releaseNoteUri="https://contoso.com/r")),
        201)


APPLICATION_URIS = ("eula", "privacyStatementUri", "releaseNoteUri")


@pytest.mark.parametrize("key", APPLICATION_URIS)
@pytest.mark.parametrize("bad", ["not a uri", "ftp://contoso.com/p", "/relative/p",
                                 "https://"])
@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_application_uri_must_be_absolute_http(svc: GalleryService, key: str, bad: str,
                                               method: str) -> None:
    with_app(svc)
    response = svc.request(method, app_id(), {"properties": {key: bad}} if method == "PATCH"
                           else app_body(**{key: bad}))
    parameter = f"galleryApplication.properties.{key}"
    assert error(response) == (400, "InvalidParameter", f"The value '{bad}' of parameter "
                               f"'{parameter}' is not valid: expected an absolute http or "
                               "https URI.")
    assert response.body["error"]["target"] == parameter


@pytest.mark.parametrize("key", APPLICATION_URIS)
@pytest.mark.parametrize("good", ["https://contoso.com/p", "http://contoso.com/p?v=1"])
def test_application_uri_accepted_and_shown(svc: GalleryService, key: str, good: str) -> None:
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    body = ok(svc.request("PUT", app_id(), app_body(**{key: good})), 201)
    assert body["properties"][key] == good


def test_application_os_type_cannot_change_description_can(svc: GalleryService) -> None:
    with_app(svc)
    ok(svc.request("PUT", app_id(), app_body(description="new")), 200)
    assert error(svc.request("PUT", app_id(), app_body("Windows"))) == (
        409, "PropertyChangeNotAllowed",
        "Changing property 'galleryApplication.properties.supportedOSType' is not allowed.")


def test_application_needs_its_gallery(svc: GalleryService) -> None:
    assert error(svc.request("PUT", app_id(), app_body())) == (
        404, "ParentResourceNotFound",
        "Can not perform requested operation on nested resource. Parent resource 'gal' not "
        "found.")


def test_body_name_must_match_url(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body() | {"name": "2.0.0"}
    assert error(svc.request("PUT", version_id("1.0.0"), body)) == (
        400, "InvalidParameter", "Entity name doesn't match the name in the request URL.")
    ok(svc.request("PUT", version_id("1.0.0"), version_body() | {"name": "1.0.0"}), 201)
    assert error(svc.request("PUT", app_id("x"), app_body() | {"name": "y"}))[2] == \
        "Entity name doesn't match the name in the request URL."


# -- application versions ------------------------------------------------------------------
VERSION_NAME_TEXT = (
    "The gallery application version name is invalid. The application version name should "
    "follow Major(int32).Minor(int32).Patch(int32) format, where int is between 0 and "
    "2,147,483,647 (inclusive). e.g. 1.0.0, 2018.12.1 etc.")


@pytest.mark.parametrize("name", ["1.0", "1.0.0.0", "2147483648.0.0", "latest", "v1.0.0"])
def test_version_name_must_be_three_int32_parts(svc: GalleryService, name: str) -> None:
    with_app(svc)
    assert error(svc.request("PUT", version_id(name), version_body())) == (
        400, "InvalidParameter", VERSION_NAME_TEXT)


def test_version_name_at_int32_max_is_fine(svc: GalleryService) -> None:
    with_app(svc)
    ok(svc.request("PUT", version_id("2147483647.0.1"), version_body()), 201)


@pytest.mark.parametrize("count", [0, 4, -1])
def test_replica_count_between_1_and_3(svc: GalleryService, count: int) -> None:
    with_app(svc)
    assert error(svc.request("PUT", version_id(), version_body(replicaCount=count))) == (
        400, "InvalidParameter", f"The value {count} of parameter "
        f"'{V}.replicaCount' is out of range. The value must be between 1 and 3, inclusive.")


def test_replica_counts_within_range_pass(svc: GalleryService) -> None:
    with_app(svc)
    body = ok(svc.request("PUT", version_id(), version_body(
        replicaCount=3, targetRegions=[{"name": "eastus", "regionalReplicaCount": 1}])), 201)
    assert body["properties"]["publishingProfile"]["targetRegions"][0][
        "regionalReplicaCount"] == 1


def test_regional_replica_count_between_1_and_3(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body(targetRegions=regions("eastus", regionalReplicaCount=4))
    assert error(svc.request("PUT", version_id(), body))[2] == (
        f"The value 4 of parameter '{V}.targetRegions[0].regionalReplicaCount' is out of "
        "range. The value must be between 1 and 3, inclusive.")


def test_duplicate_target_regions(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body(targetRegions=regions("eastus", "westus", "East US"))
    assert error(svc.request("PUT", version_id(), body)) == (
        400, "InvalidParameter", "Duplicate regions are not allowed in target publishing "
        "regions.")


def test_target_regions_must_contain_the_version_location(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body(targetRegions=regions("westus", "westeurope"))
    assert error(svc.request("PUT", version_id(), body))[2] == (
        "Gallery image version publishing profile regions westus, westeurope must contain the "
        "location of image version eastus.")
    ok(svc.request("PUT", version_id(), version_body(targetRegions=regions("westus",
                                                                           "East US"))), 201)


def test_application_versions_refuse_encryption(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body(targetRegions=[{"name": "eastus", "encryption": {"osDiskImage": {}}}])
    assert error(svc.request("PUT", version_id(), body)) == (
        400, "InvalidParameter",
        "Gallery application version resources currently do not support encryption.")


def test_restricted_regions_need_the_feature(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body(targetRegions=regions("eastus", "australiacentral"))
    assert error(svc.request("PUT", version_id(), body)) == (
        400, "OperationNotAllowed", "Cannot specify australiacentral in target regions because "
        "the subscription is missing required feature Microsoft.Compute/RestrictedRegionTargets."
        " Either register your subscription with the required feature or remove the region "
        "from the target region list.")
    feature = (f"/subscriptions/{SUB}/providers/Microsoft.Features/providers/Microsoft.Compute/"
               "features/RestrictedRegionTargets")
    assert ok(svc.request("GET", feature))["properties"]["state"] == "NotRegistered"
    assert ok(svc.request("POST", feature + "/register"))["properties"]["state"] == "Registered"
    ok(svc.request("PUT", version_id(), body), 201)


def test_manage_actions_install_and_remove_required(svc: GalleryService) -> None:
    with_app(svc)
    assert error(svc.request("PUT", version_id(), version_body(install="")))[2] == (
        f"Required parameter '{V}.manageActions.install' is missing (null).")
    assert error(svc.request("PUT", version_id(), version_body(media="")))[2] == (
        f"Required parameter '{V}.source.mediaLink' is missing (null).")
    long_action = "x" * 4097
    assert "at most 4096 characters" in error(
        svc.request("PUT", version_id(), version_body(remove=long_action)))[2]
    ok(svc.request("PUT", version_id(), version_body(install="y" * 4096)), 201)


@pytest.mark.parametrize("action,change", [
    ("install", {"install": "other"}), ("remove", {"remove": "other"}),
    ("update", {"update": "./update"}),
])
def test_manage_actions_cannot_change(svc: GalleryService, action: str,
                                      change: dict[str, Any]) -> None:
    with_app(svc)
    ok(svc.request("PUT", version_id(), version_body()), 201)
    assert error(svc.request("PUT", version_id(), version_body(**change))) == (
        409, "PropertyChangeNotAllowed", f"Changing property 'galleryApplicationVersion."
        f"properties.publishingProfile.manageActions.{action}' is not allowed.")


@pytest.mark.parametrize("setting", ["packageFileName", "configFileName"])
def test_settings_cannot_change(svc: GalleryService, setting: str) -> None:
    with_app(svc)
    ok(svc.request("PUT", version_id(), version_body(settings={setting: "a.tar"})), 201)
    assert error(svc.request("PUT", version_id(), version_body(settings={setting: "b"}))) == (
        409, "PropertyChangeNotAllowed", "Changing property ' galleryApplicationVersion."
        f"properties.publishingProfile.settings.{setting} ' is not allowed.")


def test_source_cannot_change(svc: GalleryService) -> None:
    with_app(svc)
    ok(svc.request("PUT", version_id(), version_body()), 201)
    assert error(svc.request("PUT", version_id(), version_body(media=CONFIG)))[2] == (
        f"Changing property '{V}.source.mediaLink' is not allowed.")


def test_replication_and_lifecycle_properties_can_change(svc: GalleryService) -> None:
    with_app(svc)
    ok(svc.request("PUT", version_id(), version_body()), 201)
    body = ok(svc.request("PUT", version_id(), version_body(
        excludeFromLatest=True, endOfLifeDate="2030-01-01", replicaCount=2,
        targetRegions=regions("eastus", "westus"))), 200)
    profile = body["properties"]["publishingProfile"]
    assert profile["excludeFromLatest"] is True
    assert profile["endOfLifeDate"] == "2030-01-01T00:00:00+00:00"
    assert [t["name"] for t in profile["targetRegions"]] == ["eastus", "westus"]
    assert profile["targetRegions"][1]["regionalReplicaCount"] == 2
    patched = ok(svc.request("PATCH", version_id(), {
        "properties": {"publishingProfile": {"excludeFromLatest": False}}}), 200)
    assert patched["properties"]["publishingProfile"]["excludeFromLatest"] is False
    assert patched["properties"]["publishingProfile"]["manageActions"]["install"] == "./install"


def test_safety_profile_keeps_replicated_regions(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body(targetRegions=regions("eastus", "westus"))
    body["properties"]["safetyProfile"] = {"allowDeletionOfReplicatedLocations": False}
    ok(svc.request("PUT", version_id(), body), 201)
    assert error(svc.request("PUT", version_id(), version_body()))[2] == (
        "Removing replicated regions westus is not allowed: "
        "safetyProfile.allowDeletionOfReplicatedLocations is false.")


def test_replication_status_per_region(svc: GalleryService) -> None:
    with_app(svc)
    ok(svc.request("PUT", version_id(), version_body(targetRegions=regions("eastus", "westus"))),
       201)
    status = ok(svc.request("GET", version_id()))["properties"]["replicationStatus"]
    assert status["aggregatedState"] == "Completed"
    assert [(s["region"], s["state"], s["progress"]) for s in status["summary"]] == [
        ("eastus", "Completed", 100), ("westus", "Completed", 100)]


def test_manual_replication_completes_on_settle(probe: ScriptedProbe) -> None:
    svc = GalleryService(now=NOW, link_probe=probe, replication="manual")
    with_app(svc)
    body = ok(svc.request("PUT", version_id(), version_body()), 201)
    assert body["properties"]["provisioningState"] == "Creating"
    assert body["properties"]["replicationStatus"]["summary"][0]["state"] == "Replicating"
    svc.settle()
    body = ok(svc.request("GET", version_id()))
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert body["properties"]["replicationStatus"]["aggregatedState"] == "Completed"


def test_links_are_checked_on_create(svc: GalleryService, probe: ScriptedProbe) -> None:
    with_app(svc)
    probe.answers[CONFIG] = FakeBlob(404, error="Not Found")
    assert error(svc.request("PUT", version_id(), version_body(config=CONFIG))) == (
        400, "InvalidParameter", f"The blob referenced by source uri {CONFIG} doesn't exist.")
    assert probe.asked == [MEDIA, CONFIG]
    probe.answers.clear()
    ok(svc.request("PUT", version_id(), version_body(config=CONFIG)), 201)


# -- deletion --------------------------------------------------------------------------------
def test_delete_is_asynchronous_and_blocks_other_operations(svc: GalleryService) -> None:
    publish(svc)
    assert svc.request("DELETE", version_id()).status == 202
    assert ok(svc.request("GET", version_id()))["properties"]["provisioningState"] == "Deleting"
    text = ("Operation CreateOrUpdate is not allowed on gal/app/1.0.0 since it is marked for "
            "deletion. You can only retry the Delete operation (or wait for an ongoing one to "
            "complete).")
    assert error(svc.request("PUT", version_id(), version_body())) == (409, "Conflict", text)
    assert svc.request("DELETE", version_id()).status == 202
    svc.settle()
    assert error(svc.request("GET", version_id()))[:2] == (404, "ResourceNotFound")
    ok(svc.request("PUT", version_id(), version_body()), 201)


def test_children_of_a_deleting_application_are_refused(svc: GalleryService) -> None:
    with_app(svc)
    svc.request("DELETE", app_id())
    assert error(svc.request("PUT", version_id(), version_body()))[2].startswith(
        "Operation CreateOrUpdate is not allowed on gal/app since it is marked for deletion.")
    assert error(svc.request("PATCH", app_id(), {"tags": {"a": "b"}}))[2].startswith(
        "Operation Update is not allowed on gal/app since it is marked for deletion.")


def test_resources_with_children_cannot_be_deleted(svc: GalleryService) -> None:
    publish(svc)
    assert error(svc.request("DELETE", app_id())) == (
        409, "CannotDeleteResource",
        "Can not delete resource before nested resources are deleted.")
    svc.request("DELETE", version_id())
    svc.settle()
    assert svc.request("DELETE", app_id()).status == 202


def test_list_versions(svc: GalleryService) -> None:
    publish(svc, versions=("1.0.0", "1.1.0"))
    listed = ok(svc.request("GET", app_id() + "/versions"))
    assert sorted(v["name"] for v in listed["value"]) == ["1.0.0", "1.1.0"]
    assert [a["name"] for a in ok(svc.request("GET", gallery_id() + "/applications"))[
        "value"]] == ["app"]


def test_storage_account_types(svc: GalleryService) -> None:
    with_app(svc)
    bad = version_body(targetRegions=[{"name": "eastus", "storageAccountType": "Premium_ZRS"}])
    assert error(svc.request("PUT", version_id(), bad))[2] == (
        f"The value 'Premium_ZRS' of parameter '{V}.targetRegions[0].storageAccountType' is not "
        "valid: expected one of Standard_LRS, Standard_ZRS, Premium_LRS.")
    body = ok(svc.request("PUT", version_id(), version_body(
        storageAccountType="Standard_ZRS",
        targetRegions=[{"name": "eastus"}, {"name": "westus", "storageAccountType":
                                            "Premium_LRS"}])), 201)
    assert [t["storageAccountType"] for t in body["properties"]["publishingProfile"][
        "targetRegions"]] == ["Standard_ZRS", "Premium_LRS"]


def test_stored_properties_do_not_alias_the_request(svc: GalleryService) -> None:
    with_app(svc)
    body = version_body()
    ok(svc.request("PUT", version_id(), body), 201)
    body["properties"]["publishingProfile"]["manageActions"]["install"] = "mutated"
    got = ok(svc.request("GET", version_id()))
    assert got["properties"]["publishingProfile"]["manageActions"]["install"] == "./install"


def test_field_types_and_dates(svc: GalleryService) -> None:
    assert error(svc.request("PUT", gallery_id(), gallery_body(description=5)))[2] == (
        "The value '5' of parameter 'gallery.properties.description' is not valid: expected a "
        "string.")
    with_app(svc)
    assert error(svc.request("PUT", version_id(), version_body(endOfLifeDate="someday")))[2] == (
        f"The value 'someday' of parameter '{V}.endOfLifeDate' is not valid: expected an ISO "
        "8601 date-time.")
    assert error(svc.request("PUT", version_id(), version_body(excludeFromLatest="yes")))[2] == (
        f"The value 'yes' of parameter '{V}.excludeFromLatest' is not valid: expected true or "
        "false.")
    got = ok(svc.request("PUT", version_id(), version_body(endOfLifeDate="2025-03-01T12:00:00Z")),
             201)
    assert got["properties"]["publishingProfile"]["endOfLifeDate"] == "2025-03-01T12:00:00+00:00"

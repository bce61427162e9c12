"""VM / scale-set application profiles: the deploy-time rules of seed 000, and resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest
from gallery_builders import (
    CONFIG,
    NOW,
    OTHER,
    SUB,
    FakeBlob,
    ScriptedProbe,
    app_id,
    entry,
    error,
    gallery_id,
    image_body,
    image_id,
    image_version_body,
    ok,
    publish,
    regions,
    version_body,
    version_id,
    vm_body,
    vm_id,
)

from harness.gallery import GalleryService, ServiceError


def not_available(ref: str) -> str:
    return (f"The platform image {ref} isn't available. Verify that all fields in the storage "
            "profile are correct. For more details about storage profile information, please "
            "refer to https://aka.ms/storageprofile.")


def not_in_region(ref: str, region: str) -> str:
    return (f"The gallery image {ref} is not available in {region} region. Please contact image "
            "owner to replicate to this region, or change your requested region.")


def put_vm(svc: GalleryService, *refs: str) -> tuple[int, dict[str, object]]:
    answer = svc.request("PUT", vm_id(), vm_body(*(entry(r) for r in refs)))
    return answer.status, answer.body


def test_five_applications_allowed_six_refused(svc: GalleryService) -> None:
    for i in range(6):
        publish(svc, app=f"app{i}")
    refs = [version_id(app=f"app{i}") for i in range(6)]
    assert put_vm(svc, *refs[:5])[0] == 201
    answer = svc.request("PUT", vm_id("vm2"), vm_body(*(entry(r) for r in refs)))
    assert error(answer) == (400, "OperationNotAllowed", "The maximum number of VM applications "
                             "(max=5, current=6) has been exceeded. Use fewer applications and "
                             "retry the request.")


def test_same_application_twice_is_refused_even_with_other_versions(
        svc: GalleryService) -> None:
    publish(svc, versions=("1.0.0", "1.1.0"))
    text = "More than one VM Application was specified with the same packageReferenceId."
    for second in (version_id(), version_id().upper().replace("/SUBSCRIPTIONS", "/subscriptions"),
                   version_id("1.1.0")):
        answer = svc.request("PUT", vm_id(), vm_body(entry(version_id()), entry(second)))
        assert error(answer) == (400, "InvalidParameter", text)
    publish(svc, app="other")
    assert put_vm(svc, version_id(), version_id(app="other"))[0] == 201


def test_subscription_without_applications(svc: GalleryService) -> None:
    publish(svc)
    ref = version_id(sub=OTHER)
    answer = svc.request("PUT", vm_id(), vm_body(entry(ref)))
    assert error(answer) == (404, "NotFound", "Storage account in the arguments doesn't exist.")


@pytest.mark.parametrize("ref", [version_id(app="missing"), version_id("9.9.9"),
                                 version_id(gallery="nogallery")])
def test_missing_application_or_version(svc: GalleryService, ref: str) -> None:
    publish(svc)
    assert error(svc.request("PUT", vm_id(), vm_body(entry(ref)))) == (
        404, "NotFound", not_available(ref))


def test_version_being_deleted_is_not_available(svc: GalleryService) -> None:
    publish(svc)
    svc.request("DELETE", version_id())
    assert error(svc.request("PUT", vm_id(), vm_body(entry(version_id()))))[2] == \
        not_available(version_id())


def test_version_must_be_replicated_to_the_vm_region(svc: GalleryService) -> None:
    publish(svc)
    answer = svc.request("PUT", vm_id(), vm_body(entry(version_id()), location="westus"))
    assert error(answer) == (400, "InvalidParameter", not_in_region(version_id(), "westus"))
    ok(svc.request("PUT", version_id(), version_body(targetRegions=regions("eastus", "westus"))))
    assert svc.request("PUT", vm_id(), vm_body(entry(version_id()), location="westus")).status \
        == 201


def test_replication_in_progress_blocks_deployment_until_complete(
        probe: ScriptedProbe) -> None:
    svc = GalleryService(now=NOW, link_probe=probe, replication="manual")
    publish(svc)
    assert error(svc.request("PUT", vm_id(), vm_body(entry(version_id()))))[2] == \
        not_in_region(version_id(), "eastus")
    svc.settle(version_id())
    assert svc.request("PUT", vm_id(), vm_body(entry(version_id()))).status == 201


@pytest.mark.parametrize("app_os,vm_os", [("Linux", "Windows"), ("Windows", "Linux")])
def test_os_must_match(svc: GalleryService, app_os: str, vm_os: str) -> None:
    publish(svc, os_type=app_os)
    assert error(svc.request("PUT", vm_id(), vm_body(entry(version_id()), os_type=vm_os))) == (
        400, "InvalidParameter", f"Current VM Application Version gal/app/1.0.0 supports OS "
        f"{app_os}, while current OSDisk's OS is {vm_os}.")
    assert svc.request("PUT", vm_id(), vm_body(entry(version_id()), os_type=app_os)).status \
        == 201


def test_os_from_os_profile_when_no_os_disk_type(svc: GalleryService) -> None:
    publish(svc)
    body = vm_body(entry(version_id()), os_type=None)
    body["properties"]["osProfile"]["windowsConfiguration"] = {}
    assert "while current OSDisk's OS is Windows." in error(
        svc.request("PUT", vm_id(), body))[2]


def test_deprecated_pinned_version_refused_latest_and_existing_allowed(
        svc: GalleryService) -> None:
    publish(svc, endOfLifeDate="2024-01-01")
    text = ("Current VM Application Version gal/app/1.0.0 was deprecated at "
            "2024-01-01T00:00:00+00:00.")
    assert error(svc.request("PUT", vm_id(), vm_body(entry(version_id())))) == (
        400, "OperationNotAllowed", text)
    latest = app_id() + "/versions/latest"
    assert svc.request("PUT", vm_id(), vm_body(entry(latest))).status == 201


def test_end_of_life_in_the_future_is_not_deprecated_until_it_passes(
        svc: GalleryService) -> None:
    publish(svc, endOfLifeDate="2024-07-01")
    assert svc.request("PUT", vm_id(), vm_body(entry(version_id()))).status == 201
    svc.now = NOW + timedelta(days=60)
    assert svc.request("PUT", vm_id(), vm_body(entry(version_id()))).status == 200
    assert "was deprecated at 2024-07-01T00:00:00+00:00." in error(
        svc.request("PUT", vm_id("new"), vm_body(entry(version_id()))))[2]


def test_latest_resolves_per_region_and_skips_excluded(svc: GalleryService) -> None:
    publish(svc, versions=("1.0.0", "1.2.0"), targetRegions=regions("eastus", "westus"))
    ok(svc.request("PUT", version_id("2.0.0"), version_body(excludeFromLatest=True)), 201)
    ok(svc.request("PUT", version_id("1.3.0"), version_body()), 201)  # eastus only
    latest = app_id() + "/versions/latest"
    assert svc.resolve(latest, region="eastus").version == "1.3.0"
    assert svc.resolve(latest, region="westus").version == "1.2.0"
    with pytest.raises(ServiceError) as caught:
        svc.resolve(latest, region="westeurope")
    assert str(caught.value) == not_in_region(latest, "westeurope")


def test_resolution_gives_order_and_configuration(svc: GalleryService,
                                                  probe: ScriptedProbe) -> None:
    publish(svc, app="a", config=CONFIG, settings={"packageFileName": "a.tar"})
    publish(svc, app="b")
    publish(svc, app="c")
    override = CONFIG.replace("app.cfg", "vm.cfg")
    body = vm_body(entry(version_id(app="a")), entry(version_id(app="b"), order=2),
                   entry(version_id(app="c"), order=1, configurationReference=override,
                         treatFailureAsDeploymentFailure=True))
    created = ok(svc.request("PUT", vm_id(), body), 201)
    assert created["resources"][0]["properties"]["type"] == "VMApplicationManagerLinux"
    deployed = svc.deployed(vm_id())
    assert [(d.application, d.order) for d in deployed] == [("c", 1), ("b", 2), ("a", None)]
    assert deployed[0].configuration_link == override
    assert deployed[0].entry.treat_failure_as_deployment_failure is True
    assert deployed[2].configuration_link == CONFIG
    assert deployed[2].package.package_file_name == "a.tar"
    assert override in probe.asked


def test_configuration_reference_is_a_checked_link(svc: GalleryService,
                                                   probe: ScriptedProbe) -> None:
    publish(svc)
    probe.answers[CONFIG] = FakeBlob(200, 0, "BlockBlob")
    body = vm_body(entry(version_id(), configurationReference=CONFIG))
    assert error(svc.request("PUT", vm_id(), body))[2] == (
        f"The blob referenced by source uri {CONFIG} is empty.")


def test_entry_fields_are_typed(svc: GalleryService) -> None:
    publish(svc)
    assert error(svc.request("PUT", vm_id(), vm_body(entry(version_id(), order="1"))))[2] == (
        "The value '1' of parameter 'applicationProfile.galleryApplications[0].order' is not "
        "valid: expected an integer.")
    assert error(svc.request("PUT", vm_id(), vm_body(entry("myApp/1.0.0"))))[2] == (
        "The value 'myApp/1.0.0' of parameter 'applicationProfile.galleryApplications[0]."
        "packageReferenceId' is not a valid gallery application version resource id.")
    ok(svc.request("PUT", vm_id(), vm_body(entry(version_id(), order=3, tags="t",
                                                 enableAutomaticUpgrade=True))), 201)


def test_scale_set_profile(svc: GalleryService) -> None:
    publish(svc)
    body = {"location": "eastus", "properties": {"virtualMachineProfile": {
        "storageProfile": {"osDisk": {"osType": "Windows"}},
        "applicationProfile": {"galleryApplications": [entry(version_id())]}}}}
    assert "OSDisk's OS is Windows" in error(svc.request(
        "PUT", vm_id("ss", kind="virtualMachineScaleSets"), body))[2]
    body["properties"]["virtualMachineProfile"]["storageProfile"]["osDisk"]["osType"] = "Linux"
    got = ok(svc.request("PUT", vm_id("ss", kind="virtualMachineScaleSets"), body), 201)
    apps = got["properties"]["virtualMachineProfile"]["applicationProfile"]
    assert apps["galleryApplications"][0]["packageReferenceId"] == version_id()


def with_image(svc: GalleryService, os_state: str = "Generalized", os_type: str = "Windows"
               ) -> None:
    svc.request("PUT", gallery_id(), {"location": "eastus"})
    ok(svc.request("PUT", image_id(), image_body(os_state=os_state, os_type=os_type)), 201)
    ok(svc.request("PUT", image_id() + "/versions/1.0.0", image_version_body()), 201)


def test_gallery_image_reference_checks(svc: GalleryService) -> None:
    with_image(svc)
    missing = image_id("nope")
    svc_body = vm_body(os_type=None, image=missing)
    assert error(svc.request("PUT", vm_id(), svc_body))[2] == not_available(missing)
    assert error(svc.request("PUT", vm_id(), vm_body(os_type=None, image=image_id(),
                                                     location="westus")))[2] == \
        not_in_region(image_id(), "westus")
    assert error(svc.request("PUT", vm_id(), vm_body(os_type=None, image=image_id(),
                                                     os_profile=False)))[2].startswith(
        "Required parameter 'osProfile' is missing (null).")
    assert svc.request("PUT", vm_id(), vm_body(os_type=None, image=image_id())).status == 201


def test_specialized_image_refuses_os_profile_and_gives_os(svc: GalleryService) -> None:
    with_image(svc, os_state="Specialized", os_type="Windows")
    assert error(svc.request("PUT", vm_id(), vm_body(os_type=None, image=image_id())))[2] == (
        f"Parameter 'osProfile' is not allowed with a specialized image {image_id()}.")
    publish(svc)  # a Linux application
    body = vm_body(entry(version_id()), os_type=None, image=image_id() + "/versions/latest",
                   os_profile=False)
    assert "while current OSDisk's OS is Windows." in error(svc.request("PUT", vm_id(), body))[2]


def test_image_of_other_subscription_needs_access(svc: GalleryService) -> None:
    with_image(svc)
    answer = svc.request("PUT", vm_id(sub=OTHER), vm_body(os_type=None, image=image_id()))
    assert error(answer) == (403, "AuthorizationFailed",
                             "Subscription not authorized to access this image.")


def test_resolve_profile_for_scenarios(svc: GalleryService) -> None:
    publish(svc, versions=("1.0.0", "1.1.0"))
    resolved = svc.resolve_profile([entry(app_id() + "/versions/latest")], region="East US",
                                   subscription=SUB, os_type="Linux")
    assert [(r.version, r.pinned, r.package.install) for r in resolved] == [
        ("1.1.0", False, "./install")]
    with pytest.raises(ServiceError) as caught:
        svc.resolve_profile([entry(version_id())], region="eastus", subscription=SUB,
                            os_type="Windows")
    assert caught.value.row == "os_mismatch"


@pytest.mark.parametrize("field,value,expected", [
    ("treatFailureAsDeploymentFailure", "yes", "expected true or false"),
    ("enableAutomaticUpgrade", 1, "expected true or false"),
    ("tags", {"a": "b"}, "expected a string"),
    ("configurationReference", 5, "expected a string"),
])
def test_entry_flags_are_typed(svc: GalleryService, field: str, value: object,
                               expected: str) -> None:
    publish(svc)
    message = error(svc.request("PUT", vm_id(), vm_body(entry(version_id(),
                                                              **{field: value}))))[2]
    assert message.endswith(f"'applicationProfile.galleryApplications[0].{field}' is not "
                            f"valid: {expected}.")

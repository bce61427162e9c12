"""Rules of the images seeds (003, 004) on definitions, versions and the VMs built from them:
disk controller types, ZRS only where there are availability zones, what a scale set's image
may change to, security types, Flexible scale sets across tenants, and which version `latest`
gave."""

from __future__ import annotations

from typing import Any

import pytest
from gallery_builders import (
    OTHER,
    SUB,
    VMSS,
    define,
    error,
    features,
    gallery_body,
    gallery_id,
    image_body,
    image_id,
    image_version_body,
    machine,
    ok,
    publish,
    regions,
    version_body,
    version_id,
    vm_id,
)

from harness.gallery import GalleryService
from harness.gallery.replay import Replayer, parse_requests

DEF = "galleryImage.properties"


# -- image definition features (seed 003) ----------------------------------------------------

@pytest.mark.parametrize("value", ["NVMe", "SCSI,SCSI", "IDE", "SCSI,NVMe,IDE", ""])
def test_disk_controller_types_other_than_the_seeds_two_are_refused(
        gallery: GalleryService, value: str) -> None:
    answer = gallery.request("PUT", image_id(), image_body(
        features=features(DiskControllerTypes=value)))
    assert error(answer) == (400, "InvalidParameter", f"The value '{value}' of parameter "
                             f"'{DEF}.features[0].value' is not valid: expected SCSI or "
                             "SCSI, NVMe.")


@pytest.mark.parametrize("name,value", [("DiskControllerTypes", "SCSI"),
                                        ("DiskControllerTypes", "SCSI, NVMe"),
                                        ("DiskControllerTypes", "nvme,scsi"),
                                        ("DiskControllerType", "SCSI,NVMe")])
def test_disk_controller_types_of_the_seeds_are_accepted(gallery: GalleryService, name: str,
                                                         value: str) -> None:
    ok(gallery.request("PUT", image_id(), image_body(features=[{"name": name,
                                                                "value": value}])), 201)


def test_unknown_or_repeated_features_are_refused(gallery: GalleryService) -> None:
    assert error(gallery.request("PUT", image_id(), image_body(
        features=features(IsFastBoot="True"))))[2] == (
        f"The value 'IsFastBoot' of parameter '{DEF}.features[0].name' is not valid: expected "
        "one of IsHibernateSupported, IsAcceleratedNetworkSupported, DiskControllerTypes, "
        "SecurityType.")
    twice = [{"name": "IsHibernateSupported", "value": "True"},
             {"name": "isHibernateSupported", "value": "False"}]
    assert error(gallery.request("PUT", image_id(), image_body(features=twice)))[2] == (
        f"The value 'isHibernateSupported' of parameter '{DEF}.features[1].name' is not valid: "
        "the feature is already given.")


# -- ZRS only in regions with availability zones (seed 004) -----------------------------------

ZRS_IN_WESTUS = ("Standard_ZRS can only be chosen for regions with Availability Zones; "
                 "region 'westus' has none.")


def test_zrs_target_region_without_availability_zones_is_refused(
        gallery: GalleryService) -> None:
    define(gallery, versions=())
    path = f"{image_id()}/versions/1.0.0"
    explicit = regions("eastus") + regions("westus", storageAccountType="Standard_ZRS")
    assert error(gallery.request("PUT", path, image_version_body(targetRegions=explicit))) == (
        400, "InvalidParameter", ZRS_IN_WESTUS)
    inherited = image_version_body(storageAccountType="Standard_ZRS",
                                   targetRegions=regions("eastus", "westus"))
    assert error(gallery.request("PUT", path, inherited))[2] == ZRS_IN_WESTUS
    fine = image_version_body(storageAccountType="Standard_ZRS", targetRegions=regions(
        "eastus") + regions("westus", storageAccountType="Standard_LRS"))
    ok(gallery.request("PUT", path, fine), 201)


def test_zrs_rule_holds_for_application_versions_too(svc: GalleryService) -> None:
    publish(svc, versions=())
    body = version_body(targetRegions=regions("eastus") + regions(
        "westus", storageAccountType="Standard_ZRS"))
    assert error(svc.request("PUT", version_id(), body))[2] == ZRS_IN_WESTUS


# -- which version `latest` gave -------------------------------------------------------------

def test_vm_answer_names_the_version_latest_resolved_to(gallery: GalleryService) -> None:
    image = define(gallery, versions=("1.0.0", "2.0.0", "1.5.0"))
    for name, reference in (("vm", f"{image}/versions/latest"), ("by-definition", image)):
        got = ok(gallery.request("PUT", vm_id(name), machine(reference)), 201)
        assert got["properties"]["storageProfile"]["imageReference"] == {
            "id": reference, "exactVersion": "2.0.0"}
    assert gallery.get(vm_id())["properties"]["storageProfile"]["imageReference"][
        "exactVersion"] == "2.0.0"
    resolved = gallery.deployed_image(vm_id())
    assert resolved is not None
    assert (resolved.version, resolved.version_id, resolved.pinned) == (
        "2.0.0", f"{image}/versions/2.0.0", False)
    pinned = ok(gallery.request("PUT", vm_id("p"), machine(f"{image}/versions/1.5.0")), 201)
    assert pinned["properties"]["storageProfile"]["imageReference"]["exactVersion"] == "1.5.0"


def test_scale_set_answer_names_the_version_latest_resolved_to(gallery: GalleryService) -> None:
    image = define(gallery, versions=("1.0.0", "1.1.0"))
    got = ok(gallery.request("PUT", vm_id("ss", kind=VMSS), machine(image, kind=VMSS)), 201)
    assert got["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"][
        "exactVersion"] == "1.1.0"


def test_resolve_image_for_scenarios(gallery: GalleryService) -> None:
    image = define(gallery, versions=("1.0.0", "1.1.0"))
    ok(gallery.request("PUT", f"{image}/versions/1.2.0", image_version_body(
        excludeFromLatest=True)), 201)
    resolved = gallery.resolve_image(f"{image}/versions/latest", region="East US")
    assert (resolved.version, resolved.os_type, resolved.hyper_v_generation) == (
        "1.1.0", "Linux", "V1")


def test_replay_output_names_the_version_latest_resolved_to(gallery: GalleryService) -> None:
    image = define(gallery, versions=("1.0.0", "3.0.0"))
    requests = parse_requests([{"method": "PUT", "path": vm_id(),
                                "body": machine(f"{image}/versions/latest")}], "r.json")
    [answer] = list(Replayer(gallery).run(requests))
    assert answer["body"]["properties"]["storageProfile"]["imageReference"][
        "exactVersion"] == "3.0.0"


# -- what a scale set's image may change to (seed 003 FAQ) ------------------------------------

SWAP = ("The scale set image reference can only change to an image with the same OS type, "
        "Hyper-V generation and data disk layout: {image} has {what} {new}, the current image "
        "{old}.")


def disks(*luns: int) -> dict[str, Any]:
    return {"source": {"id": f"/subscriptions/{SUB}/resourceGroups/rg/providers/"
                             "Microsoft.Compute/images/base"},
            "dataDiskImages": [{"lun": lun, "sizeInGB": 32} for lun in luns]}


@pytest.mark.parametrize("props,what,new,old", [
    ({"os_type": "Windows"}, "OS type", "Windows", "Linux"),
    ({"hyperVGeneration": "V2"}, "Hyper-V generation", "V2", "V1"),
    ({"storage": disks(0, 1)}, "data disk LUNs", "0, 1", "0"),
])
def test_scale_set_image_swap_keeps_os_type_generation_and_disk_layout(
        gallery: GalleryService, props: dict[str, Any], what: str, new: str, old: str) -> None:
    first = define(gallery, "first", storage=disks(0))
    ok(gallery.request("PUT", vm_id("ss", kind=VMSS), machine(first, kind=VMSS)), 201)
    other = define(gallery, "other", **{"storage": disks(0), **props})
    assert error(gallery.request("PUT", vm_id("ss", kind=VMSS), machine(other, kind=VMSS))) == (
        400, "InvalidParameter", SWAP.format(image=other, what=what, new=new, old=old))


def test_scale_set_image_swap_to_a_matching_image_is_allowed(gallery: GalleryService) -> None:
    first = define(gallery, "first", storage=disks(0))
    ok(gallery.request("PUT", vm_id("ss", kind=VMSS), machine(first, kind=VMSS)), 201)
    same = define(gallery, "same", storage=disks(0))
    ok(gallery.request("PUT", vm_id("ss", kind=VMSS), machine(same, kind=VMSS)), 200)


def test_scale_set_image_swap_across_os_state_needs_the_other_os_profile(
        gallery: GalleryService) -> None:
    first = define(gallery, "first")
    ok(gallery.request("PUT", vm_id("ss", kind=VMSS), machine(first, kind=VMSS)), 201)
    specialized = define(gallery, "spec", os_state="Specialized")
    assert error(gallery.request("PUT", vm_id("ss", kind=VMSS),
                                 machine(specialized, kind=VMSS)))[2] == (
        f"Parameter 'osProfile' is not allowed with a specialized image {specialized}.")


# -- security types (seed 003 features table) -------------------------------------------------

@pytest.mark.parametrize("image_type,allowed", [
    (None, ("Standard",)),
    ("TrustedLaunch", ("TrustedLaunch",)),
    ("ConfidentialVM", ("ConfidentialVM",)),
    ("TrustedLaunchSupported", ("Standard", "TrustedLaunch")),
    ("ConfidentialVMSupported", ("Standard", "ConfidentialVM")),
    ("TrustedLaunchAndConfidentialVmSupported", ("Standard", "TrustedLaunch", "ConfidentialVM")),
])
def test_vm_security_type_must_be_one_the_image_allows(
        gallery: GalleryService, image_type: str | None, allowed: tuple[str, ...]) -> None:
    extra: dict[str, Any] = {"hyperVGeneration": "V2"}
    if image_type is not None:
        extra["features"] = features(SecurityType=image_type)
    image = define(gallery, **extra)
    for index, security in enumerate(("Standard", "TrustedLaunch", "ConfidentialVM")):
        answer = gallery.request("PUT", vm_id(f"vm{index}"), machine(image, security=security))
        if security in allowed:
            ok(answer, 201)
        else:
            assert error(answer) == (400, "InvalidParameter", (
                f"The gallery image {image} allows VMs of security type "
                f"{', '.join(allowed)} only; the VM asks for {security}."))


def test_no_security_profile_is_a_standard_vm(gallery: GalleryService) -> None:
    image = define(gallery, hyperVGeneration="V2", features=features(SecurityType="TrustedLaunch"))
    assert error(gallery.request("PUT", vm_id(), machine(image)))[2].endswith(
        "the VM asks for Standard.")


# -- Flexible scale sets and other tenants' images (seed 004) ---------------------------------

FLEX_TEXT = ("You can't currently create a Flexible virtual machine scale set from an image "
             "shared by another tenant.")


@pytest.fixture
def shared(svc: GalleryService) -> str:
    """An image in SUB's direct shared gallery, shared with OTHER's tenant."""
    svc.set_tenant(SUB, "tenant-a")
    svc.set_tenant(OTHER, "tenant-b")
    ok(svc.request("PUT", gallery_id(), gallery_body(sharingProfile={"permissions": "Groups"})),
       201)
    ok(svc.request("POST", f"{gallery_id()}/share", {
        "operationType": "Add", "groups": [{"type": "AADTenants", "ids": ["tenant-b"]}]}))
    return define(svc)


def test_flexible_scale_set_from_another_tenants_image_is_refused(
        svc: GalleryService, shared: str) -> None:
    flexible = machine(shared, kind=VMSS, orchestrationMode="Flexible")
    assert error(svc.request("PUT", vm_id("ss", OTHER, VMSS), flexible)) == (
        400, "OperationNotAllowed", FLEX_TEXT)
    ok(svc.request("PUT", vm_id("ss", OTHER, VMSS), machine(shared, kind=VMSS,
                                                           orchestrationMode="Uniform")), 201)
    ok(svc.request("PUT", vm_id("vm", OTHER), machine(shared)), 201)
    ok(svc.request("PUT", vm_id("own", SUB, VMSS), flexible), 201)


# -- what the image's features let a VM use (seed 003 features table) --------------------------

FEATURE_TEXT = ("The gallery image {image} does not support {what}: its image definition does "
                "not set {feature}.")


@pytest.mark.parametrize("props,what,feature,enable", [
    ({"additionalCapabilities": {"hibernationEnabled": True}}, "hibernation",
     "IsHibernateSupported=True", {"IsHibernateSupported": "True"}),
    ({"networkProfile": {"networkInterfaceConfigurations": [
        {"name": "nic", "properties": {"enableAcceleratedNetworking": True}}]}},
     "accelerated networking", "IsAcceleratedNetworkSupported=True",
     {"IsAcceleratedNetworkSupported": "True"}),
    ({"storageProfile": {"diskControllerType": "NVMe"}}, "the NVMe disk controller",
     "DiskControllerTypes=SCSI, NVMe", {"DiskControllerTypes": "SCSI, NVMe"}),
])
def test_vm_features_need_the_image_feature(gallery: GalleryService, props: dict[str, Any],
                                            what: str, feature: str,
                                            enable: dict[str, str]) -> None:
    plain = define(gallery, "plain")
    with_feature = define(gallery, "featured", features=features(**enable))
    for kind in ("virtualMachines", VMSS):
        body = machine(plain, kind=kind)
        holder = body["properties"]
        if kind == VMSS and "additionalCapabilities" not in props:
            holder = holder["virtualMachineProfile"]
        for key, value in props.items():
            holder[key] = {**holder.get(key, {}), **value}
        assert error(gallery.request("PUT", vm_id(kind=kind), body)) == (
            400, "InvalidParameter", FEATURE_TEXT.format(image=plain, what=what,
                                                         feature=feature))
        storage = body["properties"].get("virtualMachineProfile", body["properties"])[
            "storageProfile"]
        storage["imageReference"]["id"] = with_feature
        ok(gallery.request("PUT", vm_id(kind=kind), body), 201)


def test_features_off_ask_for_nothing(gallery: GalleryService) -> None:
    plain = define(gallery)
    body = machine(plain, additionalCapabilities={"hibernationEnabled": False})
    body["properties"]["storageProfile"]["diskControllerType"] = "SCSI"
    ok(gallery.request("PUT", vm_id(), body), 201)


def test_disallowed_os_disk_type(gallery: GalleryService) -> None:
    image = define(gallery, disallowed={"diskTypes": ["Standard_LRS"]})
    body = machine(image)
    body["properties"]["storageProfile"]["osDisk"] = {
        "createOption": "FromImage", "managedDisk": {"storageAccountType": "standard_lrs"}}
    assert error(gallery.request("PUT", vm_id(), body)) == (
        400, "InvalidParameter", f"The gallery image {image} disallows OS disks of type "
        "standard_lrs (disallowed.diskTypes: Standard_LRS).")
    body["properties"]["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"] = (
        "Premium_LRS")
    ok(gallery.request("PUT", vm_id(), body), 201)


def test_disallowed_types_cover_data_disks_made_from_the_image(gallery: GalleryService) -> None:
    image = define(gallery, disallowed={"diskTypes": ["Standard_LRS"]})
    body = machine(image, kind=VMSS)
    storage = body["properties"]["virtualMachineProfile"]["storageProfile"]
    storage["dataDisks"] = [
        {"lun": 0, "createOption": "Empty", "managedDisk": {"storageAccountType": "Standard_LRS"}},
        {"lun": 1, "createOption": "FromImage",
         "managedDisk": {"storageAccountType": "Standard_LRS"}}]
    assert error(gallery.request("PUT", vm_id("ss", kind=VMSS), body)) == (
        400, "InvalidParameter", f"The gallery image {image} disallows data disks of type "
        "Standard_LRS (disallowed.diskTypes: Standard_LRS).")
    assert gallery.request("PUT", vm_id("ss", kind=VMSS), body).body["error"]["target"] == (
        "properties.storageProfile.dataDisks[1].managedDisk")
    storage["dataDisks"].pop()
    ok(gallery.request("PUT", vm_id("ss", kind=VMSS), body), 201)


def test_disallowed_disk_types_must_be_a_list_of_strings(gallery: GalleryService) -> None:
    assert error(gallery.request("PUT", image_id(), image_body(
        disallowed={"diskTypes": "Standard_LRS"})))[2] == (
        f"The value 'Standard_LRS' of parameter '{DEF}.disallowed.diskTypes' is not valid: "
        "expected an array.")
    assert error(gallery.request("PUT", image_id(), image_body(
        disallowed={"diskTypes": [1]})))[2] == (
        f"The value '1' of parameter '{DEF}.disallowed.diskTypes[0]' is not valid: expected "
        "a string.")


# -- scale sets from gallery images: up to 1,000 instances (seed 004) --------------------------

def test_scale_set_from_a_gallery_image_has_at_most_1000_instances(
        gallery: GalleryService) -> None:
    image = define(gallery)
    body = machine(image, kind=VMSS)
    body["sku"] = {"name": "Standard_D2s_v3", "capacity": 1001}
    assert error(gallery.request("PUT", vm_id("ss", kind=VMSS), body)) == (
        400, "InvalidParameter", "The value '1001' of parameter 'sku.capacity' is not valid: "
        "a scale set can deploy up to 1,000 VM instances from an Azure Compute Gallery image.")
    body["sku"]["capacity"] = 1000
    ok(gallery.request("PUT", vm_id("ss", kind=VMSS), body), 201)


# -- end of life is informational (seed 003) ---------------------------------------------------

def test_vms_deploy_versions_and_definitions_past_end_of_life(gallery: GalleryService) -> None:
    image = define(gallery, versions=(), endOfLifeDate="2000-01-01")
    ok(gallery.request("PUT", f"{image}/versions/1.0.0", image_version_body(
        endOfLifeDate="2001-01-01")), 201)
    ok(gallery.request("PUT", vm_id(), machine(f"{image}/versions/1.0.0")), 201)
    ok(gallery.request("PUT", vm_id("latest"), machine(image)), 201)
    resolved = gallery.deployed_image(vm_id())
    assert resolved is not None and resolved.end_of_life is not None
    assert resolved.end_of_life.year == 2001
    latest = gallery.deployed_image(vm_id("latest"))
    assert latest is not None and latest.end_of_life is not None


def test_definition_end_of_life_is_the_versions_default(gallery: GalleryService) -> None:
    image = define(gallery, endOfLifeDate="2000-01-01")
    ok(gallery.request("PUT", vm_id(), machine(image)), 201)
    resolved = gallery.deployed_image(vm_id())
    assert resolved is not None and resolved.end_of_life is not None
    assert resolved.end_of_life.year == 2000


# -- no replication across clouds (seed 003 FAQ) -----------------------------------------------

@pytest.mark.parametrize("region", ["usgovvirginia", "chinaeast2", "germanycentral"])
def test_other_clouds_are_not_target_regions(gallery: GalleryService, region: str) -> None:
    define(gallery, versions=())
    answer = gallery.request("PUT", f"{image_id()}/versions/1.0.0", image_version_body(
        targetRegions=regions("eastus", region)))
    assert error(answer) == (400, "LocationNotAvailableForResourceType",
                             f"The provided location '{region}' is not available for resource "
                             "type 'Microsoft.Compute/galleries/images/versions'.")


# -- what may change after creation (seed 003 "Updating resources") ----------------------------

def test_image_version_storage_account_type_cannot_change(gallery: GalleryService) -> None:
    define(gallery, versions=())
    path = f"{image_id()}/versions/1.0.0"
    ok(gallery.request("PUT", path, image_version_body(storageAccountType="Standard_ZRS")), 201)
    assert error(gallery.request("PUT", path, image_version_body(
        storageAccountType="Premium_LRS"))) == (
        409, "PropertyChangeNotAllowed", "Changing property 'galleryImageVersion.properties."
        "publishingProfile.storageAccountType' is not allowed.")
    ok(gallery.request("PUT", path, image_version_body(
        storageAccountType="standard_zrs", replicaCount=2, excludeFromLatest=True,
        endOfLifeDate="2030-01-01", targetRegions=regions("eastus", "westus2"))), 200)


@pytest.mark.parametrize("change,parameter", [
    ({"sharingProfile": {"communityGalleryInfo": {"publisherUri": "https://contoso.com"}}},
     "sharingProfile"),
    ({"softDeletePolicy": {"isSoftDeleteEnabled": True}}, "softDeletePolicy"),
])
def test_gallery_only_description_can_change(gallery: GalleryService, change: dict[str, Any],
                                             parameter: str) -> None:
    ok(gallery.request("PUT", gallery_id(), gallery_body(description="new")), 200)
    assert error(gallery.request("PUT", gallery_id(), gallery_body(**change))) == (
        409, "PropertyChangeNotAllowed",
        f"Changing property 'gallery.properties.{parameter}' is not allowed.")
    ok(gallery.request("PUT", gallery_id(), gallery_body(
        sharingProfile={"permissions": "Private"})), 200)
    ok(gallery.request("PATCH", gallery_id(), {"properties": {"description": "again"}}), 200)


# -- definition metadata (seed 003 "other parameters") -----------------------------------------

def test_definition_metadata_tags_architecture_plan_and_uris(gallery: GalleryService) -> None:
    body = image_body(architecture="Arm64", privacyStatementUri="https://contoso.com/p",
                      purchasePlan={"name": "n", "publisher": "p", "product": "x"})
    body["tags"] = {"team": "images"}
    got = ok(gallery.request("PUT", image_id(), body), 201)
    assert (got["tags"], got["properties"]["architecture"]) == ({"team": "images"}, "Arm64")
    assert error(gallery.request("PUT", image_id("b"), image_body(sku="b",
                                                                  architecture="arm")))[2] == (
        f"The value 'arm' of parameter '{DEF}.architecture' is not valid: expected one of x64, "
        "Arm64.")
    assert "expected an absolute http or https URI" in error(gallery.request(
        "PUT", image_id("c"), image_body(sku="c", releaseNoteUri="notes.txt")))[2]
    body["properties"]["purchasePlan"]["product"] = "y"
    assert error(gallery.request("PUT", image_id(), body))[2] == (
        f"Changing property '{DEF}.purchasePlan' is not allowed.")

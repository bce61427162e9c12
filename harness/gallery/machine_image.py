"""The gallery image a VM or scale set boots, and what the image allows it (seeds 003, 004).

Checked in this order once ``storageProfile.imageReference.id`` resolves (``resolve``: exists,
readable, replicated to the region; a VM updated with the same reference keeps the version it
was created from, a scale set's model resolves again):

1. OS state: a specialized image refuses an ``osProfile``, a generalized one needs it;
2. a scale set whose image changes keeps the OS type, Hyper-V generation and data disk layout
   (seed 003: "as long as the OS type, Hyper-V generation, and the data disk layout matches");
   when its former image is outside the model (a managed image, the seed's example), the OS
   type the scale set had is what is known of it;
3. the VM's security type is one the image's ``SecurityType`` feature allows (no feature: a
   standard VM only);
4. hibernation, accelerated networking and the NVMe disk controller need the image's
   ``IsHibernateSupported``, ``IsAcceleratedNetworkSupported`` and ``DiskControllerTypes``
   features ("Create VMs with ..."), and the OS disk type is not in ``disallowed.diskTypes``;
5. a scale set has at most 1,000 instances (seed 004: "you can deploy up to a 1,000 VM
   instances in a scale set"), and a Flexible one cannot use an image shared by another tenant
   (seed 004).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.gallery.bodies import (
    Json,
    canonical,
    obj,
    one_of,
    opt_bool,
    opt_int,
    opt_list,
    opt_str,
)
from harness.gallery.core import Core
from harness.gallery.errors import fail
from harness.gallery.resolve import resolve_community_image, resolve_image
from harness.gallery.resources import Machine, ResolvedImage

STANDARD, TRUSTED, CONFIDENTIAL = "Standard", "TrustedLaunch", "ConfidentialVM"
# Seed 003's SecurityType table: which VMs each image type can create ("Gen2 VM" = Standard).
VM_SECURITY: dict[str | None, tuple[str, ...]] = {
    None: (STANDARD,),
    "TrustedLaunch": (TRUSTED,),
    "ConfidentialVM": (CONFIDENTIAL,),
    "TrustedLaunchSupported": (STANDARD, TRUSTED),
    "ConfidentialVMSupported": (STANDARD, CONFIDENTIAL),
    "TrustedLaunchAndConfidentialVmSupported": (STANDARD, TRUSTED, CONFIDENTIAL),
}
REFERENCE = "properties.storageProfile.imageReference"
MAX_INSTANCES = 1000


def _os_state(image: ResolvedImage, profile: Json) -> None:
    has_os_profile = profile.get("osProfile") is not None
    if image.os_state == "Specialized" and has_os_profile:
        raise fail("os_profile_not_allowed", "properties.osProfile", image=image.reference)
    if image.os_state == "Generalized" and not has_os_profile:
        raise fail("os_profile_required", "properties.osProfile", image=image.reference)


def _layout(luns: tuple[int, ...]) -> str:
    return ", ".join(str(lun) for lun in luns) or "none"


def _swap(image: ResolvedImage, before: Machine) -> None:
    """Seed 003: the scale set's image may change "as long as the OS type, Hyper-V generation,
    and the data disk layout matches".  A former image outside the model (managed or
    marketplace) is known only by the OS type the scale set had."""
    old_image = before.image
    pairs = [("OS type", image.os_type, before.os_type)]
    if old_image is not None:
        pairs = [("OS type", image.os_type, old_image.os_type),
                 ("Hyper-V generation", image.hyper_v_generation, old_image.hyper_v_generation),
                 ("data disk LUNs", _layout(image.data_disk_luns),
                  _layout(old_image.data_disk_luns))]
    for what, new, old in pairs:
        if old is not None and new != old:
            raise fail("image_swap_mismatch", f"{REFERENCE}.id", image=image.reference,
                       what=what, new=new, old=old)


def _security(image: ResolvedImage, profile: Json) -> None:
    security = obj(profile, "securityProfile", "properties")
    asked = one_of(security, "securityType", "properties.securityProfile",
                   (STANDARD, TRUSTED, CONFIDENTIAL), STANDARD)
    allowed = VM_SECURITY[image.features.security_type]
    if asked not in allowed:
        raise fail("security_type_not_allowed", "properties.securityProfile.securityType",
                   image=image.reference, allowed=", ".join(allowed), security=asked)


def _unsupported(image: ResolvedImage, what: str, feature: str) -> None:
    raise fail("feature_unsupported", "properties", image=image.reference, what=what,
               feature=feature)


def accelerated_networking(profile: Json) -> bool:
    """Whether a VM (or scale set model) enables accelerated networking on any NIC."""
    network = obj(profile, "networkProfile", "properties")
    path = "properties.networkProfile.networkInterfaceConfigurations"
    enabled = False
    for index, nic in enumerate(opt_list(network, "networkInterfaceConfigurations",
                                         "properties.networkProfile")):
        if not isinstance(nic, dict):
            raise fail("invalid_value", f"{path}[{index}]", value=nic,
                       parameter=f"{path}[{index}]", reason="expected an object")
        nic_props = obj(nic, "properties", f"{path}[{index}]")
        enabled |= bool(opt_bool(nic_props, "enableAcceleratedNetworking",
                                 f"{path}[{index}].properties"))
    return enabled


def disk_controller(profile: Json) -> str | None:
    """The VM's ``storageProfile.diskControllerType`` (SCSI or NVMe), None when not given."""
    return one_of(obj(profile, "storageProfile", "properties"), "diskControllerType",
                  "properties.storageProfile", ("SCSI", "NVMe"))


def _features(image: ResolvedImage, props: Json, profile: Json) -> None:
    features = image.features
    capabilities = obj(props, "additionalCapabilities", "properties")
    if (opt_bool(capabilities, "hibernationEnabled", "properties.additionalCapabilities")
            and not features.hibernate):
        _unsupported(image, "hibernation", "IsHibernateSupported=True")
    if accelerated_networking(profile) and not features.accelerated_network:
        _unsupported(image, "accelerated networking", "IsAcceleratedNetworkSupported=True")
    controller = disk_controller(profile)
    if controller is not None and controller not in features.disk_controllers:
        _unsupported(image, "the NVMe disk controller", "DiskControllerTypes=SCSI, NVMe")
    for path, kind, disk_type in _disks_from_image(profile):
        if disk_type.lower() in (d.lower() for d in features.disallowed_disk_types):
            raise fail("disk_type_disallowed", path, image=image.reference, disk=kind,
                       disk_type=disk_type, disallowed=", ".join(features.disallowed_disk_types))


def _disks_from_image(profile: Json) -> Iterator[tuple[str, str, str]]:
    """(path, OS or data, storage account type) of the disks made from the image: the OS disk
    and the data disks with ``createOption: FromImage`` (copies of the image's data disks;
    seed 003: the image's disallowed disk types are "the storage needs for your VM")."""
    storage = obj(profile, "storageProfile", "properties")
    disks = [("properties.storageProfile.osDisk", "OS",
              obj(storage, "osDisk", "properties.storageProfile"))]
    for index, item in enumerate(opt_list(storage, "dataDisks", "properties.storageProfile")):
        path = f"properties.storageProfile.dataDisks[{index}]"
        if not isinstance(item, dict):
            raise fail("invalid_value", path, value=item, parameter=path,
                       reason="expected an object")
        option = opt_str(item, "createOption", path)
        if option is not None and option.lower() == "fromimage":
            disks.append((path, "data", item))
    for path, kind, disk in disks:
        managed = obj(disk, "managedDisk", path)
        disk_type = opt_str(managed, "storageAccountType", f"{path}.managedDisk")
        if disk_type:
            yield f"{path}.managedDisk", kind, disk_type


def _scale_set(core: Core, image: ResolvedImage, body: Json, caller: str,
               tenant: str | None) -> None:
    capacity = opt_int(obj(body, "sku", "resource"), "capacity", "sku")
    if capacity is not None and capacity > MAX_INSTANCES:
        raise fail("invalid_value", "sku.capacity", value=capacity, parameter="sku.capacity",
                   reason="a scale set can deploy up to 1,000 VM instances from an Azure "
                   "Compute Gallery image")
    props = obj(body, "properties", "properties")
    mode = one_of(props, "orchestrationMode", "properties", ("Uniform", "Flexible"))
    if mode != "Flexible":
        return
    owner = core.find(image.definition_id)
    assert owner is not None
    owner_tenant = core.tenants.get(core.gallery_of(owner).subscription.lower())
    caller_tenant = tenant or core.tenants.get(caller.lower())
    if owner_tenant and caller_tenant and owner_tenant.lower() != caller_tenant.lower():
        raise fail("flexible_other_tenant", f"{REFERENCE}.id")


def _reference_key(reference: Json) -> Any:
    """An image reference as compared for a change: ids and names in any case; the read-only
    ``exactVersion`` an answer adds (and a client may send back) does not count."""
    return canonical({key: value for key, value in reference.items() if key != "exactVersion"})


def image_reference(profile: Json, before: Machine | None, *, scale_set: bool) -> Json:
    """The ``imageReference`` a VM or scale set boots after this request: the one given, else
    (an update that names none) the one it had.

    A VM's cannot change: its disks were made from the image when it was created (seed 003:
    "When you create a VM from the image, a copy of the VHDs in the image are used to create
    the disks for the new VM"); only a scale set's image reference may be updated (seed 003
    FAQ), which ``_swap`` checks."""
    storage = obj(profile, "storageProfile", "properties")
    given = obj(storage, "imageReference", "properties.storageProfile")
    had = before.image_reference if before is not None else {}
    if not given:
        return had
    if not scale_set and had and _reference_key(given) != _reference_key(had):
        raise fail("property_change", REFERENCE, parameter="imageReference")
    return given


def check_machine_image(core: Core, body: Json, profile: Json, reference: Json, *, region: str,
                        caller: str, tenant: str | None, before: Machine | None,
                        scale_set: bool) -> ResolvedImage | None:
    """Resolves and checks the gallery image ``reference`` names for a VM or scale set
    (``body``; its model is ``profile``); None when it names no gallery image.  ``before``:
    the VM or scale set as it was until now."""
    image_id = opt_str(reference, "id", REFERENCE)
    community_id = opt_str(reference, "communityGalleryImageId", REFERENCE)
    if image_id and community_id:
        raise fail("invalid_value", REFERENCE, value=community_id, parameter=REFERENCE,
                   reason="give either id or communityGalleryImageId")
    image: ResolvedImage | None
    if not (image_id or community_id):
        return None
    if not scale_set and before is not None and before.image is not None:
        image = before.image  # its OS disk exists: it keeps that version
    elif community_id:
        image = resolve_community_image(core, community_id, region=region,
                                        target=f"{REFERENCE}.communityGalleryImageId")
    else:
        image = resolve_image(core, image_id or "", region=region, caller=caller,
                              tenant=tenant, target=f"{REFERENCE}.id")
    if image is None:
        return None
    _os_state(image, profile)
    if scale_set and before is not None:
        _swap(image, before)
    _security(image, profile)
    _features(image, obj(body, "properties", "properties"), profile)
    if scale_set:
        _scale_set(core, image, body, caller, tenant)
    return image

"""The gallery image a VM or scale set boots, and what the image allows it (seeds 003, 004).

Checked in this order once ``storageProfile.imageReference.id`` resolves (``resolve``: exists,
readable, replicated to the region):

1. OS state: a specialized image refuses an ``osProfile``, a generalized one needs it;
2. a scale set whose image changes keeps the OS type, Hyper-V generation and data disk layout
   (seed 003: "as long as the OS type, Hyper-V generation, and the data disk layout matches");
3. the VM's security type is one the image's ``SecurityType`` feature allows (no feature: a
   standard VM only);
4. a Flexible scale set cannot use an image shared by another tenant (seed 004).
"""

from __future__ import annotations

from harness.gallery.bodies import Json, obj, one_of, opt_str
from harness.gallery.core import Core
from harness.gallery.errors import fail
from harness.gallery.resolve import resolve_image
from harness.gallery.resources import ResolvedImage

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


def _os_state(image: ResolvedImage, profile: Json) -> None:
    has_os_profile = profile.get("osProfile") is not None
    if image.os_state == "Specialized" and has_os_profile:
        raise fail("os_profile_not_allowed", "properties.osProfile", image=image.reference)
    if image.os_state == "Generalized" and not has_os_profile:
        raise fail("os_profile_required", "properties.osProfile", image=image.reference)


def _layout(luns: tuple[int, ...]) -> str:
    return ", ".join(str(lun) for lun in luns) or "none"


def _swap(image: ResolvedImage, before: ResolvedImage) -> None:
    for what, new, old in (("OS type", image.os_type, before.os_type),
                           ("Hyper-V generation", image.hyper_v_generation,
                            before.hyper_v_generation),
                           ("data disk LUNs", _layout(image.data_disk_luns),
                            _layout(before.data_disk_luns))):
        if new != old:
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


def _tenant_of_flexible(core: Core, image: ResolvedImage, props: Json, caller: str,
                        tenant: str | None) -> None:
    mode = one_of(props, "orchestrationMode", "properties", ("Uniform", "Flexible"))
    if mode != "Flexible":
        return
    owner = core.find(image.definition_id)
    assert owner is not None
    owner_tenant = core.tenants.get(core.gallery_of(owner).subscription.lower())
    caller_tenant = tenant or core.tenants.get(caller.lower())
    if owner_tenant and caller_tenant and owner_tenant.lower() != caller_tenant.lower():
        raise fail("flexible_other_tenant", f"{REFERENCE}.id")


def check_machine_image(core: Core, props: Json, profile: Json, *, region: str, caller: str,
                        tenant: str | None, before: ResolvedImage | None,
                        scale_set: bool) -> ResolvedImage | None:
    """Resolves and checks the gallery image a VM (``props``; a scale set's model is
    ``profile``) boots; None when it names no gallery image.  ``before``: the image the scale
    set or VM booted until now."""
    storage = obj(profile, "storageProfile", "properties")
    reference = obj(storage, "imageReference", "properties.storageProfile")
    image_id = opt_str(reference, "id", REFERENCE)
    if not image_id:
        return None
    image = resolve_image(core, image_id, region=region, caller=caller, tenant=tenant,
                          target=f"{REFERENCE}.id")
    if image is None:
        return None
    _os_state(image, profile)
    if scale_set and before is not None:
        _swap(image, before)
    _security(image, profile)
    if scale_set:
        _tenant_of_flexible(core, image, props, caller, tenant)
    return image

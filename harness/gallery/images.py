"""Image definitions and image versions (seeds 003, 004): what is required, what may change.

Seed 003 lists what can change after creation: for definitions the recommended vCPUs and
memory, description, end-of-life date and release notes; for versions the replica counts,
target regions, exclude-from-latest and end-of-life date.  Everything else is immutable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.gallery.bodies import (
    Json,
    canonical,
    obj,
    one_of,
    opt_bool,
    opt_date,
    opt_int,
    opt_list,
    opt_str,
    req_str,
)
from harness.gallery.errors import fail
from harness.gallery.names import region_key
from harness.gallery.replication import Publishing
from harness.gallery.resources import ImageFeatures
from harness.gallery.validation import OS_TYPES, check_uri

DEF = "galleryImage.properties"
VER = "galleryImageVersion.properties"
SECURITY_TYPES = ("ConfidentialVMSupported", "ConfidentialVM", "TrustedLaunchSupported",
                  "TrustedLaunch", "TrustedLaunchAndConfidentialVmSupported")
PRIVATE_ONLY_SECURITY = ("ConfidentialVM", "TrustedLaunch")
BOOLEAN = ("True", "False")
DISK_CONTROLLERS = "DiskControllerTypes"
# The features table of seed 003, in its order.  It spells the disk controller feature
# "DiskControllerType"; ARM's name is "DiskControllerTypes": both are accepted.
FEATURE_VALUES: dict[str, tuple[str, ...]] = {
    "IsHibernateSupported": BOOLEAN,
    "IsAcceleratedNetworkSupported": BOOLEAN,
    DISK_CONTROLLERS: (),  # a list of controllers: see CONTROLLER_SETS
    "SecurityType": SECURITY_TYPES,
}
FEATURE_ALIASES = {"diskcontrollertype": DISK_CONTROLLERS}
# Seed 003: DiskControllerType is ["SCSI", "NVMe"] or ["SCSI"].
CONTROLLER_SETS = (("SCSI",), ("SCSI", "NVMe"))
IMMUTABLE_DEFINITION = ("identifier", "osType", "osState", "hyperVGeneration", "architecture",
                        "features", "eula", "privacyStatementUri", "purchasePlan", "disallowed")
FULL_DISK_GB = 1024  # seed 004: any disk attached to the image must be <= 1 TB
SHALLOW_DISK_GB = 32 * 1024  # seed 003: shallow replication allows images up to 32 TB


@dataclass(frozen=True)
class DefinitionFields:
    os_type: str
    os_state: str
    hyper_v_generation: str
    publisher: str
    offer: str
    sku: str
    features: ImageFeatures


def _feature_name(item: Json, path: str, seen: set[str]) -> str:
    name = req_str(item, "name", path)
    spelled = FEATURE_ALIASES.get(name.lower(), name)
    for known in FEATURE_VALUES:
        if known.lower() == spelled.lower():
            if known in seen:
                raise fail("invalid_value", f"{path}.name", value=name,
                           parameter=f"{path}.name", reason="the feature is already given")
            seen.add(known)
            return known
    raise fail("invalid_value", f"{path}.name", value=name, parameter=f"{path}.name",
               reason="expected one of " + ", ".join(FEATURE_VALUES))


def _controllers(item: Json, path: str) -> tuple[str, ...]:
    """``SCSI`` or ``SCSI, NVMe`` (any order, any case), in the seed's spelling."""
    value = opt_str(item, "value", path) or ""
    given = [part.strip().lower() for part in value.split(",")]
    for allowed in CONTROLLER_SETS:
        if sorted(given) == sorted(a.lower() for a in allowed):
            return allowed
    raise fail("invalid_value", f"{path}.value", value=value, parameter=f"{path}.value",
               reason="expected " + " or ".join(", ".join(a) for a in CONTROLLER_SETS))


def _disallowed(props: Mapping[str, Any]) -> tuple[str, ...]:
    path = f"{DEF}.disallowed"
    types = opt_list(obj(props, "disallowed", DEF), "diskTypes", path)
    for index, item in enumerate(types):
        if not isinstance(item, str):
            raise fail("invalid_value", f"{path}.diskTypes[{index}]", value=item,
                       parameter=f"{path}.diskTypes[{index}]", reason="expected a string")
    return tuple(types)


def _features(props: Mapping[str, Any], generation: str) -> ImageFeatures:
    values: dict[str, str | None] = {}
    controllers = ImageFeatures().disk_controllers
    seen: set[str] = set()
    for index, item in enumerate(opt_list(props, "features", DEF)):
        path = f"{DEF}.features[{index}]"
        if not isinstance(item, dict):
            raise fail("invalid_value", path, value=item, parameter=path,
                       reason="expected an object")
        name = _feature_name(item, path, seen)
        if name == DISK_CONTROLLERS:
            controllers = _controllers(item, path)
        else:
            values[name] = one_of(item, "value", path, FEATURE_VALUES[name])
    security = values.get("SecurityType")
    if security and generation != "V2":  # every SecurityType is a Gen2 image (seed 003)
        raise fail("invalid_value", f"{DEF}.hyperVGeneration", value=generation,
                   parameter=f"{DEF}.hyperVGeneration",
                   reason=f"SecurityType '{security}' requires hyperVGeneration V2")
    return ImageFeatures(security_type=security,
                         hibernate=values.get("IsHibernateSupported") == "True",
                         accelerated_network=values.get("IsAcceleratedNetworkSupported") == "True",
                         disk_controllers=controllers, disallowed_disk_types=_disallowed(props))


def _recommended(props: Mapping[str, Any]) -> None:
    recommended = obj(props, "recommended", DEF)
    for key in ("vCPUs", "memory"):
        bounds = obj(recommended, key, f"{DEF}.recommended")
        path = f"{DEF}.recommended.{key}"
        low, high = opt_int(bounds, "min", path), opt_int(bounds, "max", path)
        for name, value in (("min", low), ("max", high)):
            if value is not None and value < 1:
                raise fail("invalid_value", f"{path}.{name}", value=value,
                           parameter=f"{path}.{name}", reason="expected at least 1")
        if low is not None and high is not None and low > high:
            raise fail("invalid_value", f"{path}.min", value=low, parameter=f"{path}.min",
                       reason=f"min must not exceed max ({high})")


def parse_definition(body: Mapping[str, Any]) -> DefinitionFields:
    props = obj(body, "properties", "galleryImage")
    identifier = obj(props, "identifier", DEF)
    publisher = req_str(identifier, "publisher", f"{DEF}.identifier")
    offer = req_str(identifier, "offer", f"{DEF}.identifier")
    sku = req_str(identifier, "sku", f"{DEF}.identifier")
    os_type = one_of(props, "osType", DEF, OS_TYPES)
    os_state = one_of(props, "osState", DEF, ("Generalized", "Specialized"))
    for key, value in (("osType", os_type), ("osState", os_state)):
        if value is None:
            raise fail("missing_parameter", f"{DEF}.{key}", parameter=f"{DEF}.{key}")
    assert os_type is not None and os_state is not None
    generation = one_of(props, "hyperVGeneration", DEF, ("V1", "V2"), "V1")
    assert generation is not None
    one_of(props, "architecture", DEF, ("x64", "Arm64"))
    opt_str(props, "description", DEF)
    opt_date(props, "endOfLifeDate", DEF)
    for key in ("eula", "privacyStatementUri", "releaseNoteUri"):
        check_uri(props, key, DEF)
    _recommended(props)
    return DefinitionFields(os_type, os_state, generation, publisher, offer, sku,
                            _features(props, generation))


def check_definition_update(old: Json, new: Json) -> None:
    """Only recommended vCPUs/memory, description, end of life and release notes may change."""
    defaults = {"hyperVGeneration": "V1"}
    for key in IMMUTABLE_DEFINITION:
        before, after = old.get(key, defaults.get(key)), new.get(key, defaults.get(key))
        if canonical(before) != canonical(after):
            raise fail("property_change", f"{DEF}.{key}", parameter=f"{DEF}.{key}")


@dataclass(frozen=True)
class VersionFields:
    shallow: bool
    storage_profile: Json
    allow_replicated_location_deletion: bool
    data_disk_luns: tuple[int, ...]


def _disks(storage: Json) -> list[tuple[str, Json]]:
    disks = [("osDiskImage", obj(storage, "osDiskImage", f"{VER}.storageProfile"))]
    for index, item in enumerate(opt_list(storage, "dataDiskImages", f"{VER}.storageProfile")):
        if isinstance(item, dict):
            disks.append((f"dataDiskImages[{index}]", item))
    return disks


def parse_image_version(body: Mapping[str, Any], location: str,
                        publishing: Publishing) -> VersionFields:
    props = obj(body, "properties", "galleryImageVersion")
    profile = obj(props, "publishingProfile", VER)
    mode = one_of(profile, "replicationMode", f"{VER}.publishingProfile", ("Full", "Shallow"),
                  "Full")
    storage = obj(props, "storageProfile", VER)
    source = obj(storage, "source", f"{VER}.storageProfile")
    disks = _disks(storage)
    for name, disk in disks:  # a VHD (uri) comes with its storage account (seed 003)
        disk_source = obj(disk, "source", f"{VER}.storageProfile.{name}")
        if disk_source.get("uri") and not disk_source.get("storageAccountId"):
            parameter = f"{VER}.storageProfile.{name}.source.storageAccountId"
            raise fail("missing_parameter", parameter, parameter=parameter)
    os_source = obj(disks[0][1], "source", f"{VER}.storageProfile.osDiskImage")
    if not (source.get("id") or source.get("virtualMachineId") or os_source):
        parameter = f"{VER}.storageProfile.source.id"
        raise fail("missing_parameter", parameter, parameter=parameter)
    limit = SHALLOW_DISK_GB if mode == "Shallow" else FULL_DISK_GB
    luns = []
    for name, disk in disks:
        if name != "osDiskImage":
            lun = opt_int(disk, "lun", f"{VER}.storageProfile.{name}")
            if lun is None:
                parameter = f"{VER}.storageProfile.{name}.lun"
                raise fail("missing_parameter", parameter, parameter=parameter)
            luns.append(lun)
        size = opt_int(disk, "sizeInGB", f"{VER}.storageProfile.{name}")
        if size is not None and size > limit:
            raise fail("disk_too_big", f"{VER}.storageProfile.{name}.sizeInGB", disk=name,
                       size=size, mode=str(mode).lower(), limit=limit)
    if mode == "Shallow" and any(t.key != region_key(location) for t in publishing.targets):
        raise fail("shallow_regions", f"{VER}.publishingProfile.targetRegions",
                   location=location)
    safety = obj(props, "safetyProfile", VER)
    allow = opt_bool(safety, "allowDeletionOfReplicatedLocations", f"{VER}.safetyProfile")
    return VersionFields(mode == "Shallow", storage, allow is not False, tuple(sorted(luns)))


def check_image_version_update(old: VersionFields, new: VersionFields, old_publishing: Publishing,
                               new_publishing: Publishing) -> None:
    """Seed 003: replica counts, target regions, exclude from latest and end of life may change;
    the source, the replication mode and the default storage account type may not."""
    if canonical(old.storage_profile) != canonical(new.storage_profile):
        raise fail("property_change", f"{VER}.storageProfile",
                   parameter=f"{VER}.storageProfile")
    for key, before, after in (
            ("replicationMode", old.shallow, new.shallow),
            ("storageAccountType", old_publishing.storage_account_type,
             new_publishing.storage_account_type)):
        if before != after:
            parameter = f"{VER}.publishingProfile.{key}"
            raise fail("property_change", parameter, parameter=parameter)

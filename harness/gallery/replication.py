"""Publishing profiles: target regions, replica counts, and per-region replication state.

Application and image versions share these rules and differ in limits: application versions
allow 1..3 replicas per region and no encryption (seed 000); image versions allow 1..50 per
region (seed 004: "a maximum of 50 replicas per region") and 100 in total.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from harness.gallery.bodies import Json, obj, one_of, opt_bool, opt_date, opt_int, opt_list, req_str
from harness.gallery.errors import fail
from harness.gallery.names import region_key
from harness.gallery.regions import KNOWN_REGIONS, ZONE_REGIONS

ZRS = "Standard_ZRS"
STORAGE_ACCOUNT_TYPES = ("Standard_LRS", ZRS, "Premium_LRS")
COMPLETED = "Completed"
REPLICATING = "Replicating"


@dataclass(frozen=True)
class VersionKind:
    """What differs between application and image versions."""

    param: str
    type: str
    max_regional_replicas: int
    encryption_allowed: bool


APPLICATION_VERSION = VersionKind("galleryApplicationVersion",
                                  "Microsoft.Compute/galleries/applications/versions", 3, False)
IMAGE_VERSION = VersionKind("galleryImageVersion",
                            "Microsoft.Compute/galleries/images/versions", 50, True)


@dataclass(frozen=True)
class TargetRegion:
    name: str
    key: str
    replicas: int
    storage_account_type: str
    exclude_from_latest: bool | None  # regionalExcludeFromLatest; None = use the global flag
    encryption: Json | None

    def as_json(self) -> Json:
        data: Json = {"name": self.name, "regionalReplicaCount": self.replicas,
                      "storageAccountType": self.storage_account_type}
        if self.exclude_from_latest is not None:
            data["regionalExcludeFromLatest"] = self.exclude_from_latest
        if self.encryption is not None:
            data["encryption"] = self.encryption
        return data


@dataclass(frozen=True)
class Publishing:
    """The validated replication part of a publishing profile."""

    targets: tuple[TargetRegion, ...]
    replica_count: int
    exclude_from_latest: bool
    end_of_life: datetime | None
    storage_account_type: str

    def excluded_in(self, key: str | None) -> bool:
        """Excluded from latest in region ``key``: the regional flag takes precedence."""
        for target in self.targets:
            if target.key == key and target.exclude_from_latest is not None:
                return target.exclude_from_latest
        return self.exclude_from_latest

    def targets_region(self, key: str) -> bool:
        return any(t.key == key for t in self.targets)


def _replicas(value: int | None, default: int, kind: VersionKind, parameter: str) -> int:
    count = default if value is None else value
    if not 1 <= count <= kind.max_regional_replicas:
        raise fail("replica_count_out_of_range", parameter, value=count, parameter=parameter,
                   low=1, high=kind.max_regional_replicas)
    return count


def parse_publishing(
    profile: Mapping[str, Any], location: str, kind: VersionKind, *,
    features: Set[str], restricted: Mapping[str, str],
) -> Publishing:
    """Validate replica counts and target regions in the order the seeds' rows read."""
    path = f"{kind.param}.properties.publishingProfile"
    replica_count = _replicas(opt_int(profile, "replicaCount", path), 1, kind,
                              f"{path}.replicaCount")
    account = one_of(profile, "storageAccountType", path, STORAGE_ACCOUNT_TYPES, "Standard_LRS")
    assert account is not None
    raw = opt_list(profile, "targetRegions", path)
    if not raw:
        raw = [{"name": location}]
    targets: list[TargetRegion] = []
    for index, item in enumerate(raw):
        item_path = f"{path}.targetRegions[{index}]"
        if not isinstance(item, dict):
            raise fail("invalid_value", item_path, value=item, parameter=item_path,
                       reason="expected an object")
        name = req_str(item, "name", item_path)
        if region_key(name) not in KNOWN_REGIONS:
            raise fail("unknown_location", f"{item_path}.name", location=name, type=kind.type)
        encryption = item.get("encryption")
        if encryption is not None and not kind.encryption_allowed:
            raise fail("encryption_unsupported", f"{item_path}.encryption")
        if encryption is not None:
            encryption = obj(item, "encryption", item_path)
        target_account = one_of(item, "storageAccountType", item_path, STORAGE_ACCOUNT_TYPES,
                                account)
        assert target_account is not None
        if target_account == ZRS and region_key(name) not in ZONE_REGIONS:
            raise fail("zrs_without_zones", f"{item_path}.storageAccountType", region=name)
        targets.append(TargetRegion(
            name=name, key=region_key(name),
            replicas=_replicas(opt_int(item, "regionalReplicaCount", item_path), replica_count,
                               kind, f"{item_path}.regionalReplicaCount"),
            storage_account_type=target_account,
            exclude_from_latest=opt_bool(item, "regionalExcludeFromLatest", item_path),
            encryption=encryption,
        ))
    keys = [t.key for t in targets]
    if len(set(keys)) != len(keys):
        raise fail("duplicate_regions", f"{path}.targetRegions")
    if region_key(location) not in keys:
        raise fail("regions_missing_location", f"{path}.targetRegions",
                   regions=", ".join(t.name for t in targets), location=location)
    for target in targets:
        feature = restricted.get(target.key)
        if feature is not None and feature.lower() not in features:
            raise fail("feature_missing", f"{path}.targetRegions", region=target.name,
                       feature=feature)
    return Publishing(
        targets=tuple(targets), replica_count=replica_count,
        exclude_from_latest=bool(opt_bool(profile, "excludeFromLatest", path)),
        end_of_life=opt_date(profile, "endOfLifeDate", path), storage_account_type=account,
    )


@dataclass
class RegionReplication:
    name: str
    state: str

    def as_json(self) -> Json:
        return {"region": self.name, "state": self.state, "details": "",
                "progress": 100 if self.state == COMPLETED else 0}


def replicate(
    current: Mapping[str, RegionReplication], targets: tuple[TargetRegion, ...], *,
    immediate: bool,
) -> dict[str, RegionReplication]:
    """Per-region state after (re)publishing: kept where already there, new regions start."""
    state = COMPLETED if immediate else REPLICATING
    return {t.key: current[t.key] if t.key in current else RegionReplication(t.name, state)
            for t in targets}


def replication_status(regions: Mapping[str, RegionReplication]) -> Json:
    done = all(r.state == COMPLETED for r in regions.values())
    return {"aggregatedState": COMPLETED if done else "InProgress",
            "summary": [r.as_json() for r in regions.values()]}


def check_region_removal(old: Publishing, new: Publishing, *, allowed: bool, param: str) -> None:
    """``safetyProfile.allowDeletionOfReplicatedLocations: false`` keeps every region."""
    removed = [t.name for t in old.targets if not new.targets_region(t.key)]
    if removed and not allowed:
        raise fail("replicated_location_deletion", f"{param}.properties.publishingProfile."
                   "targetRegions", regions=", ".join(removed))

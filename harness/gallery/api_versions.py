"""Properties of image versions that need a minimum ``api-version`` (seed 003's FAQ).

"Zone Redundant Storage (ZRS) requires version 2019-03-01 or later"; the VM source
``GallerySource.VirtualMachineID`` "requires api-version 2023-07-03"; a VHD source's
``StorageAccountId`` "requires api-version 2022-03-03".  A request without ``api-version``
(the replay allows that) is not checked.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any

from harness.gallery.errors import fail

ZRS_SINCE, VM_SOURCE_SINCE, VHD_ACCOUNT_SINCE = "2019-03-01", "2023-07-03", "2022-03-03"


def api_version(path: str) -> str | None:
    """The request's ``api-version`` query parameter, when it has one."""
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("api-version")
    return values[0] if values else None


def _at(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _needs(body: Any) -> Iterator[tuple[str, str]]:
    """(property as the message names it, minimum api-version) for what ``body`` uses."""
    profile = _at(body, "properties", "publishingProfile")
    accounts = [_at(profile, "storageAccountType"),
                *(_at(t, "storageAccountType") for t in _items(_at(profile, "targetRegions")))]
    if any(isinstance(a, str) and a.lower() == "standard_zrs" for a in accounts):
        yield "storageAccountType Standard_ZRS", ZRS_SINCE
    storage = _at(body, "properties", "storageProfile")
    if _at(storage, "source", "virtualMachineId"):
        yield "storageProfile.source.virtualMachineId", VM_SOURCE_SINCE
    disks = [("osDiskImage", _at(storage, "osDiskImage"))] + [
        (f"dataDiskImages[{i}]", d) for i, d in enumerate(_items(_at(storage,
                                                                     "dataDiskImages")))]
    for name, disk in disks:
        if _at(disk, "source", "storageAccountId"):
            yield f"storageProfile.{name}.source.storageAccountId", VHD_ACCOUNT_SINCE


def check_api_version(path: str, body: Any) -> None:
    """Refuses an image version body that uses a property its ``api-version`` predates."""
    version = api_version(path)
    if version is None:
        return
    for what, minimum in _needs(body):
        if version[:10] < minimum:
            raise fail("api_version_too_old", "galleryImageVersion.properties", what=what,
                       version=version, minimum=minimum)

"""Where an image version comes from (seed 003), checked when the version is created.

"The source can be a VM, managed disk, snapshot, managed image, or another image version":
every source id (``storageProfile.source.id``, ``source.virtualMachineId`` — a VM —, and the
disk images' ``source.id``) must name one of those.  Sources the model holds are checked
further:

* another gallery's image version: its definition's OS type, OS state and Hyper-V generation
  are those of the definition it goes into ("The following parameters determine which types
  of image versions they can contain");
* a VM of the model: it is in the version's location (the seed's "Ensure the managed image ...
  is in the same location"), its OS type and, when it booted a gallery image, Hyper-V
  generation fit the definition; an NVMe VM goes only into a definition that supports NVMe,
  a definition with ``IsAcceleratedNetworkSupported=True`` only takes VMs with
  accelerated networking, and the VM's disks (``diskSizeGB`` of its OS and data disks) are
  at most 1 TB, 32 TB for a shallow version (seed 004: "Any disk attached to the image must
  be less than or equal to 1 TB in size"; seed 003: shallow "up to 32 TB").

Managed images, disks and snapshots are outside the model: only their id's type is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from harness.gallery.bodies import Json, obj, opt_list, opt_str
from harness.gallery.core import Core
from harness.gallery.errors import fail
from harness.gallery.images import FULL_DISK_GB, SHALLOW_DISK_GB
from harness.gallery.machine_image import accelerated_networking, disk_controller
from harness.gallery.names import region_key
from harness.gallery.resources import ImageDefinition, ImageVersion, Machine
from harness.gallery.routes import Route, parse_path

STORAGE = "galleryImageVersion.properties.storageProfile"
SOURCE_RULE = ("the source can be a VM, managed disk, snapshot, managed image, or another "
               "image version")
_COMPUTE_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                         r"Microsoft\.Compute/(disks|snapshots|images)/[^/]+$", re.IGNORECASE)
ANY, VM = ("vm", "imageVersion", "disk"), ("vm",)


def _kind(value: str) -> tuple[str | None, Route | None]:
    """What a source id names (vm, imageVersion, disk or None) and, for the first two, where."""
    route = parse_path(value)
    if route is not None and route.kind in ("vm", "imageVersion"):
        return route.kind, route
    return ("disk" if _COMPUTE_ID.match(value) else None), None


def _source_ids(storage: Json) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(parameter, id, kinds it may be) for every source id the storage profile names."""
    source = obj(storage, "source", STORAGE)
    for key, kinds in (("id", ANY), ("virtualMachineId", VM)):
        value = opt_str(source, key, f"{STORAGE}.source")
        if value:
            yield f"{STORAGE}.source.{key}", value, kinds
    disks = [("osDiskImage", obj(storage, "osDiskImage", STORAGE))]
    disks += [(f"dataDiskImages[{i}]", d) for i, d in
              enumerate(opt_list(storage, "dataDiskImages", STORAGE)) if isinstance(d, dict)]
    for name, disk in disks:
        path = f"{STORAGE}.{name}.source"
        value = opt_str(obj(disk, "source", f"{STORAGE}.{name}"), "id", path)
        if value:
            yield f"{path}.id", value, ANY


def _mismatch(definition: ImageDefinition, source: str, what: str, expected: str,
              actual: str | None) -> None:
    if actual is not None and actual != expected:
        raise fail("source_kind_mismatch", STORAGE, definition=definition.nested, what=what,
                   expected=expected, source=source, actual=actual)


def _from_image_version(core: Core, definition: ImageDefinition, source: str,
                        route: Route) -> None:
    other = core.find_as(Route("image", route.subscription, route.resource_group,
                               route.gallery, route.definition).id, ImageDefinition)
    if other is None:
        return
    for what, expected, actual in (
            ("OS type", definition.os_type, other.os_type),
            ("OS state", definition.os_state, other.os_state),
            ("Hyper-V generation", definition.hyper_v_generation, other.hyper_v_generation)):
        _mismatch(definition, source, what, expected, actual)


def _vm_disk_sizes(vm: Machine) -> Iterator[tuple[str, int]]:
    """(disk, ``diskSizeGB``) of a VM's OS disk and data disks, where the VM gave a size."""
    storage = vm.properties.get("storageProfile") or {}
    data = storage.get("dataDisks")
    disks = [("osDisk", storage.get("osDisk"))] + [
        (f"dataDisks[{index}]", disk) for index, disk in enumerate(
            data if isinstance(data, list) else [])]
    for name, disk in disks:
        size = disk.get("diskSizeGB") if isinstance(disk, dict) else None
        if isinstance(size, int) and not isinstance(size, bool):
            yield name, size


def _from_vm(definition: ImageDefinition, vm: Machine, source: str, location: str,
             shallow: bool) -> None:
    if region_key(vm.location) != region_key(location):
        raise fail("source_location", STORAGE, source=source, source_location=vm.location,
                   location=location)
    _mismatch(definition, source, "OS type", definition.os_type, vm.os_type)
    if vm.image is not None:
        _mismatch(definition, source, "Hyper-V generation", definition.hyper_v_generation,
                  vm.image.hyper_v_generation)
    if disk_controller(vm.properties) == "NVMe" and "NVMe" not in \
            definition.features.disk_controllers:
        raise fail("nvme_capture", STORAGE)
    if definition.features.accelerated_network and not accelerated_networking(vm.properties):
        raise fail("accelerated_capture", STORAGE, definition=definition.nested)
    limit = SHALLOW_DISK_GB if shallow else FULL_DISK_GB
    for name, size in _vm_disk_sizes(vm):
        if size > limit:
            raise fail("disk_too_big", STORAGE, disk=f"{vm.name}/{name}", size=size,
                       mode="shallow" if shallow else "full", limit=limit)


def check_sources(core: Core, definition: ImageDefinition, storage: Json,
                  location: str, *, shallow: bool) -> None:
    """The seed's source rules for a new version of ``definition`` created in ``location``
    (``shallow``: with ``replicationMode: Shallow``)."""
    for parameter, value, kinds in _source_ids(storage):
        kind, route = _kind(value)
        if kind not in kinds:
            raise fail("invalid_value", parameter, value=value, parameter=parameter,
                       reason=SOURCE_RULE)
        found = core.find(route.id) if route is not None else None
        if isinstance(found, ImageVersion) and route is not None:
            _from_image_version(core, definition, value, route)
        elif isinstance(found, Machine):
            _from_vm(definition, found, value, location, shallow)

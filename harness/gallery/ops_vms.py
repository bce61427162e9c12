"""VMs and scale sets: the image they boot and the applications they get (seed 002's bodies).

Checked on PUT/PATCH: location; a gallery image in ``storageProfile.imageReference.id``
(see ``machine_image``); then the application profile (see ``profiles``).  The caller is the
VM's subscription (or ``as``).
"""

from __future__ import annotations

from harness.gallery.bodies import Json, obj
from harness.gallery.core import TYPES, Core
from harness.gallery.machine_image import check_machine_image, image_reference
from harness.gallery.profiles import check_profile, machine_os, parse_entries
from harness.gallery.render import render
from harness.gallery.resolve import resolve_entry
from harness.gallery.resources import AppEntry, Machine, ResolvedApplication
from harness.gallery.routes import Route
from harness.gallery.validation import check_body_name, check_location_update


def machine_profile(route: Route, body: Json) -> Json:
    """Where the OS, storage and application profiles live: VM properties or VMSS model."""
    props = obj(body, "properties", "properties")
    if route.kind == "vmss":
        return obj(props, "virtualMachineProfile", "properties")
    return props


def resolve_profile(
    core: Core, entries: list[AppEntry], *, region: str, caller: str, tenant: str | None,
    vm_os: str | None, previous: list[AppEntry], operation: str,
) -> list[ResolvedApplication]:
    def resolve(entry: AppEntry) -> ResolvedApplication:
        return resolve_entry(core, entry, region=region, caller=caller, tenant=tenant,
                             target=f"applicationProfile.galleryApplications[{entry.index}]")

    return check_profile(entries, vm_os=vm_os, now=core.now, previous=previous,
                         resolve=resolve, probe=core.link_probe, operation=operation)


def put_machine(core: Core, route: Route, body: Json, operation: str, caller: str,
                tenant: str | None) -> tuple[int, Json]:
    check_body_name(body, route.name)
    existing = core.find_as(route.id, Machine)
    location = core.location(body, TYPES[route.kind])
    if existing is not None:
        check_location_update(existing.location, location)
    profile = machine_profile(route, body)
    scale_set = route.kind == "vmss"
    reference = image_reference(profile, existing, scale_set=scale_set)
    image = check_machine_image(core, body, profile, reference, region=location, caller=caller,
                                tenant=tenant, before=existing, scale_set=scale_set)
    vm_os = machine_os(profile, image.os_type if image else None)
    entries = parse_entries(obj(profile, "applicationProfile", "properties"))
    resolved = resolve_profile(core, entries, region=location, caller=caller, tenant=tenant,
                               vm_os=vm_os, previous=existing.applications if existing else [],
                               operation=operation)
    machine = Machine(**core.base_fields(route, body, location, existing), os_type=vm_os,
                      applications=entries, resolved=resolved, image=image,
                      image_reference=reference)
    core.resources[machine.key] = machine
    return (200 if existing else 201), render(machine)

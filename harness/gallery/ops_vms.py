"""VMs and scale sets: the image they boot and the applications they get (seed 002's bodies).

Checked on PUT/PATCH: location; a gallery image in ``storageProfile.imageReference.id``
(exists, readable, replicated to the VM's region, osProfile fits the OS state); then the
application profile (see ``profiles``).  The caller is the VM's subscription (or ``as``).
"""

from __future__ import annotations

from harness.gallery.bodies import Json, obj, opt_str
from harness.gallery.core import TYPES, Core
from harness.gallery.errors import fail
from harness.gallery.profiles import check_profile, machine_os, parse_entries
from harness.gallery.render import render
from harness.gallery.resolve import resolve_entry, resolve_image
from harness.gallery.resources import AppEntry, Machine, ResolvedApplication
from harness.gallery.routes import Route
from harness.gallery.validation import check_body_name, check_location_update


def machine_profile(route: Route, body: Json) -> Json:
    """Where the OS, storage and application profiles live: VM properties or VMSS model."""
    props = obj(body, "properties", "properties")
    if route.kind == "vmss":
        return obj(props, "virtualMachineProfile", "properties")
    return props


def check_image(core: Core, profile: Json, region: str, caller: str,
                tenant: str | None) -> str | None:
    """Checks a gallery image reference; returns the image's OS type when it is one."""
    storage = obj(profile, "storageProfile", "properties")
    reference = obj(storage, "imageReference", "properties.storageProfile")
    target = "properties.storageProfile.imageReference.id"
    image_id = opt_str(reference, "id", "properties.storageProfile.imageReference")
    if not image_id:
        return None
    found = resolve_image(core, image_id, region=region, caller=caller, tenant=tenant,
                          target=target)
    if found is None:
        return None
    definition, _version = found
    has_os_profile = profile.get("osProfile") is not None
    if definition.os_state == "Specialized" and has_os_profile:
        raise fail("os_profile_not_allowed", "properties.osProfile", image=image_id)
    if definition.os_state == "Generalized" and not has_os_profile:
        raise fail("os_profile_required", "properties.osProfile", image=image_id)
    return definition.os_type


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
    image_os = check_image(core, profile, location, caller, tenant)
    vm_os = machine_os(profile, image_os)
    entries = parse_entries(obj(profile, "applicationProfile", "properties"))
    resolved = resolve_profile(core, entries, region=location, caller=caller, tenant=tenant,
                               vm_os=vm_os, previous=existing.applications if existing else [],
                               operation=operation)
    machine = Machine(**core.base_fields(route, body, location, existing), os_type=vm_os,
                      applications=entries, resolved=resolved)
    core.resources[machine.key] = machine
    return (200 if existing else 201), render(machine)

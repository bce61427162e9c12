"""VM and scale-set application profiles: parsing and the deploy-time rules of seed 000.

Checks run in this order, the first failure answering: more than five applications; the same
application twice (any versions: "You can't have multiple versions of the same application on
a VM"); then per entry in the order written: the reference resolves (subscription has
applications, application/version exists, caller authorised, replicated to the VM's region),
OS matches, not deprecated, configurationReference usable.

"Deprecated" (the seeds do not define it): a version whose ``endOfLifeDate`` has passed is
deprecated *for new pins*: a profile entry that names that exact version and was not already in
the VM's profile is refused.  ``latest`` references and entries the VM already had keep working,
which is how the seeds' "you'll still be able to deploy VM application versions past the
end-of-life date" and "Try using latest instead of specifying a specific version" fit together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from harness.gallery.bodies import obj, opt_bool, opt_int, opt_list, opt_str, req_str
from harness.gallery.errors import fail
from harness.gallery.links import LinkProbe, check_link
from harness.gallery.names import format_datetime
from harness.gallery.resources import AppEntry, ResolvedApplication
from harness.gallery.routes import parse_reference

MAX_APPLICATIONS = 5
PROFILE = "applicationProfile.galleryApplications"


def parse_entries(application_profile: Mapping[str, Any]) -> list[AppEntry]:
    entries = []
    for index, item in enumerate(opt_list(application_profile, "galleryApplications",
                                          "applicationProfile")):
        path = f"{PROFILE}[{index}]"
        if not isinstance(item, dict):
            raise fail("invalid_value", path, value=item, parameter=path,
                       reason="expected an object")
        entries.append(AppEntry(
            index=index,
            package_reference_id=req_str(item, "packageReferenceId", path),
            order=opt_int(item, "order", path),
            configuration_reference=opt_str(item, "configurationReference", path) or None,
            treat_failure_as_deployment_failure=bool(
                opt_bool(item, "treatFailureAsDeploymentFailure", path)),
            enable_automatic_upgrade=bool(opt_bool(item, "enableAutomaticUpgrade", path)),
            tags=opt_str(item, "tags", path),
        ))
    return entries


def application_key(entry: AppEntry) -> str:
    """The application an entry names (lower-cased id without the version)."""
    route = parse_reference(entry.package_reference_id, ("applicationVersion",))
    if route is None:
        parameter = f"{PROFILE}[{entry.index}].packageReferenceId"
        raise fail("invalid_reference", parameter, value=entry.package_reference_id,
                   parameter=parameter, what="gallery application version")
    return route.id.rsplit("/versions/", 1)[0].lower()


def deployment_order(resolved: Sequence[ResolvedApplication]) -> list[ResolvedApplication]:
    """Ordered applications by ascending order, then the unordered ones (as written)."""
    ordered = sorted((r for r in resolved if r.order is not None),
                     key=lambda r: (r.order, r.entry.index))
    return ordered + [r for r in resolved if r.order is None]


def check_profile(
    entries: Sequence[AppEntry], *, vm_os: str | None, now: datetime,
    previous: Sequence[AppEntry], resolve: Callable[[AppEntry], ResolvedApplication],
    probe: LinkProbe, operation: str,
) -> list[ResolvedApplication]:
    """Apply the deploy-time rules; returns the entries resolved, in deployment order."""
    if len(entries) > MAX_APPLICATIONS:
        raise fail("too_many_applications", PROFILE, count=len(entries))
    seen: set[str] = set()
    for entry in entries:
        key = application_key(entry)
        if key in seen:
            raise fail("duplicate_package_reference", f"{PROFILE}[{entry.index}]")
        seen.add(key)
    had = {e.package_reference_id.lower() for e in previous}
    resolved = []
    for entry in entries:
        app = resolve(entry)
        if vm_os is not None and app.os_type != vm_os:
            raise fail("os_mismatch", f"{PROFILE}[{entry.index}]", name=app.nested,
                       app_os=app.os_type, vm_os=vm_os)
        if (app.pinned and app.end_of_life is not None and app.end_of_life <= now
                and entry.package_reference_id.lower() not in had):
            raise fail("version_deprecated", f"{PROFILE}[{entry.index}]", name=app.nested,
                       date=format_datetime(app.end_of_life))
        if entry.configuration_reference is not None:
            check_link(entry.configuration_reference, probe, operation=operation,
                       target=f"{PROFILE}[{entry.index}].configurationReference")
        resolved.append(app)
    return deployment_order(resolved)


def machine_os(profile: Mapping[str, Any], image_os: str | None) -> str | None:
    """The VM's OS: osDisk.osType, else the gallery image's, else the osProfile's kind.

    None when nothing says (a marketplace image without osType): the OS check is skipped.
    """
    storage = obj(profile, "storageProfile", "properties")
    disk = obj(storage, "osDisk", "properties.storageProfile")
    os_type = opt_str(disk, "osType", "properties.storageProfile.osDisk")
    if os_type:
        return "Windows" if os_type.lower() == "windows" else "Linux"
    if image_os is not None:
        return image_os
    os_profile = obj(profile, "osProfile", "properties")
    if os_profile.get("windowsConfiguration") is not None:
        return "Windows"
    if os_profile.get("linuxConfiguration") is not None:
        return "Linux"
    reference = obj(storage, "imageReference", "properties.storageProfile")
    publisher = reference.get("publisher")
    if isinstance(publisher, str):
        return "Windows" if "windows" in publisher.lower() else "Linux"
    return None

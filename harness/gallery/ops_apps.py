"""VM application definitions and versions: create and update.

A version's checks run in this order: version name, body name, parent, location, package
(source, manage actions, settings), publishing (replica counts, target regions, encryption,
restricted regions), what may not change (on update), then the links (on create: the source
cannot change afterwards, so links are checked once, mediaLink first).
"""

from __future__ import annotations

from harness.gallery.bodies import Json, obj, opt_bool
from harness.gallery.core import TYPES, Core
from harness.gallery.errors import fail
from harness.gallery.links import check_link
from harness.gallery.names import valid_application_name
from harness.gallery.render import render
from harness.gallery.replication import (
    APPLICATION_VERSION,
    check_region_removal,
    parse_publishing,
    replicate,
)
from harness.gallery.resources import ApplicationDefinition, ApplicationVersion
from harness.gallery.routes import Route
from harness.gallery.validation import (
    check_application_update,
    check_body_name,
    check_location_update,
    check_package_update,
    parse_application,
    parse_package,
)

APPLICATION_RULE = ("The name may be at most 117 characters long, contain only letters, digits, "
                    "hyphens (-), periods (.) and underscores (_), and may not end with a "
                    "period.")
VERSION_PATH = "galleryApplicationVersion.properties"


def put_application(core: Core, route: Route, body: Json, operation: str) -> tuple[int, Json]:
    check_body_name(body, route.definition)
    if not valid_application_name(route.definition):
        raise fail("invalid_name", "name", kind="gallery application", name=route.definition,
                   rule=APPLICATION_RULE)
    core.parent(route, operation)
    existing = core.find_as(route.id, ApplicationDefinition)
    core.not_deleting(existing, operation)
    location = core.location(body, TYPES["application"])
    os_type = parse_application(body, core.now)
    if existing is not None:
        check_location_update(existing.location, location)
        check_application_update(existing.os_type, os_type)
    app = ApplicationDefinition(**core.base_fields(route, body, location, existing),
                                os_type=os_type)
    core.resources[app.key] = app
    return (200 if existing else 201), render(app)


def put_application_version(core: Core, route: Route, body: Json,
                            operation: str) -> tuple[int, Json]:
    number, existing, location, props, profile = core.start_version_put(
        route, body, operation, ApplicationVersion, invalid_name="invalid_version_name",
        body_name="galleryApplicationVersion")
    package = parse_package(profile)
    publishing = parse_publishing(profile, location, APPLICATION_VERSION,
                                  features=core.has_features(route.subscription),
                                  restricted=core.restricted)
    safety = obj(props, "safetyProfile", VERSION_PATH)
    allow = opt_bool(safety, "allowDeletionOfReplicatedLocations",
                     f"{VERSION_PATH}.safetyProfile") is not False
    if existing is not None:
        check_location_update(existing.location, location)
        check_package_update(existing.package, package)
        check_region_removal(existing.publishing, publishing,
                             allowed=existing.allow_replicated_location_deletion,
                             param="galleryApplicationVersion")
    else:
        source = f"{VERSION_PATH}.publishingProfile.source"
        check_link(package.media_link, core.link_probe, operation=operation,
                   target=f"{source}.mediaLink")
        if package.default_configuration_link:
            check_link(package.default_configuration_link, core.link_probe,
                       operation=operation, target=f"{source}.defaultConfigurationLink")
    immediate = core.replication == "immediate"
    replication = replicate(existing.replication if existing else {}, publishing.targets,
                            immediate=immediate)
    pending = any(r.state != "Completed" for r in replication.values())
    version = ApplicationVersion(
        **core.base_fields(route, body, location, existing), number=number,
        publishing=publishing, package=package, replication=replication,
        allow_replicated_location_deletion=allow,
        provisioning=("Updating" if existing else "Creating") if pending else "Succeeded",
    )
    core.resources[version.key] = version
    return (200 if existing else 201), render(version)

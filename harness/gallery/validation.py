"""Body rules for galleries, application definitions and application versions.

Each ``parse_*`` returns the validated fields or raises the row the service would answer;
``check_*_update`` compares an update with the stored resource (what may not change).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from harness.gallery.bodies import (
    canonical,
    obj,
    one_of,
    opt_bool,
    opt_date,
    opt_str,
    req_str,
)
from harness.gallery.errors import fail
from harness.gallery.names import region_key
from harness.gallery.resources import COMMUNITY, GROUPS, LINUX, PRIVATE, WINDOWS, Package

MAX_ACTION_CHARS = 4096  # beyond the seeds: each manage action is at most 4,096 characters
OS_TYPES = (LINUX, WINDOWS)


def check_body_name(body: Mapping[str, Any], url_name: str) -> None:
    """The body's ``name``, when given, must be the name in the URL (case-insensitively)."""
    name = body.get("name")
    if name is not None and (not isinstance(name, str) or name.lower() != url_name.lower()):
        raise fail("name_mismatch", "name")


def check_uri(props: Mapping[str, Any], key: str, path: str) -> None:
    value = opt_str(props, key, path)
    if value is None:
        return
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail("invalid_value", f"{path}.{key}", value=value, parameter=f"{path}.{key}",
                   reason="expected an absolute http or https URI")


def parse_gallery(body: Mapping[str, Any]) -> str:
    """Validates a gallery body; returns its sharing permissions."""
    props = obj(body, "properties", "gallery")
    opt_str(props, "description", "gallery.properties")
    sharing = obj(props, "sharingProfile", "gallery.properties")
    permissions = one_of(sharing, "permissions", "gallery.properties.sharingProfile",
                         (PRIVATE, GROUPS, COMMUNITY), PRIVATE)
    assert permissions is not None
    info = obj(sharing, "communityGalleryInfo", "gallery.properties.sharingProfile")
    opt_str(info, "publicNamePrefix", "gallery.properties.sharingProfile.communityGalleryInfo")
    return permissions


def check_gallery_update(old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """Seed 003: of a gallery, only the description can change (the sharing permissions are
    checked before, by name).  Absent, null and empty objects are the same."""
    def comparable(props: Mapping[str, Any], key: str) -> Any:
        value = props.get(key)
        if key == "sharingProfile" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "permissions"}
        return canonical(value or None)

    for key in sorted((set(old) | set(new)) - {"description"}):
        if comparable(old, key) != comparable(new, key):
            raise fail("property_change", f"gallery.properties.{key}",
                       parameter=f"gallery.properties.{key}")


def parse_application(body: Mapping[str, Any], now: datetime) -> str:
    """Validates an application definition body; returns its ``supportedOSType``."""
    path = "galleryApplication.properties"
    props = obj(body, "properties", "galleryApplication")
    os_type = one_of(props, "supportedOSType", path, OS_TYPES)
    if os_type is None:
        raise fail("missing_parameter", f"{path}.supportedOSType",
                   parameter=f"{path}.supportedOSType")
    opt_str(props, "description", path)
    end_of_life = opt_date(props, "endOfLifeDate", path)
    if end_of_life is not None and end_of_life <= now:
        raise fail("invalid_value", f"{path}.endOfLifeDate", value=props["endOfLifeDate"],
                   parameter=f"{path}.endOfLifeDate", reason="the end-of-life date must be in "
                   "the future")
    for key in ("eula", "privacyStatementUri", "releaseNoteUri"):
        check_uri(props, key, path)
    return os_type


def check_application_update(old_os: str, new_os: str) -> None:
    if old_os != new_os:
        raise fail("property_change", "galleryApplication.properties.supportedOSType",
                   parameter="galleryApplication.properties.supportedOSType")


def parse_package(profile: Mapping[str, Any]) -> Package:
    """The application part of an application version's publishing profile."""
    path = "galleryApplicationVersion.properties.publishingProfile"
    source = obj(profile, "source", path)
    actions = obj(profile, "manageActions", path)
    settings = obj(profile, "settings", path)
    media_link = req_str(source, "mediaLink", f"{path}.source")
    config_link = opt_str(source, "defaultConfigurationLink", f"{path}.source") or None
    install = req_str(actions, "install", f"{path}.manageActions")
    remove = req_str(actions, "remove", f"{path}.manageActions")
    update = opt_str(actions, "update", f"{path}.manageActions") or None
    for key, value in (("install", install), ("remove", remove), ("update", update)):
        if value is not None and len(value) > MAX_ACTION_CHARS:
            parameter = f"{path}.manageActions.{key}"
            raise fail("invalid_value", parameter, value=value[:40] + "...", parameter=parameter,
                       reason=f"at most {MAX_ACTION_CHARS} characters are allowed, "
                       f"this one has {len(value)}")
    opt_bool(profile, "enableHealthCheck", path)
    return Package(
        media_link=media_link, default_configuration_link=config_link,
        install=install, remove=remove, update=update,
        package_file_name=opt_str(settings, "packageFileName", f"{path}.settings"),
        config_file_name=opt_str(settings, "configFileName", f"{path}.settings"),
        script_behavior_after_reboot=one_of(settings, "scriptBehaviorAfterReboot",
                                            f"{path}.settings", ("None", "Rerun")),
    )


def check_package_update(old: Package, new: Package) -> None:
    """Manage actions, settings and source cannot change on an existing version."""
    for action in ("install", "update", "remove"):
        if getattr(old, action) != getattr(new, action):
            raise fail("manage_action_changed",
                       f"galleryApplicationVersion.properties.publishingProfile.manageActions."
                       f"{action}", action=action)
    for attr, setting in (("package_file_name", "packageFileName"),
                          ("config_file_name", "configFileName"),
                          ("script_behavior_after_reboot", "scriptBehaviorAfterReboot")):
        if getattr(old, attr) != getattr(new, attr):
            raise fail("setting_changed",
                       f"galleryApplicationVersion.properties.publishingProfile.settings.{setting}",
                       setting=setting)
    for attr, key in (("media_link", "mediaLink"),
                      ("default_configuration_link", "defaultConfigurationLink")):
        if getattr(old, attr) != getattr(new, attr):
            parameter = f"galleryApplicationVersion.properties.publishingProfile.source.{key}"
            raise fail("property_change", parameter, parameter=parameter)


def check_location_update(old: str, new: str) -> None:
    if region_key(old) != region_key(new):
        raise fail("property_change", "location", parameter="location")


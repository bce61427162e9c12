"""Application definitions: short and ARM-shaped bodies onto one model, merged across includes.

ARM bodies are read by moving each value to its short-form name (:data:`ARM_PLACES`), so both
forms go through the same code and give the same :class:`~harness.scenario.model.VersionDef`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.gallery.names import (
    APPLICATION_RULE,
    parse_version,
    region_key,
    valid_application_name,
)
from harness.scenario import model
from harness.scenario.packages import blob
from harness.scenario.schema import is_arm
from harness.schema import Validator
from harness.yamldoc import PathKey, dotted

PROFILE: PathKey = ("properties", "publishingProfile")
ARM_PLACES: dict[str, PathKey] = {
    "install": (*PROFILE, "manageActions", "install"),
    "remove": (*PROFILE, "manageActions", "remove"),
    "update": (*PROFILE, "manageActions", "update"),
    "packageFileName": (*PROFILE, "settings", "packageFileName"),
    "configFileName": (*PROFILE, "settings", "configFileName"),
    "scriptBehaviorAfterReboot": (*PROFILE, "settings", "scriptBehaviorAfterReboot"),
    **{key: (*PROFILE, key) for key in ("excludeFromLatest", "endOfLifeDate", "targetRegions",
                                        "replicaCount", "storageAccountType")},
}
# The harness's own blob keys and the ARM source link each one stands in for.
ARM_LINKS: dict[str, PathKey] = {
    "package": (*PROFILE, "source", "mediaLink"),
    "config": (*PROFILE, "source", "defaultConfigurationLink"),
}
DEFAULT_LOCATION = "eastus"


def _dig(data: Any, path: PathKey) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def publishing_profile(short: dict[str, Any]) -> dict[str, Any]:
    """A version's values (short-form names) where an ARM ``publishingProfile`` keeps them."""
    profile: dict[str, Any] = {}
    for key, where in ARM_PLACES.items():
        if key in short:
            place = profile
            for part in where[len(PROFILE):-1]:
                place = place.setdefault(str(part), {})
            place[str(where[-1])] = short[key]
    return profile


def _declared(checks: list[Validator]) -> dict[str, list[str]]:
    """Application names and their version names across files; a name defined twice is an error.

    Steps are resolved against these names, so a broken definition does not also make every
    step that mentions it "unknown".
    """
    names: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    for check in checks:
        raw = _dig(check.doc.data, ("gallery", "applications"))
        for name, app in raw.items() if isinstance(raw, dict) else ():
            path: PathKey = ("gallery", "applications", name)
            here = f"{check.doc.file}:{check.doc.line(path)}"
            if name in first:
                check.fail(path, f"application {name!r} is already defined at {first[name]}")
                continue
            first[name] = here
            versions = app.get("versions") if isinstance(app, dict) else None
            names[name] = list(versions) if isinstance(versions, dict) else []
    return names


class AppBuilder:
    """Builds the applications of one file; problems go to that file's validator."""

    def __init__(self, check: Validator, location: str, root: Path) -> None:
        self.check = check
        self.location = location
        self.root = root

    def fail(self, path: PathKey, problem: str) -> None:
        self.check.fail(path, problem)

    def same_region(self, body: dict[str, Any], path: PathKey) -> None:
        location = body.get("location")
        if location is not None and region_key(location) != region_key(self.location):
            self.fail((*path, "location"), f"{location!r} is not the gallery's location "
                      f"{self.location!r}; set gallery.location or drop this one")

    def short_form(self, body: dict[str, Any], path: PathKey) -> dict[str, Any] | None:
        """An ARM body's values under their short-form names; None when its package is unclear."""
        short = {key: value for key, where in ARM_PLACES.items()
                 if (value := _dig(body, where)) is not None}
        for key, where in ARM_LINKS.items():
            link = _dig(body, where)
            if link is not None and key in body:
                self.fail((*path, *where), f"give either {dotted(where)} or the harness's "
                          f"{key!r}, not both")
            if key in body:
                short[key] = body[key]
            elif link is not None:
                short[key] = {"url": link}
        if "package" not in short:
            self.fail(path, f"missing {dotted(ARM_LINKS['package'])} (or a harness 'package' "
                      "built from packages/ beside the scenario, or a 'file')")
        return short if self.check.clean(path) else None

    def version(self, app: str, name: str, body: dict[str, Any],
                path: PathKey) -> model.VersionDef | None:
        if parse_version(name) is None:
            self.fail(path, f"version {name!r} is not Major.Minor.Patch (whole numbers of "
                      "ASCII digits up to 2147483647, e.g. 1.0.0)")
            return None
        config_at: PathKey = (*path, "configFileName")
        if is_arm(body):  # kept as written, but for the links the harness makes
            self.same_region(body, path)
            short = self.short_form(body, path)
            if short is None:
                return None
            profile = {k: v for k, v in _dig(body, PROFILE).items() if k != "source"}
            body, config_at = short, (*path, *ARM_PLACES["configFileName"])
        else:
            profile = publishing_profile(body)
        package = blob(self.check, body["package"], (*path, "package"), self.root)
        if package is None:
            return None
        package_name = body.get("packageFileName", app)
        if body.get("configFileName") == package_name:
            self.fail(config_at, f"{package_name!r} is also the package's file name; the "
                      "config would overwrite the package")
        return model.VersionDef(
            app=app, version=name, package=package, profile=profile,
            config=blob(self.check, body.get("config"), (*path, "config"), self.root))

    def application(self, name: str, raw: dict[str, Any], path: PathKey) -> model.AppDef:
        if not valid_application_name(name):
            self.fail(path, f"the gallery refuses the application name {name!r} "
                      f"({APPLICATION_RULE})")
        props = raw
        if is_arm(raw):
            self.same_region(raw, path)
            props = raw["properties"]
        versions = {}
        for version, body in raw["versions"].items():
            built = self.version(name, version, body, (*path, "versions", version))
            if built is not None:
                versions[version] = built
        return model.AppDef(name=name, os=props.get("supportedOSType", "Linux"),
                            versions=versions, description=props.get("description", ""))

    def applications(self) -> dict[str, model.AppDef]:
        """This file's applications that passed the schema (the others already have errors)."""
        raw = _dig(self.check.doc.data, ("gallery", "applications"))
        apps = {}
        for name, body in raw.items() if isinstance(raw, dict) else ():
            path: PathKey = ("gallery", "applications", name)
            if self.check.clean(path):
                apps[name] = self.application(name, body, path)
        return apps


def applications(checks: list[Validator], location: str,
                 root: Path) -> tuple[dict[str, list[str]], dict[str, model.AppDef]]:
    """Names declared in every file (for steps to refer to) and the applications built;
    ``root`` is the scenario's folder, which package paths stay inside."""
    names = _declared(checks)
    apps: dict[str, model.AppDef] = {}
    for check in checks:
        apps.update(AppBuilder(check, location, root).applications())
    return names, apps

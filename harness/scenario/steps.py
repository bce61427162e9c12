"""Scenario steps: each step's shape, and every application or version it names, checked here.

Steps are resolved against the names declared in the files (:func:`apps.applications`), so a
misspelt app in a deploy step is caught before any VM boots.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.scenario import model
from harness.scenario.packages import blob
from harness.scenario.schema import (
    CHECK_KINDS,
    FAULT_KEYS,
    FAULTS_MID_COMMAND,
    FAULTS_ON_BLOBS,
    STEP_KEYS,
)
from harness.schema import Validator, suggest
from harness.yamldoc import PathKey

OCTAL_MODE = re.compile(r"(0o|0)?[0-7]{3,4}")
MAX_MODE = 0o7777


def _mode_problem(mode: Any) -> str | None:
    """Why a check's ``mode`` can never match a file's mode, or None."""
    if isinstance(mode, str) and not OCTAL_MODE.fullmatch(mode):
        return f"{mode!r} is not an octal mode like \"0755\""
    if isinstance(mode, int) and not 0 <= mode <= MAX_MODE:
        return f"{mode} is not a file mode (at most 0o7777); write modes quoted, like \"0755\""
    return None


class StepBuilder:
    """Builds the steps of one scenario; ``apps`` maps application names to version names.

    ``defined`` gives what the checks need of each version: "app@version"s whose package is an
    existing URL (``linked``: the harness neither uploaded nor signs those, so blob faults cannot
    break them) and those with an update command (``updatable``).
    """

    def __init__(self, check: Validator, apps: dict[str, list[str]], root: Path,
                 defined: dict[str, model.AppDef] | None = None) -> None:
        self.check = check
        self.root = root
        self.apps = apps
        versions = [v for app in (defined or {}).values() for v in app.versions.values()]
        self.linked = {f"{v.app}@{v.version}" for v in versions if v.package.url}
        self.updatable = {f"{v.app}@{v.version}" for v in versions if v.update is not None}
        self.published_later: set[str] = set()
        self.disk_full = False  # a disk-full fault came before the step being built

    def fail(self, path: PathKey, problem: str) -> None:
        self.check.fail(path, problem)

    def known_app(self, app: str, path: PathKey) -> bool:
        if app in self.apps:
            return True
        self.fail(path, f"unknown application {app!r}{suggest(app, list(self.apps))}; "
                  "define it under gallery.applications")
        return False

    def known_version(self, app: str, version: str, path: PathKey, *, latest: bool) -> None:
        if version in self.apps[app] or (latest and version == "latest"):
            return
        defined = ", ".join(self.apps[app]) + (", or 'latest'" if latest else "")
        self.fail(path, f"application {app!r} has no version {version!r} (defined: {defined})")

    def profile(self, raw: list[dict[str, Any]], path: PathKey) -> tuple[model.ProfileEntry, ...]:
        entries = []
        for index, item in enumerate(raw):
            where = (*path, index)
            app, version = item["app"], str(item["version"])
            if self.known_app(app, (*where, "app")):
                self.known_version(app, version, (*where, "version"), latest=True)
            entries.append(model.ProfileEntry(
                app=app, version=version, order=item.get("order"),
                treat_failure_as_deployment_failure=item.get("treatFailureAsDeploymentFailure",
                                                             False),
                enable_automatic_upgrade=item.get("enableAutomaticUpgrade", False),
                config=blob(self.check, item.get("config"), (*where, "config"), self.root),
                tags=item.get("tags", "")))
        return tuple(entries)

    def checks(self, raw: list[dict[str, Any]], path: PathKey) -> tuple[model.Check, ...]:
        found = []
        for index, item in enumerate(raw):
            kinds = [k for k in CHECK_KINDS if k in item]
            if len(kinds) != 1:
                self.fail((*path, index), f"a check names exactly one of "
                          f"{', '.join(CHECK_KINDS)}; this one names "
                          f"{', '.join(kinds) or 'none'}")
                continue
            kind = kinds[0]
            wanted = {k: v for k, v in item.items() if k != kind}
            for key in wanted:
                if key not in CHECK_KINDS[kind]:
                    self.fail((*path, index, key), f"a {kind} check cannot assert {key!r}; it "
                              f"can assert: {', '.join(CHECK_KINDS[kind])}")
            problem = _mode_problem(wanted.get("mode"))
            if problem:
                self.fail((*path, index, "mode"), problem)
            found.append(model.Check(kind=kind, target=item[kind], wanted=wanted,
                                     line=self.check.doc.line((*path, index))))
        return tuple(found)

    def fault(self, body: dict[str, Any], line: int | None, path: PathKey) -> model.Step:
        kind, app = body["kind"], body.get("app", "")
        takes = FAULT_KEYS[kind]
        for key in body:
            if key != "kind" and key not in takes:
                takes_what = (f"takes {', '.join(repr(k) for k in takes)}" if takes
                              else "concerns the whole VM")
                self.fail((*path, key), f"a {kind} fault {takes_what}; drop {key!r}")
        version = str(body["version"]) if "version" in body else ""
        fault = model.Fault(kind=kind, app=app, version=version,
                            operation=body.get("operation", "install"),
                            exit_code=body.get("exit_code", 1),
                            free_kib=body.get("free_kib", model.Fault.free_kib),
                            seconds=float(body.get("seconds", model.Fault.seconds)))
        if "app" not in takes:
            return model.Step(kind="fault", line=line, fault=fault)
        if not app:
            what = {**dict.fromkeys(FAULTS_ON_BLOBS, "blobs it breaks"),
                    **dict.fromkeys(FAULTS_MID_COMMAND, "command it interrupts")
                    }.get(kind, "command fails")
            self.fail(path, f"a {kind} fault names the 'app' whose {what}")
        elif self.known_app(app, (*path, "app")) and version:
            self.known_version(app, version, (*path, "version"), latest=False)
        targets = [version] if version else self.apps.get(app, [])
        for v in targets:
            if kind in FAULTS_ON_BLOBS and f"{app}@{v}" in self.linked:
                self.fail((*path, "kind"), f"{app}@{v} is an existing URL the harness did not "
                          f"upload; a {kind} fault needs a package it builds or uploads")
        updatable = [v for v in targets if f"{app}@{v}" in self.updatable]
        if fault.operation == "update" and app in self.apps and not updatable:
            self.fail((*path, "operation"), f"no version of {app!r} named here has an update "
                      "command to fail")
        return model.Step(kind="fault", line=line, fault=fault)

    def disk(self, body: Any, path: PathKey) -> None:
        """Follow disk-full and disk-freed faults in step order (a disk-full with a bad key
        still counts): disk-freed needs a disk-full in force."""
        kind = body.get("kind") if isinstance(body, dict) else None
        if kind == "disk-full":
            self.disk_full = True
        elif kind == "disk-freed":
            if not self.disk_full:
                self.fail((*path, "kind"), "a disk-freed fault gives back the room a disk-full "
                          "fault took; no disk-full fault is in force here")
            self.disk_full = False

    def publish(self, body: list[dict[str, Any]], line: int | None, path: PathKey
                ) -> model.Step:
        versions = []
        for index, item in enumerate(body):
            app, version = item["app"], str(item["version"])
            if self.known_app(app, (*path, index, "app")):
                self.known_version(app, version, (*path, index, "version"), latest=False)
            key = f"{app}@{version}"
            if key in self.published_later:
                self.fail((*path, index), f"{key} is published by an earlier publish step")
            self.published_later.add(key)
            versions.append(key)
        return model.Step(kind="publish", line=line, versions=tuple(versions))

    def expect(self, body: dict[str, Any], line: int | None, path: PathKey) -> model.Step:
        expectations = []
        for name, e in body.get("applications", {}).items():
            where = (*path, "applications", name)
            if self.known_app(name, where) and "version" in e:
                self.known_version(name, str(e["version"]), (*where, "version"), latest=False)
            expectations.append(model.AppExpectation(
                app=name, version=str(e["version"]) if "version" in e else None,
                result=e.get("result"), result_contains=e.get("result_contains"),
                present=e.get("present")))
        return model.Step(kind="expect", line=line, extension=body.get("extension"),
                          app_expectations=tuple(expectations),
                          checks=self.checks(body.get("checks", []), (*path, "checks")),
                          service_error=body.get("service_error"),
                          publish_errors=self.publish_errors(
                              body.get("publish_errors", {}), (*path, "publish_errors")),
                          reboots=body.get("reboots"))

    def publish_errors(self, raw: dict[str, str | None], path: PathKey
                       ) -> tuple[tuple[str, str | None], ...]:
        """``app@version`` -> text the gallery's answer to that version's PUT contains (or
        None: the version was published)."""
        for key in raw:
            app, at, version = key.partition("@")
            if not at:
                self.fail((*path, key), f"name a version as 'app@version', got {key!r}")
            elif self.known_app(app, (*path, key)):
                self.known_version(app, version, (*path, key), latest=False)
        return tuple(raw.items())

    def step(self, raw: Any, index: int) -> model.Step | None:
        path: PathKey = ("steps", index)
        if not isinstance(raw, dict) or len(raw) != 1:
            self.fail(path, f"a step is a mapping with exactly one of: {', '.join(STEP_KEYS)}")
            return None
        kind, body = next(iter(raw.items()))
        where = (*path, kind)
        if kind not in STEP_KEYS:
            self.fail(where, f"unknown step{suggest(kind, list(STEP_KEYS))}; "
                      f"steps are: {', '.join(STEP_KEYS)}")
            return None
        self.check.value(body, STEP_KEYS[kind], where)
        if kind == "fault":
            self.disk(body, where)
        if not self.check.clean(where):
            return None
        line = self.check.doc.line(path)
        if kind in ("deploy", "update"):
            return model.Step(kind=kind, line=line, profile=self.profile(body, where))
        if kind == "remove":
            for i, app in enumerate(body):
                self.known_app(app, (*where, i))
            return model.Step(kind=kind, line=line, apps=tuple(body))
        if kind == "fault":
            return self.fault(body, line, where)
        if kind == "publish":
            return self.publish(body, line, where)
        if kind == "wait":
            return model.Step(kind=kind, line=line, seconds=float(body))
        if kind == "reboot":
            return model.Step(kind=kind, line=line)
        return self.expect(body, line, where)

    def steps(self, raw: Any) -> list[model.Step]:
        """Every step that is valid; problems with the others are in the validator."""
        if not isinstance(raw, list):
            return []
        if not raw:
            self.fail(("steps",), "a scenario needs at least one step")
        built = [self.step(item, i) for i, item in enumerate(raw)]
        return [s for s in built if s is not None]


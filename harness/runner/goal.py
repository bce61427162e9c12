"""The scenario's gallery, set up through the same model `vmapp gallery replay` uses, and the
agent's goal state built from the versions that model resolves a VM's profile to."""

from __future__ import annotations

import copy
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from harness.gallery import GalleryService, ResolvedApplication, ServiceError
from harness.runner.publish import Published
from harness.scenario.model import Scenario, VersionDef
from harness.storage.blobs import BlobStore, probe

SUBSCRIPTION = "00000000-0000-0000-0000-00000000cafe"
RESOURCE_GROUP = "vmapp-harness"


@dataclass
class Faults:
    """Faults injected so far in a cell: links handed to the agent already expired, commands
    replaced by one that fails, faults armed to strike while an app's command runs, and package
    storage stopped until some way into the next goal state."""

    expired: set[str] = field(default_factory=set)  # "app@version"
    failing: dict[tuple[str, str], int] = field(default_factory=dict)  # (app@version, op) -> exit
    mid_command: dict[str, str] = field(default_factory=dict)  # app -> fault kind, armed
    storage_back_after: float | None = None  # storage stopped: seconds into the next goal state

    def command(self, key: str, operation: str, command: str | None, *, windows: bool = False
                ) -> str | None:
        """The command the goal state carries: the app's own, or one that says on stderr that
        it was replaced and exits the fault's code, in the guest's interpreter (cmd.exe on
        Windows: a POSIX `exit 3` there would print and exit 0, a false success)."""
        code = self.failing.get((key, operation))
        if code is None or command is None:
            return command
        note = f"vmapp-harness: injected fault: this {operation} command exits {code} instead of"
        if windows:
            # cmd.exe's echo cannot print any text as written (quotes, ^, %var%): no original
            return f"echo {note} running 1>&2& exit /b {code}"
        return f"echo {shlex.quote(f'{note} running: {command}')} >&2; exit {code}"


def _version_body(scenario: Scenario, version: VersionDef, media_link: str,
                  config_link: str | None) -> dict[str, Any]:
    """The version's ARM body with the links to the blobs the harness uploaded."""
    source: dict[str, Any] = {"mediaLink": media_link}
    if config_link:
        source["defaultConfigurationLink"] = config_link
    profile = {**copy.deepcopy(version.profile), "source": source}
    return {"location": scenario.location, "properties": {"publishingProfile": profile}}


class CellGallery:
    """One cell's gallery: definitions and versions PUT as ARM bodies, links really checked."""

    def __init__(self, scenario: Scenario, published: Published, store: BlobStore) -> None:
        self.scenario = scenario
        self.service = GalleryService(now=datetime.now(UTC), link_probe=probe)
        name = "".join(c if c.isalnum() else "_" for c in scenario.name)
        self.gallery_id = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}"
                           f"/providers/Microsoft.Compute/galleries/{name}")
        self.published, self.store = published, store
        self.publish_errors: dict[str, str] = {}
        self.service.put(self.gallery_id, {"location": scenario.location, "properties": {}})
        for app in scenario.apps.values():
            self.service.put(f"{self.gallery_id}/applications/{app.name}", {
                "location": scenario.location,
                "properties": {"supportedOSType": app.os, "description": app.description}})
            for version in app.versions:
                if f"{app.name}@{version}" not in scenario.held_back:
                    self.publish(app.name, version)

    def publish(self, app: str, version: str) -> str | None:
        """PUT a version as its publisher would; the service's refusal, if any."""
        definition = self.scenario.apps[app].versions[version]
        config = self.published.config(app, version)
        body = _version_body(self.scenario, definition,
                             self.published.package(app, version).link(self.store),
                             config.link(self.store) if config else None)
        try:
            self.service.put(self.version_id(app, version), body)
        except ServiceError as error:
            self.publish_errors[f"{app}@{version}"] = str(error)
            return str(error)
        return None

    def version_id(self, app: str, version: str) -> str:
        return f"{self.gallery_id}/applications/{app}/versions/{version}"

    def latest(self, app: str) -> str | None:
        """What `latest` resolves to for the VM's region now."""
        return self.service.latest_version(f"{self.gallery_id}/applications/{app}",
                                           self.scenario.vm_location)

    def resolve(self, profile: Sequence[dict[str, Any]], previous: Sequence[dict[str, Any]],
                os_name: str = "linux") -> list[ResolvedApplication]:
        """All deploy-time rules for a VM of ``os_name`` (the guest OS's goal-state "os");
        raises ServiceError with the service's message."""
        return self.service.resolve_profile(profile, region=self.scenario.vm_location,
                                            subscription=SUBSCRIPTION,
                                            os_type=os_name.capitalize(), previous=previous)


def goal_state(seq: int, scenario: Scenario, resolved: list[ResolvedApplication],
               published: Published, store: BlobStore, faults: Faults, *, os_name: str = "linux"
               ) -> dict[str, Any]:
    windows = os_name == "windows"
    apps = []
    for item in resolved:
        package, entry = item.package, item.entry
        key = f"{item.application}@{item.version}"
        url = published.package(item.application, item.version).link(store, expired=True) \
            if key in faults.expired else package.media_link
        apps.append({
            "name": item.application, "version": item.version,
            "packageReferenceId": item.version_id, "order": entry.order,
            "packageUrl": url, "configUrl": item.configuration_link,
            "install": faults.command(key, "install", package.install, windows=windows),
            "remove": faults.command(key, "remove", package.remove, windows=windows),
            "update": faults.command(key, "update", package.update, windows=windows),
            "packageFileName": package.package_file_name,
            "configFileName": package.config_file_name,
            "treatFailureAsDeploymentFailure": entry.treat_failure_as_deployment_failure,
            "enableAutomaticUpgrade": entry.enable_automatic_upgrade,
            "scriptBehaviorAfterReboot": package.script_behavior_after_reboot or "None",
            "tags": entry.tags or "",
        })
    return {"sequenceNumber": seq, "os": os_name,  # Windows has one interpreter: cmd.exe
            "options": {"interpreter": "cmd.exe" if os_name == "windows" else scenario.interpreter,
                        "configNaming": scenario.config_naming,
                        "commandTimeoutSeconds": scenario.command_timeout},
            "applications": apps}

"""Turn a VM's application profile into the agent's goal state, with every version resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.runner.publish import Published
from harness.scenario.model import ProfileEntry, Scenario, VersionDef
from harness.storage.blobs import BlobStore


@dataclass
class Faults:
    """Faults injected so far in a cell: links handed out expired, forwards cut."""

    expired: set[str] = field(default_factory=set)  # "app@version" or "app"
    network_cut: bool = False

    def expired_for(self, app: str, version: str) -> bool:
        return f"{app}@{version}" in self.expired or app in self.expired


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def resolve_version(scenario: Scenario, entry: ProfileEntry) -> VersionDef:
    """``latest`` is the highest Major.Minor.Patch not excluded from latest."""
    app = scenario.apps[entry.app]
    if entry.version != "latest":
        return app.versions[entry.version]
    candidates = [v for v in app.versions.values() if not v.exclude_from_latest]
    return max(candidates, key=lambda v: version_key(v.version))


def package_reference(scenario: Scenario, app: str, version: str) -> str:
    return (f"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vmapp-harness"
            f"/providers/Microsoft.Compute/galleries/{scenario.name.replace('-', '_')}"
            f"/applications/{app}/versions/{version}")


def goal_state(seq: int, scenario: Scenario, profile: list[ProfileEntry], published: Published,
               store: BlobStore, faults: Faults) -> dict[str, Any]:
    apps = []
    for entry in profile:
        version = resolve_version(scenario, entry)
        expired = faults.expired_for(entry.app, version.version)
        config = published.config(entry.app, version.version)
        override = published.blobs.get(f"{entry.app}#override")
        config_url = (override or config).link(store, expired=expired) \
            if (override or config) else None
        apps.append({
            "name": entry.app, "version": version.version,
            "packageReferenceId": package_reference(scenario, entry.app, version.version),
            "order": entry.order,
            "packageUrl": published.package(entry.app, version.version).link(store,
                                                                             expired=expired),
            "configUrl": config_url,
            "install": version.install, "remove": version.remove, "update": version.update,
            "packageFileName": version.package_file_name,
            "configFileName": version.config_file_name,
            "treatFailureAsDeploymentFailure": entry.treat_failure_as_deployment_failure,
            "enableAutomaticUpgrade": entry.enable_automatic_upgrade,
            "scriptBehaviorAfterReboot": version.script_behavior_after_reboot,
            "tags": entry.tags,
        })
    return {"sequenceNumber": seq, "os": "linux",
            "options": {"interpreter": scenario.interpreter,
                        "configNaming": scenario.config_naming,
                        "commandTimeoutSeconds": scenario.command_timeout},
            "applications": apps}

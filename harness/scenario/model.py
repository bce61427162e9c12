"""Scenario objects the runner executes; built only from validated files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.packages.build import PackageSpec


@dataclass(frozen=True)
class BlobSpec:
    """Where a package or config comes from: built from repo sources, inline text, or a URL."""

    package: PackageSpec | None = None
    content: str | None = None
    url: str | None = None
    blob_type: str = "BlockBlob"
    pad: bool = True


@dataclass(frozen=True)
class VersionDef:
    """One application version: its ARM ``publishingProfile`` as the publisher would PUT it
    (whichever form the file wrote it in) but for ``source``, whose links exist only once the
    harness has uploaded the blobs that ``package`` and ``config`` say how to make."""

    app: str
    version: str
    package: BlobSpec
    profile: dict[str, Any]
    config: BlobSpec | None = None

    @property
    def install(self) -> str:
        return str(self.profile["manageActions"]["install"])

    @property
    def remove(self) -> str:
        return str(self.profile["manageActions"]["remove"])

    @property
    def update(self) -> str | None:
        update = self.profile["manageActions"].get("update")
        return None if update is None else str(update)


@dataclass(frozen=True)
class AppDef:
    name: str
    os: str
    versions: dict[str, VersionDef]
    description: str = ""


@dataclass(frozen=True)
class ProfileEntry:
    app: str
    version: str  # "latest" or Major.Minor.Patch
    order: int | None = None
    treat_failure_as_deployment_failure: bool = False
    enable_automatic_upgrade: bool = False
    config: BlobSpec | None = None
    tags: str = ""


@dataclass(frozen=True)
class Check:
    """One testinfra check: ``kind`` (file/command/package/service/user), target and wanted."""

    kind: str
    target: str
    wanted: dict[str, Any]
    line: int | None = None


@dataclass(frozen=True)
class AppExpectation:
    app: str
    version: str | None = None
    result: str | None = None
    result_contains: str | None = None
    present: bool | None = None


@dataclass(frozen=True)
class Fault:
    """A fault a step injects: ``kind`` (schema.FAULT_KEYS) and what it concerns."""

    kind: str
    app: str = ""
    version: str = ""  # empty: every version of ``app``
    operation: str = "install"  # command-fails: which command fails
    exit_code: int = 1  # command-fails: the exit code it fails with
    free_kib: int = 4  # disk-full: the room left where the agent downloads and installs
    seconds: float = 10.0  # storage-restart: how far into the next goal state storage is back

    @property
    def title(self) -> str:
        target = f"{self.app}@{self.version}" if self.version else self.app
        if self.kind == "command-fails":
            target += f" {self.operation} (exit {self.exit_code})"
        if self.kind == "disk-full":
            target = f"({self.free_kib} KiB free)"
        if self.kind == "storage-restart":
            target = f"(back {self.seconds:g} s into the next goal state)"
        return f"{self.kind} {target}".strip()


@dataclass(frozen=True)
class Step:
    """One step; ``kind`` is deploy/update/remove/publish/reboot/fault/expect/wait."""

    kind: str
    line: int | None
    profile: tuple[ProfileEntry, ...] = ()
    apps: tuple[str, ...] = ()
    fault: Fault | None = None
    versions: tuple[str, ...] = ()  # publish: "app@version"s
    seconds: float = 0.0
    extension: str | None = None
    app_expectations: tuple[AppExpectation, ...] = ()
    checks: tuple[Check, ...] = ()
    service_error: str | None = None
    publish_errors: tuple[tuple[str, str | None], ...] = ()  # ("app@version", text or None)
    reboots: int | None = None

    @property
    def title(self) -> str:
        if self.kind == "deploy":
            return "deploy " + ", ".join(f"{p.app}@{p.version}" for p in self.profile)
        if self.kind in ("remove", "update"):
            return f"{self.kind} " + ", ".join(self.apps or [p.app for p in self.profile])
        if self.kind == "fault" and self.fault is not None:
            return f"fault {self.fault.title}"
        if self.kind == "publish":
            return "publish " + ", ".join(self.versions)
        if self.kind == "wait":
            return f"wait {self.seconds:g}s"
        return self.kind


@dataclass(frozen=True)
class ImageChoice:
    """The VM's image in the gallery's terms (``vm.image`` or ``vm.imageReference``): the
    harness PUTs the VM with it and boots the build the gallery model resolves it to."""

    version: str = ""  # vm.image: latest, newest or a version name
    reference_id: str = ""  # vm.imageReference.id, as written
    definition: str = ""  # the recipe vm.image or the id names, if any: the scenario's only image


@dataclass(frozen=True)
class GalleryImage:
    """``gallery.images.<definition>``: publishing options of its versions (a version name or
    ``newest`` -> publishingProfile keys) and how many versions a cell needs to be run."""

    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    needs_versions: int = 1


@dataclass(frozen=True)
class Scenario:
    name: str
    file: Path
    description: str
    images: tuple[str, ...]
    location: str
    vm_location: str
    apps: dict[str, AppDef]
    steps: tuple[Step, ...]
    markers: tuple[str, ...] = ()
    rule: str = ""  # the seed rule the scenario proves (README coverage table)
    command_timeout: int = 900
    interpreter: str = "/bin/sh"
    config_naming: str = "underscore"
    ready_seconds: int | None = None  # overrides the image's SSH readiness deadline
    vm_image: ImageChoice | None = None  # None: the cell's image's current build, directly
    gallery_images: dict[str, GalleryImage] = field(default_factory=dict)  # by definition

    @property
    def held_back(self) -> set[str]:
        """"app@version"s a publish step publishes: not in the gallery before that step."""
        return {v for step in self.steps if step.kind == "publish" for v in step.versions}

"""The resources the control plane holds, as plain dataclasses (no rules here).

Each keeps the ``properties`` the user sent (so GET answers echo them) next to the parsed,
validated fields the rules use.  Keys are lower-cased resource ids: ARM ids are case-insensitive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from harness.gallery.bodies import Json
from harness.gallery.names import VersionNumber
from harness.gallery.replication import Publishing, RegionReplication

PRIVATE, GROUPS, COMMUNITY = "Private", "Groups", "Community"
LINUX, WINDOWS = "Linux", "Windows"


@dataclass(kw_only=True)
class Resource:
    key: str
    id: str
    type: str
    name: str
    nested: str  # ARM's nested name, e.g. "myGallery/myApp/1.0.0": names it in messages
    subscription: str
    resource_group: str
    location: str
    properties: Json
    tags: Json = field(default_factory=dict)
    created: datetime
    deleting: bool = False
    provisioning: str = "Succeeded"  # "Creating"/"Updating" while replication is pending


@dataclass(kw_only=True)
class Gallery(Resource):
    permissions: str = PRIVATE
    shared_subscriptions: list[str] = field(default_factory=list)
    shared_tenants: list[str] = field(default_factory=list)
    community: bool = False


@dataclass(kw_only=True)
class ApplicationDefinition(Resource):
    os_type: str


@dataclass(frozen=True)
class Package:
    """What a VM needs to install an application version."""

    media_link: str
    default_configuration_link: str | None
    install: str
    remove: str
    update: str | None
    package_file_name: str | None
    config_file_name: str | None
    script_behavior_after_reboot: str | None


@dataclass(kw_only=True)
class ApplicationVersion(Resource):
    number: VersionNumber
    publishing: Publishing
    package: Package
    replication: dict[str, RegionReplication]
    allow_replicated_location_deletion: bool = True


@dataclass(frozen=True)
class ImageFeatures:
    """What VMs built from an image definition may use (seed 003): its ``features`` and its
    disallowed disk types."""

    security_type: str | None = None
    hibernate: bool = False
    accelerated_network: bool = False
    disk_controllers: tuple[str, ...] = ("SCSI",)
    disallowed_disk_types: tuple[str, ...] = ()  # ``disallowed.diskTypes``: refused OS disks


@dataclass(kw_only=True)
class ImageDefinition(Resource):
    os_type: str
    os_state: str
    hyper_v_generation: str
    publisher: str
    offer: str
    sku: str
    features: ImageFeatures = field(default_factory=ImageFeatures)


@dataclass(kw_only=True)
class ImageVersion(Resource):
    number: VersionNumber
    publishing: Publishing
    replication: dict[str, RegionReplication]
    shallow: bool = False
    allow_replicated_location_deletion: bool = True
    data_disk_luns: tuple[int, ...] = ()


@dataclass(frozen=True)
class ResolvedImage:
    """A gallery image reference resolved to the image version a VM boots."""

    reference: str  # as written: a version id, ``.../versions/latest`` or a definition id
    definition_id: str
    version: str  # the version it got (for ``latest``, the one latest meant then and there)
    version_id: str
    pinned: bool  # the reference named this version (not ``latest``)
    os_type: str
    os_state: str
    hyper_v_generation: str
    features: ImageFeatures
    data_disk_luns: tuple[int, ...]
    end_of_life: datetime | None  # the version's, else its definition's; informational
    field: str = "id"  # where the reference stands: ``id`` or ``communityGalleryImageId``

    def as_json(self) -> Json:
        return {self.field: self.reference, "exactVersion": self.version}


@dataclass(frozen=True)
class RoleAssignment:
    """An RBAC grant: principals are modelled as subscription ids (the replay's "as")."""

    key: str
    id: str
    scope_key: str
    principal: str
    role: str


@dataclass(frozen=True)
class AppEntry:
    """One entry of ``applicationProfile.galleryApplications`` as the user wrote it."""

    index: int
    package_reference_id: str
    order: int | None = None
    configuration_reference: str | None = None
    treat_failure_as_deployment_failure: bool = False
    enable_automatic_upgrade: bool = False
    tags: str | None = None

    def as_json(self) -> Json:
        data: Json = {"packageReferenceId": self.package_reference_id}
        if self.order is not None:
            data["order"] = self.order
        if self.configuration_reference is not None:
            data["configurationReference"] = self.configuration_reference
        data["treatFailureAsDeploymentFailure"] = self.treat_failure_as_deployment_failure
        data["enableAutomaticUpgrade"] = self.enable_automatic_upgrade
        if self.tags is not None:
            data["tags"] = self.tags
        return data


@dataclass(frozen=True)
class ResolvedApplication:
    """An entry resolved to a concrete version: what a VM's extension receives."""

    entry: AppEntry
    application: str
    version: str
    version_id: str
    nested: str  # "gallery/application/version", as messages name it
    os_type: str
    package: Package
    configuration_link: str | None  # configurationReference, else defaultConfigurationLink
    pinned: bool  # the reference named this version (not "latest")
    end_of_life: datetime | None

    @property
    def order(self) -> int | None:
        return self.entry.order


@dataclass(kw_only=True)
class Machine(Resource):
    """A VM or scale set: what matters here is its OS, its image and its application profile."""

    os_type: str | None
    applications: list[AppEntry] = field(default_factory=list)
    resolved: list[ResolvedApplication] = field(default_factory=list)
    image: ResolvedImage | None = None  # the gallery image it boots, when it names one
    image_reference: Json = field(default_factory=dict)  # as given (or kept), any image

"""Resources as ARM returns them: the user's properties plus what the service fills in."""

from __future__ import annotations

import copy

from harness.gallery.bodies import Json
from harness.gallery.names import format_datetime
from harness.gallery.replication import replication_status
from harness.gallery.resources import (
    ApplicationVersion,
    Gallery,
    ImageDefinition,
    ImageVersion,
    Machine,
    Resource,
    RoleAssignment,
)
from harness.gallery.sharing import sharing_profile

EXTENSION_PUBLISHER = "Microsoft.CPlat.Core"


def _versioned(resource: ApplicationVersion | ImageVersion, props: Json) -> None:
    profile = props["publishingProfile"] = dict(props.get("publishingProfile") or {})
    publishing = resource.publishing
    profile["targetRegions"] = [t.as_json() for t in publishing.targets]
    profile["replicaCount"] = publishing.replica_count
    profile["excludeFromLatest"] = publishing.exclude_from_latest
    profile["storageAccountType"] = publishing.storage_account_type
    profile["publishedDate"] = format_datetime(resource.created)
    if publishing.end_of_life is not None:
        profile["endOfLifeDate"] = format_datetime(publishing.end_of_life)
    if isinstance(resource, ImageVersion):
        profile["replicationMode"] = "Shallow" if resource.shallow else "Full"
    props["replicationStatus"] = replication_status(resource.replication)


def _machine(resource: Machine, props: Json) -> Json:
    holder = props
    if resource.type.endswith("virtualMachineScaleSets"):
        holder = props["virtualMachineProfile"] = dict(props.get("virtualMachineProfile") or {})
    if resource.image_reference:  # as given or kept, with the version a gallery image got
        storage = holder["storageProfile"] = dict(holder.get("storageProfile") or {})
        storage["imageReference"] = {**resource.image_reference,
                                     **(resource.image.as_json() if resource.image else {})}
    holder["applicationProfile"] = {
        "galleryApplications": [e.as_json() for e in resource.applications]}
    if not resource.applications:
        return {}
    kind = "VMApplicationManagerWindows" if resource.os_type == "Windows" \
        else "VMApplicationManagerLinux"
    return {"name": "VMAppExtension", "id": f"{resource.id}/extensions/VMAppExtension",
            "type": f"{resource.type}/extensions", "location": resource.location,
            "properties": {"autoUpgradeMinorVersion": True, "provisioningState": "Succeeded",
                           "publisher": EXTENSION_PUBLISHER, "type": kind,
                           "typeHandlerVersion": "1.0"}}


def render(resource: Resource) -> Json:
    props: Json = copy.deepcopy(resource.properties)
    props["provisioningState"] = "Deleting" if resource.deleting else resource.provisioning
    extension: Json = {}
    if isinstance(resource, Gallery):
        props["identifier"] = {"uniqueName": f"{resource.subscription}-{resource.name.upper()}"}
        props["sharingProfile"] = sharing_profile(resource, props.get("sharingProfile") or {})
    elif isinstance(resource, ImageDefinition):
        props.setdefault("hyperVGeneration", resource.hyper_v_generation)
    elif isinstance(resource, ApplicationVersion | ImageVersion):
        _versioned(resource, props)
    elif isinstance(resource, Machine):
        extension = _machine(resource, props)
    data: Json = {"id": resource.id, "name": resource.name, "type": resource.type,
                  "location": resource.location}
    if resource.tags:
        data["tags"] = dict(resource.tags)
    data["properties"] = props
    if extension:
        data["resources"] = [extension]
    return data


def render_grant(grant: RoleAssignment) -> Json:
    return {"id": grant.id, "name": grant.id.rsplit("/", 1)[-1],
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {"roleDefinitionId": grant.role, "principalId": grant.principal,
                           "scope": grant.id.split("/providers/Microsoft.Authorization")[0]}}


def render_feature(subscription: str, name: str, registered: bool) -> Json:
    return {"id": f"/subscriptions/{subscription}/providers/Microsoft.Features/providers/"
                  f"Microsoft.Compute/features/{name}",
            "name": f"Microsoft.Compute/{name}", "type": "Microsoft.Features/providers/features",
            "properties": {"state": "Registered" if registered else "NotRegistered"}}

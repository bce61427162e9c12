"""The service's error table as data, and the one exception the gallery model raises.

``SEED_ROWS`` are the seeds' error messages, word for word (placeholders renamed to Python
format fields; ``{OS}`` appears twice in the seed and is ``{app_os}``/``{vm_os}`` here).  The
canonical wording is the newer overview (seed 000); ``preview`` wording (seed 001, 2021) differs
in five rows and is used when a service is built with ``wording="preview"``.
``HARNESS_ROWS`` are situations the seeds do not word; their texts follow ARM's style.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from harness.errors import HarnessError

Wording = Literal["current", "preview"]

_STORAGE_HINT = ("Ensure that the blob exists and that it's either publicly accessible or is a "
                 "SAS url with read privileges.")


@dataclass(frozen=True)
class Row:
    """One error: a stable key, the ARM error code and HTTP status, and its message template."""

    key: str
    code: str
    status: int
    template: str
    preview: str | None = None  # seed 001 wording, when it differs

    def render(self, values: Mapping[str, object], wording: Wording = "current") -> str:
        text = self.preview if wording == "preview" and self.preview else self.template
        return text.format(**values)


SEED_ROWS: tuple[Row, ...] = (
    Row("version_deprecated", "OperationNotAllowed", 400,
        "Current VM Application Version {name} was deprecated at {date}."),
    Row("os_mismatch", "InvalidParameter", 400,
        "Current VM Application Version {name} supports OS {app_os}, "
        "while current OSDisk's OS is {vm_os}."),
    Row("too_many_applications", "OperationNotAllowed", 400,
        "The maximum number of VM applications (max=5, current={count}) has been exceeded. "
        "Use fewer applications and retry the request."),
    Row("duplicate_package_reference", "InvalidParameter", 400,
        "More than one VM Application was specified with the same packageReferenceId.",
        "More than one VMApplication was specified with the same packageReferenceId."),
    Row("not_authorized", "AuthorizationFailed", 403,
        "Subscription not authorized to access this image."),
    Row("no_applications", "NotFound", 404,
        "Storage account in the arguments doesn't exist.",
        "Storage account in the arguments does not exist."),
    Row("image_not_available", "NotFound", 404,
        "The platform image {image} isn't available. Verify that all fields in the storage "
        "profile are correct. For more details about storage profile information, please refer "
        "to https://aka.ms/storageprofile.",
        "The platform image {image} is not available. Verify that all fields in the storage "
        "profile are correct. For more details about storage profile information, please refer "
        "to https://aka.ms/storageprofile."),
    Row("not_in_region", "InvalidParameter", 400,
        "The gallery image {image} is not available in {region} region. Please contact image "
        "owner to replicate to this region, or change your requested region."),
    Row("sas_forbidden", "InvalidParameter", 400,
        "The SAS is not valid for source uri {uri}."),
    Row("blob_not_found", "InvalidParameter", 400,
        "The blob referenced by source uri {uri} doesn't exist.",
        "The blob referenced by source uri {uri} does not exist."),
    Row("remote_name_not_found", "InvalidParameter", 400,
        "The gallery application version url {url} cannot be accessed due to the following "
        "error: remote name not found. " + _STORAGE_HINT),
    Row("url_not_accessible", "InvalidParameter", 400,
        "The gallery application version url {url} cannot be accessed due to the following "
        "error: {error_description}. " + _STORAGE_HINT),
    Row("marked_for_deletion", "Conflict", 409,
        "Operation {operation_name} is not allowed on {application} since it is marked for "
        "deletion. You can only retry the Delete operation (or wait for an ongoing one to "
        "complete)."),
    Row("replica_count_out_of_range", "InvalidParameter", 400,
        "The value {value} of parameter '{parameter}' is out of range. "
        "The value must be between {low} and {high}, inclusive."),
    Row("manage_action_changed", "PropertyChangeNotAllowed", 409,
        "Changing property 'galleryApplicationVersion.properties.publishingProfile."
        "manageActions.{action}' is not allowed."),
    Row("setting_changed", "PropertyChangeNotAllowed", 409,
        "Changing property ' galleryApplicationVersion.properties.publishingProfile.settings."
        "{setting} ' is not allowed."),
    Row("blob_too_big", "InvalidParameter", 400,
        "The blob referenced by source uri {uri} is too big: size = {size}. "
        "The maximum blob size allowed is '1 GB'."),
    Row("blob_empty", "InvalidParameter", 400,
        "The blob referenced by source uri {uri} is empty."),
    Row("blob_type_unsupported", "InvalidParameter", 400,
        "{type} blob type is not supported for {operation} operation. "
        "Only page blobs and block blobs are supported."),
    Row("sas_malformed", "InvalidParameter", 400,
        "The SAS is not valid for source uri {uri}."),
    Row("feature_missing", "OperationNotAllowed", 400,
        "Cannot specify {region} in target regions because the subscription is missing required "
        "feature {feature}. Either register your subscription with the required feature or "
        "remove the region from the target region list."),
    Row("regions_missing_location", "InvalidParameter", 400,
        "Gallery image version publishing profile regions {regions} must contain the location "
        "of image version {location}."),
    Row("duplicate_regions", "InvalidParameter", 400,
        "Duplicate regions are not allowed in target publishing regions."),
    Row("encryption_unsupported", "InvalidParameter", 400,
        "Gallery application version resources currently do not support encryption."),
    Row("name_mismatch", "InvalidParameter", 400,
        "Entity name doesn't match the name in the request URL.",
        "Entity name does not match the name in the request URL."),
    Row("invalid_version_name", "InvalidParameter", 400,
        "The gallery application version name is invalid. The application version name should "
        "follow Major(int32).Minor(int32).Patch(int32) format, where int is between 0 and "
        "2,147,483,647 (inclusive). e.g. 1.0.0, 2018.12.1 etc."),
)

HARNESS_ROWS: tuple[Row, ...] = (
    Row("missing_parameter", "InvalidParameter", 400,
        "Required parameter '{parameter}' is missing (null)."),
    Row("invalid_value", "InvalidParameter", 400,
        "The value '{value}' of parameter '{parameter}' is not valid: {reason}."),
    Row("location_required", "LocationRequired", 400,
        "The location property is required for this definition."),
    Row("unknown_location", "LocationNotAvailableForResourceType", 400,
        "The provided location '{location}' is not available for resource type '{type}'."),
    Row("invalid_name", "InvalidParameter", 400,
        "The {kind} name '{name}' is invalid. {rule}"),
    Row("invalid_image_version_name", "InvalidParameter", 400,
        "The gallery image version name is invalid. The image version name should follow "
        "Major(int32).Minor(int32).Patch(int32) format, where int is between 0 and "
        "2,147,483,647 (inclusive). e.g. 1.0.0, 2018.12.1 etc."),
    Row("property_change", "PropertyChangeNotAllowed", 409,
        "Changing property '{parameter}' is not allowed."),
    Row("resource_not_found", "ResourceNotFound", 404,
        "The Resource '{type}/{name}' under resource group '{group}' was not found."),
    Row("community_not_found", "ResourceNotFound", 404,
        "The community gallery resource '{name}' was not found in location '{location}'."),
    Row("parent_not_found", "ParentResourceNotFound", 404,
        "Can not perform requested operation on nested resource. "
        "Parent resource '{parent}' not found."),
    Row("nested_resources", "CannotDeleteResource", 409,
        "Can not delete resource before nested resources are deleted."),
    Row("gallery_name_taken", "Conflict", 409,
        "A gallery named '{name}' already exists in subscription '{subscription}'."),
    Row("identifier_taken", "Conflict", 409,
        "An image definition with publisher '{publisher}', offer '{offer}' and sku '{sku}' "
        "already exists in gallery '{gallery}' ({existing})."),
    Row("quota_exceeded", "OperationNotAllowed", 409,
        "Operation results in exceeding quota limits of {what} per subscription per region. "
        "Maximum allowed: {limit}, Current in use: {current}, Additional requested: 1."),
    Row("replicas_exceeded", "InvalidParameter", 400,
        "The total number of replicas of an image version ({total}) exceeds the maximum of "
        "{limit}."),
    Row("disk_too_big", "InvalidParameter", 400,
        "The disk '{disk}' is {size} GB; disks of {mode} replicated image versions must be at "
        "most {limit} GB."),
    Row("zrs_without_zones", "InvalidParameter", 400,
        "Standard_ZRS can only be chosen for regions with Availability Zones; region '{region}' "
        "has none."),
    Row("shallow_regions", "InvalidParameter", 400,
        "Shallow replication only supports the source region {location} as target region."),
    Row("sharing_disabled", "OperationNotAllowed", 400,
        "Operation {operation} requires gallery '{gallery}' to be created with "
        "sharingProfile.permissions '{permissions}'; its permissions are '{actual}'."),
    Row("share_limit", "OperationNotAllowed", 400,
        "A gallery can be shared directly with at most {limit} {what}; this request would share "
        "it with {count}."),
    Row("security_type_private_only", "InvalidParameter", 400,
        "SecurityType '{security_type}' is only supported in private galleries; gallery "
        "'{gallery}' is shared as '{permissions}'."),
    Row("encrypted_in_shared_gallery", "InvalidParameter", 400,
        "A direct shared gallery can't contain encrypted image versions."),
    Row("replicated_location_deletion", "OperationNotAllowed", 400,
        "Removing replicated regions {regions} is not allowed: "
        "safetyProfile.allowDeletionOfReplicatedLocations is false."),
    Row("os_profile_not_allowed", "InvalidParameter", 400,
        "Parameter 'osProfile' is not allowed with a specialized image {image}."),
    Row("os_profile_required", "InvalidParameter", 400,
        "Required parameter 'osProfile' is missing (null). The generalized image {image} needs "
        "one."),
    Row("image_swap_mismatch", "InvalidParameter", 400,
        "The scale set image reference can only change to an image with the same OS type, "
        "Hyper-V generation and data disk layout: {image} has {what} {new}, the current image "
        "{old}."),
    Row("security_type_not_allowed", "InvalidParameter", 400,
        "The gallery image {image} allows VMs of security type {allowed} only; the VM asks for "
        "{security}."),
    Row("feature_unsupported", "InvalidParameter", 400,
        "The gallery image {image} does not support {what}: its image definition does not set "
        "{feature}."),
    Row("disk_type_disallowed", "InvalidParameter", 400,
        "The gallery image {image} disallows {disk} disks of type {disk_type} "
        "(disallowed.diskTypes: {disallowed})."),
    Row("source_kind_mismatch", "InvalidParameter", 400,
        "Image definition {definition} holds image versions of {what} {expected}; the source "
        "{source} is {actual}."),
    Row("source_location", "InvalidParameter", 400,
        "The source {source} is in {source_location}; the image version is created in "
        "{location} and its source must be in the same location."),
    Row("nvme_capture", "InvalidParameter", 400,
        "NVMe VMs and disks can only be captured in image definitions that are tagged to be "
        "supporting NVMe."),
    Row("accelerated_capture", "InvalidParameter", 400,
        "Image definition {definition} sets IsAcceleratedNetworkSupported=True: capturing VMs "
        "that don't support accelerated networking is not supported."),
    Row("api_version_too_old", "InvalidParameter", 400,
        "The property '{what}' is not supported in api-version '{version}': it needs "
        "api-version {minimum} or later."),
    Row("flexible_other_tenant", "OperationNotAllowed", 400,
        "You can't currently create a Flexible virtual machine scale set from an image shared "
        "by another tenant."),
    Row("invalid_reference", "InvalidParameter", 400,
        "The value '{value}' of parameter '{parameter}' is not a valid {what} resource id."),
    Row("access_denied", "AuthorizationFailed", 403,
        "The client '{client}' with object id '{client}' does not have authorization to perform "
        "action '{action}' over scope '{scope}' or the scope is invalid. If access was recently "
        "granted, please refresh your credentials."),
    Row("no_route", "InvalidRequestUri", 404,
        "The request {method} '{path}' names no resource the gallery model supports."),
    Row("method_not_allowed", "MethodNotAllowed", 405,
        "The method {method} is not supported on '{path}'."),
    Row("body_required", "InvalidRequestContent", 400,
        "The request content was invalid and could not be deserialized: {reason}."),
)

ROWS: dict[str, Row] = {row.key: row for row in (*SEED_ROWS, *HARNESS_ROWS)}


@dataclass(eq=False)
class ServiceError(HarnessError):
    """What the control plane answers instead of a resource: ``code``, ``text``, ``status``.

    ``row`` names the table row, so tests and scenarios can tell apart rows that share a text
    (the two "The SAS is not valid" rows); ``target`` is the parameter the error is about.
    """

    row: str
    values: Mapping[str, object] = field(default_factory=dict)
    target: str = ""
    wording: Wording = "current"

    @property
    def code(self) -> str:
        return ROWS[self.row].code

    @property
    def status(self) -> int:
        return ROWS[self.row].status

    @property
    def text(self) -> str:
        return ROWS[self.row].render(self.values, self.wording)

    def message(self) -> str:
        return self.text

    def worded(self, wording: Wording) -> ServiceError:
        return ServiceError(self.row, self.values, self.target, wording)

    def body(self) -> dict[str, object]:
        """ARM's error envelope."""
        error: dict[str, object] = {"code": self.code, "message": self.text}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def fail(row: str, target: str = "", **values: object) -> ServiceError:
    """The error for ``row`` with its placeholders filled (raise the result)."""
    if row not in ROWS:
        raise KeyError(row)
    return ServiceError(row, values, target)

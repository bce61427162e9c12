"""The error table is the seeds' table, word for word (seed 000; seed 001 as "preview")."""

from __future__ import annotations

import pytest

from harness.gallery import SEED_ROWS
from harness.gallery.errors import ROWS, ServiceError, fail

# Copied from seed 000 (the message column), placeholders as the seed writes them.
SEED_000 = {
    "version_deprecated": "Current VM Application Version {name} was deprecated at {date}.",
    "os_mismatch": "Current VM Application Version {name} supports OS {OS}, while current "
                   "OSDisk's OS is {OS}.",
    "too_many_applications": "The maximum number of VM applications (max=5, current={count}) "
                             "has been exceeded. Use fewer applications and retry the request.",
    "duplicate_package_reference": "More than one VM Application was specified with the same "
                                   "packageReferenceId.",
    "not_authorized": "Subscription not authorized to access this image.",
    "no_applications": "Storage account in the arguments doesn't exist.",
    "image_not_available": "The platform image {image} isn't available. Verify that all fields "
                           "in the storage profile are correct. For more details about storage "
                           "profile information, please refer to https://aka.ms/storageprofile.",
    "not_in_region": "The gallery image {image} is not available in {region} region. Please "
                     "contact image owner to replicate to this region, or change your "
                     "requested region.",
    "sas_forbidden": "The SAS is not valid for source uri {uri}.",
    "blob_not_found": "The blob referenced by source uri {uri} doesn't exist.",
    "remote_name_not_found": "The gallery application version url {url} cannot be accessed due "
                             "to the following error: remote name not found. Ensure that the "
                             "blob exists and that it's either publicly accessible or is a SAS "
                             "url with read privileges.",
    "url_not_accessible": "The gallery application version url {url} cannot be accessed due to "
                          "the following error: {error description}. Ensure that the blob "
                          "exists and that it's either publicly accessible or is a SAS url with "
                          "read privileges.",
    "marked_for_deletion": "Operation {operationName} is not allowed on {application} since it "
                           "is marked for deletion. You can only retry the Delete operation (or "
                           "wait for an ongoing one to complete).",
    "replica_count_out_of_range": "The value {value} of parameter 'galleryApplicationVersion."
                                  "properties.publishingProfile.replicaCount' is out of range. "
                                  "The value must be between 1 and 3, inclusive.",
    "manage_action_changed": "Changing property 'galleryApplicationVersion.properties."
                             "publishingProfile.manageActions.install' is not allowed.",
    "setting_changed": "Changing property ' galleryApplicationVersion.properties."
                       "publishingProfile.settings.packageFileName ' is not allowed.",
    "blob_too_big": "The blob referenced by source uri {uri} is too big: size = {size}. The "
                    "maximum blob size allowed is '1 GB'.",
    "blob_empty": "The blob referenced by source uri {uri} is empty.",
    "blob_type_unsupported": "{type} blob type is not supported for {operation} operation. Only "
                             "page blobs and block blobs are supported.",
    "sas_malformed": "The SAS is not valid for source uri {uri}.",
    "feature_missing": "Cannot specify {region} in target regions because the subscription is "
                       "missing required feature {featureName}. Either register your "
                       "subscription with the required feature or remove the region from the "
                       "target region list.",
    "regions_missing_location": "Gallery image version publishing profile regions {regions} "
                                "must contain the location of image version {location}.",
    "duplicate_regions": "Duplicate regions are not allowed in target publishing regions.",
    "encryption_unsupported": "Gallery application version resources currently do not support "
                              "encryption.",
    "name_mismatch": "Entity name doesn't match the name in the request URL.",
    "invalid_version_name": "The gallery application version name is invalid. The application "
                            "version name should follow Major(int32).Minor(int32).Patch(int32) "
                            "format, where int is between 0 and 2,147,483,647 (inclusive). e.g. "
                            "1.0.0, 2018.12.1 etc.",
}

# The seed's placeholder spelling for each of our format fields.
AS_SEED = {"name": "{name}", "date": "{date}", "app_os": "{OS}", "vm_os": "{OS}",
           "count": "{count}", "image": "{image}", "region": "{region}", "uri": "{uri}",
           "url": "{url}", "error_description": "{error description}",
           "operation_name": "{operationName}", "operation": "{operation}",
           "application": "{application}", "value": "{value}",
           "parameter": "galleryApplicationVersion.properties.publishingProfile.replicaCount",
           "low": 1, "high": 3, "action": "install", "setting": "packageFileName",
           "size": "{size}", "type": "{type}", "feature": "{featureName}",
           "regions": "{regions}", "location": "{location}"}

# Seed 001 rows that differ from seed 000.
PREVIEW_DIFFERENCES = {
    "duplicate_package_reference": "More than one VMApplication was specified with the same "
                                   "packageReferenceId.",
    "no_applications": "Storage account in the arguments does not exist.",
    "image_not_available": "The platform image {image} is not available. Verify that all fields "
                           "in the storage profile are correct. For more details about storage "
                           "profile information, please refer to https://aka.ms/storageprofile.",
    "blob_not_found": "The blob referenced by source uri {uri} does not exist.",
    "name_mismatch": "Entity name does not match the name in the request URL.",
}


def test_every_seed_row_is_in_the_table_in_seed_order() -> None:
    assert [row.key for row in SEED_ROWS] == list(SEED_000)
    assert len(SEED_ROWS) == 26


@pytest.mark.parametrize("key", list(SEED_000))
def test_row_text_is_the_seed_text(key: str) -> None:
    assert ROWS[key].render(AS_SEED) == SEED_000[key]


@pytest.mark.parametrize("key", list(SEED_000))
def test_preview_wording_is_seed_001(key: str) -> None:
    expected = PREVIEW_DIFFERENCES.get(key, SEED_000[key])
    assert ROWS[key].render(AS_SEED, "preview") == expected


def test_service_error_carries_code_status_and_envelope() -> None:
    error = fail("blob_empty", "x.mediaLink", uri="https://a/b")
    assert isinstance(error, ServiceError)
    assert (error.code, error.status, str(error)) == (
        "InvalidParameter", 400, "The blob referenced by source uri https://a/b is empty.")
    assert error.body() == {"error": {"code": "InvalidParameter", "target": "x.mediaLink",
                                      "message": "The blob referenced by source uri "
                                                 "https://a/b is empty."}}
    assert str(error.worded("preview")) == str(error)


def test_unknown_row_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        fail("no_such_row")

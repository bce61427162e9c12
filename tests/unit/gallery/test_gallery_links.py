"""Link checks, pure: SAS shape, and how each storage answer maps onto a seed row."""

from __future__ import annotations

import pytest
from gallery_builders import FakeBlob

from harness.gallery.errors import ServiceError
from harness.gallery.links import check_link, sas_is_malformed

URL = "http://127.0.0.1:10000/devstoreaccount1/c/b"
GOOD_SAS = URL + "?sv=2022-11-02&sp=r&se=2030-01-01T00:00:00Z&sr=b&sig=YWJjZA%3D%3D"


@pytest.mark.parametrize("url", [
    URL, URL + "?foo=bar", GOOD_SAS, URL + "?sv=2022-11-02&si=policy&sig=YWJj",
])
def test_well_formed_or_absent_sas_is_not_malformed(url: str) -> None:
    assert not sas_is_malformed(url)


@pytest.mark.parametrize("url", [
    URL + "?sv=2022-11-02&sp=r&se=2030-01-01",  # no signature
    URL + "?sp=r&se=2030-01-01&sig=YWJj",  # no version
    URL + "?sv=2022-11-02&se=2030-01-01&sig=YWJj",  # no permissions, no policy
    URL + "?sv=2022-11-02&sp=r&se=tomorrow&sig=YWJj",  # expiry not a date
    URL + "?sv=2022-11-02&sp=r&se=2030-01-01&sig=not*base64!",
])
def test_malformed_sas(url: str) -> None:
    assert sas_is_malformed(url)


def row_for(answer: FakeBlob, url: str = GOOD_SAS) -> tuple[str, str]:
    with pytest.raises(ServiceError) as caught:
        check_link(url, lambda _u: answer, operation="CreateOrUpdate", target="t")
    return caught.value.row, str(caught.value)


def test_healthy_blob_passes() -> None:
    asked: list[str] = []

    def probe(url: str) -> FakeBlob:
        asked.append(url)
        return FakeBlob(200, 5, "PageBlob")

    check_link(GOOD_SAS, probe, operation="CreateOrUpdate", target="t")
    assert asked == [GOOD_SAS]


def test_malformed_sas_is_refused_without_asking_storage() -> None:
    asked: list[str] = []
    bad = URL + "?sv=2022-11-02&sp=r&se=2030-01-01"
    with pytest.raises(ServiceError) as caught:
        check_link(bad, lambda u: asked.append(u) or FakeBlob(), operation="X", target="t")
    assert (caught.value.row, str(caught.value)) == (
        "sas_malformed", f"The SAS is not valid for source uri {bad}.")
    assert asked == []


@pytest.mark.parametrize("answer,row,text", [
    (FakeBlob(403, None, None, "Forbidden"), "sas_forbidden",
     f"The SAS is not valid for source uri {GOOD_SAS}."),
    (FakeBlob(404, None, None, "Not Found"), "blob_not_found",
     f"The blob referenced by source uri {GOOD_SAS} doesn't exist."),
    (FakeBlob(None, None, None, "remote name not found"), "remote_name_not_found",
     f"The gallery application version url {GOOD_SAS} cannot be accessed due to the following "
     "error: remote name not found. Ensure that the blob exists and that it's either publicly "
     "accessible or is a SAS url with read privileges."),
    (FakeBlob(None, None, None, "[Errno 111] Connection refused"), "url_not_accessible",
     f"The gallery application version url {GOOD_SAS} cannot be accessed due to the following "
     "error: [Errno 111] Connection refused. Ensure that the blob exists and that it's either "
     "publicly accessible or is a SAS url with read privileges."),
    (FakeBlob(500, None, None, "Server Error"), "url_not_accessible",
     f"The gallery application version url {GOOD_SAS} cannot be accessed due to the following "
     "error: (500) Server Error. Ensure that the blob exists and that it's either publicly "
     "accessible or is a SAS url with read privileges."),
    (FakeBlob(200, 0, "BlockBlob"), "blob_empty",
     f"The blob referenced by source uri {GOOD_SAS} is empty."),
    (FakeBlob(200, 1024**3 + 1, "PageBlob"), "blob_too_big",
     f"The blob referenced by source uri {GOOD_SAS} is too big: size = 1073741825. "
     "The maximum blob size allowed is '1 GB'."),
    (FakeBlob(200, 10, "AppendBlob"), "blob_type_unsupported",
     "AppendBlob blob type is not supported for CreateOrUpdate operation. "
     "Only page blobs and block blobs are supported."),
])
def test_storage_answers_map_to_rows(answer: FakeBlob, row: str, text: str) -> None:
    assert row_for(answer) == (row, text)


def test_exactly_one_gib_is_allowed() -> None:
    check_link(GOOD_SAS, lambda _u: FakeBlob(200, 1024**3, "PageBlob"), operation="X",
               target="t")

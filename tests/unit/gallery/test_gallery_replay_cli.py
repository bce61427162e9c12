"""Every seed error row through `vmapp gallery replay`, with link checks against a real Azurite.

One Azurite serves the module (``--blob-endpoint``); each test uses its own container.
"""

from __future__ import annotations

import argparse
import codecs
import itertools
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gallery_builders import (
    OTHER,
    SUB,
    app_body,
    app_id,
    entry,
    gallery_body,
    gallery_id,
    version_body,
    version_id,
    vm_body,
    vm_id,
)
from gallery_builders import regions as target_regions

from harness.cli import gallery as cli_gallery
from harness.cli.gallery import register
from harness.storage.azurite import Azurite

NOW = "2024-06-01T00:00:00Z"
_counter = itertools.count()


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Azurite(Path(tmp_path_factory.mktemp("azurite"))) as azurite:
        yield azurite.account_url


@pytest.fixture
def container() -> str:
    return f"c{next(_counter):04d}"


class Replay:
    def __init__(self, endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
        self.endpoint, self.tmp_path, self.capsys = endpoint, tmp_path, capsys

    def run(self, requests: Any, *args: str, raw: str | bytes | None = None
            ) -> tuple[int, list[dict[str, Any]], str]:
        file = self.tmp_path / "requests.json"
        if raw is None:
            raw = json.dumps(requests)
        file.write_bytes(raw.encode() if isinstance(raw, str) else raw)
        parser = argparse.ArgumentParser(prog="vmapp")
        register(parser.add_subparsers(dest="verb", required=True))
        ns = parser.parse_args(["gallery", "replay", str(file), "--now", NOW,
                                "--blob-endpoint", self.endpoint, *args])
        code = ns.handler(ns)
        out, err = self.capsys.readouterr()
        return code, [json.loads(line) for line in out.splitlines()], err

    def last_error(self, requests: list[dict[str, Any]], *args: str) -> tuple[int, str, str]:
        code, answers, err = self.run(requests, *args)
        assert code == 0, err
        assert len(answers) == len(requests)
        last = answers[-1]
        return last["status"], last["body"]["error"]["code"], last["body"]["error"]["message"]


@pytest.fixture
def replay(endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Replay:
    return Replay(endpoint, tmp_path, capsys)


def put(path: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"method": "PUT", "path": path, "body": body, **extra}


def blob(container: str, name: str, content: str = "package", **extra: Any) -> dict[str, Any]:
    return {"method": "PUT", "blob": f"{container}/{name}", "content": content, **extra}


def setup(container: str, os_type: str = "Linux", apps: tuple[str, ...] = ("app",),
          **profile: Any) -> list[dict[str, Any]]:
    """Blob, gallery, applications with version 1.0.0 each (replicated to eastus)."""
    requests = [blob(container, "pkg"), put(gallery_id(), gallery_body())]
    for app in apps:
        requests.append(put(app_id(app), app_body(os_type)))
        requests.append(put(version_id(app=app), version_body(
            media=f"{{{{blob:{container}/pkg}}}}", **profile)))
    return requests


def with_url(message: str, template: str, base: str) -> None:
    """``message`` is ``template`` with a SAS URL of ``base`` (its signature varies by time)."""
    pattern = re.escape(template).replace(re.escape("{uri}"), r"(\S+)")
    match = re.fullmatch(pattern, message)
    assert match, message
    assert match.group(1).startswith(base + "?") and "sig=" in match.group(1)


def base_url(endpoint: str, container: str, name: str) -> str:
    return f"{endpoint}/{container}/{name}"


def version_with(container: str, media: str, version: str = "1.0.0", **profile: Any
                 ) -> list[dict[str, Any]]:
    return [put(gallery_id(), gallery_body()), put(app_id(), app_body()),
            put(version_id(version), version_body(media=media, **profile))]


def wordings(*, current: str, preview: str) -> pytest.MarkDecorator:
    """Run a row's test once per ``--wording``, with that wording's exact text (seed 000 / 001).

    Only the rows whose seed-001 text differs need this; the others are worded alike.
    """
    return pytest.mark.parametrize(("wording", "text"), [("current", current),
                                                         ("preview", preview)])


# -- deploy-time rows --------------------------------------------------------------------------
def test_row_deprecated(replay: Replay, container: str) -> None:
    requests = setup(container, endOfLifeDate="2024-01-01")
    requests.append(put(vm_id(), vm_body(entry(version_id()))))
    assert replay.last_error(requests) == (
        400, "OperationNotAllowed", "Current VM Application Version gal/app/1.0.0 was "
        "deprecated at 2024-01-01T00:00:00+00:00.")


def test_row_os_mismatch(replay: Replay, container: str) -> None:
    requests = setup(container, os_type="Windows")
    requests.append(put(vm_id(), vm_body(entry(version_id()), os_type="Linux")))
    assert replay.last_error(requests)[2] == (
        "Current VM Application Version gal/app/1.0.0 supports OS Windows, while current "
        "OSDisk's OS is Linux.")


def test_row_too_many_applications(replay: Replay, container: str) -> None:
    apps = tuple(f"app{i}" for i in range(6))
    requests = setup(container, apps=apps)
    requests.append(put(vm_id(), vm_body(*(entry(version_id(app=a)) for a in apps))))
    assert replay.last_error(requests)[2] == (
        "The maximum number of VM applications (max=5, current=6) has been exceeded. Use fewer "
        "applications and retry the request.")


@wordings(current="More than one VM Application was specified with the same "
                  "packageReferenceId.",
          preview="More than one VMApplication was specified with the same packageReferenceId.")
def test_row_duplicate_package_reference(replay: Replay, container: str, wording: str,
                                         text: str) -> None:
    requests = setup(container)
    requests.append(put(vm_id(), vm_body(entry(version_id()), entry(version_id()))))
    assert replay.last_error(requests, "--wording", wording) == (400, "InvalidParameter", text)


def test_row_not_authorized(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(vm_id(sub=OTHER), vm_body(entry(version_id()))))
    assert replay.last_error(requests) == (
        403, "AuthorizationFailed", "Subscription not authorized to access this image.")


@wordings(current="Storage account in the arguments doesn't exist.",
          preview="Storage account in the arguments does not exist.")
def test_row_no_applications_in_subscription(replay: Replay, container: str, wording: str,
                                             text: str) -> None:
    requests = setup(container)
    requests.append(put(vm_id(), vm_body(entry(version_id(sub=OTHER)))))
    assert replay.last_error(requests, "--wording", wording) == (404, "NotFound", text)


@wordings(current="The platform image {image} isn't available. Verify that all fields in the "
                  "storage profile are correct. For more details about storage profile "
                  "information, please refer to https://aka.ms/storageprofile.",
          preview="The platform image {image} is not available. Verify that all fields in the "
                  "storage profile are correct. For more details about storage profile "
                  "information, please refer to https://aka.ms/storageprofile.")
def test_row_application_not_available(replay: Replay, container: str, wording: str,
                                       text: str) -> None:
    requests = setup(container)
    missing = version_id(app="nosuchapp")
    requests.append(put(vm_id(), vm_body(entry(missing))))
    assert replay.last_error(requests, "--wording", wording) == (
        404, "NotFound", text.format(image=missing))


def test_row_not_replicated_to_region(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(vm_id(), vm_body(entry(version_id()), location="westeurope")))
    assert replay.last_error(requests)[2] == (
        f"The gallery image {version_id()} is not available in westeurope region. Please "
        "contact image owner to replicate to this region, or change your requested region.")


def test_manual_replication_then_settle(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests += [put(vm_id(), vm_body(entry(version_id()))), {"harness": "settle"},
                 put(vm_id(), vm_body(entry(version_id())))]
    code, answers, _ = replay.run(requests, "--replication", "manual")
    assert code == 0
    assert [a["status"] for a in answers[-3:]] == [400, 200, 201]
    assert "is not available in eastus region" in answers[-3]["body"]["error"]["message"]


# -- link rows (real storage) ---------------------------------------------------------------------
def test_row_sas_forbidden_expired(replay: Replay, container: str, endpoint: str) -> None:
    requests = [blob(container, "pkg"),
                *version_with(container, f"{{{{blob:{container}/pkg|expired}}}}")]
    status, code, message = replay.last_error(requests)
    assert (status, code) == (400, "InvalidParameter")
    with_url(message, "The SAS is not valid for source uri {uri}.",
             base_url(endpoint, container, "pkg"))


def test_row_sas_forbidden_without_sas(replay: Replay, container: str, endpoint: str) -> None:
    requests = [blob(container, "pkg"),
                *version_with(container, f"{{{{blob:{container}/pkg|nosas}}}}")]
    url = base_url(endpoint, container, "pkg")
    assert replay.last_error(requests)[2] == f"The SAS is not valid for source uri {url}."


def test_row_sas_malformed(replay: Replay, container: str, endpoint: str) -> None:
    media = f"{{{{blob:{container}/pkg|nosas}}}}?sv=2022-11-02&sp=r&se=2030-01-01"
    requests = [blob(container, "pkg"), *version_with(container, media)]
    url = base_url(endpoint, container, "pkg") + "?sv=2022-11-02&sp=r&se=2030-01-01"
    assert replay.last_error(requests)[2] == f"The SAS is not valid for source uri {url}."


@wordings(current="The blob referenced by source uri {uri} doesn't exist.",
          preview="The blob referenced by source uri {uri} does not exist.")
def test_row_blob_not_found(replay: Replay, container: str, endpoint: str, wording: str,
                            text: str) -> None:
    requests = [blob(container, "other"),
                *version_with(container, f"{{{{blob:{container}/missing}}}}")]
    status, code, message = replay.last_error(requests, "--wording", wording)
    assert (status, code) == (400, "InvalidParameter")
    with_url(message, text, base_url(endpoint, container, "missing"))


def test_default_configuration_link_is_checked_too(replay: Replay, container: str,
                                                   endpoint: str) -> None:
    requests = [blob(container, "pkg"), *version_with(
        container, f"{{{{blob:{container}/pkg}}}}", config=f"{{{{blob:{container}/nocfg}}}}")]
    with_url(replay.last_error(requests)[2],
             "The blob referenced by source uri {uri} doesn't exist.",
             base_url(endpoint, container, "nocfg"))


def test_row_remote_name_not_found(replay: Replay, container: str) -> None:
    url = "https://nosuchaccount.blob.core.windows.net/apps/app.tar"
    assert replay.last_error(version_with(container, url))[2] == (
        f"The gallery application version url {url} cannot be accessed due to the following "
        "error: remote name not found. Ensure that the blob exists and that it's either "
        "publicly accessible or is a SAS url with read privileges.")


def test_row_url_not_accessible(replay: Replay, container: str) -> None:
    url = "http://127.0.0.1:1/devstoreaccount1/apps/app.tar"
    assert replay.last_error(version_with(container, url))[2] == (
        f"The gallery application version url {url} cannot be accessed due to the following "
        "error: [Errno 111] Connection refused. Ensure that the blob exists and that it's "
        "either publicly accessible or is a SAS url with read privileges.")


def test_row_blob_too_big(replay: Replay, container: str, endpoint: str) -> None:
    big = {"method": "PUT", "blob": f"{container}/big", "blobType": "PageBlob",
           "size": 1024**3 + 512}
    requests = [big, *version_with(container, f"{{{{blob:{container}/big}}}}")]
    with_url(replay.last_error(requests)[2],
             "The blob referenced by source uri {uri} is too big: size = 1073742336. "
             "The maximum blob size allowed is '1 GB'.", base_url(endpoint, container, "big"))


def test_one_gib_page_blob_is_accepted(replay: Replay, container: str) -> None:
    big = {"method": "PUT", "blob": f"{container}/big", "blobType": "PageBlob", "size": 1024**3}
    code, answers, _ = replay.run([big, *version_with(container,
                                                       f"{{{{blob:{container}/big}}}}")])
    assert code == 0 and [a["status"] for a in answers] == [201, 201, 201, 201]


def test_row_blob_empty(replay: Replay, container: str, endpoint: str) -> None:
    requests = [blob(container, "empty", ""),
                *version_with(container, f"{{{{blob:{container}/empty}}}}")]
    with_url(replay.last_error(requests)[2], "The blob referenced by source uri {uri} is empty.",
             base_url(endpoint, container, "empty"))


def test_row_blob_type_unsupported(replay: Replay, container: str) -> None:
    requests = [blob(container, "log", blobType="AppendBlob"),
                *version_with(container, f"{{{{blob:{container}/log}}}}")]
    assert replay.last_error(requests)[2] == (
        "AppendBlob blob type is not supported for CreateOrUpdate operation. Only page blobs "
        "and block blobs are supported.")


def test_block_and_page_blobs_are_accepted(replay: Replay, container: str) -> None:
    requests = [blob(container, "page", blobType="PageBlob"), blob(container, "block"),
                *version_with(container, f"{{{{blob:{container}/page}}}}"),
                put(version_id("1.0.1"), version_body(media=f"{{{{blob:{container}/block}}}}"))]
    code, answers, _ = replay.run(requests)
    assert code == 0 and [a["status"] for a in answers] == [201] * 6
    assert answers[0]["body"]["size"] == 512


# -- publishing rows ---------------------------------------------------------------------------
def media(container: str) -> str:
    return f"{{{{blob:{container}/pkg}}}}"


def test_row_marked_for_deletion(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests += [{"method": "DELETE", "path": version_id()},
                 put(version_id(), version_body(media=media(container)))]
    assert replay.last_error(requests) == (
        409, "Conflict", "Operation CreateOrUpdate is not allowed on gal/app/1.0.0 since it is "
        "marked for deletion. You can only retry the Delete operation (or wait for an ongoing "
        "one to complete).")


def test_deletion_completes_on_settle(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests += [{"method": "DELETE", "path": version_id()},
                 {"method": "GET", "path": version_id()}, {"harness": "settle"},
                 {"method": "GET", "path": version_id()}]
    _, answers, _ = replay.run(requests)
    assert answers[-4]["status"] == 202
    assert answers[-3]["body"]["properties"]["provisioningState"] == "Deleting"
    assert answers[-1]["status"] == 404


def test_row_replica_count(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(version_id("1.0.1"), version_body(media=media(container),
                                                          replicaCount=4)))
    assert replay.last_error(requests)[2] == (
        "The value 4 of parameter 'galleryApplicationVersion.properties.publishingProfile."
        "replicaCount' is out of range. The value must be between 1 and 3, inclusive.")


@pytest.mark.parametrize("action", ["install", "update", "remove"])
def test_row_manage_action_changed(replay: Replay, container: str, action: str) -> None:
    requests = setup(container)
    requests.append(put(version_id(), version_body(media=media(container),
                                                   **{action: "changed"})))
    assert replay.last_error(requests) == (
        409, "PropertyChangeNotAllowed", "Changing property 'galleryApplicationVersion."
        f"properties.publishingProfile.manageActions.{action}' is not allowed.")


@pytest.mark.parametrize("setting", ["packageFileName", "configFileName"])
def test_row_setting_changed(replay: Replay, container: str, setting: str) -> None:
    requests = setup(container, settings={setting: "a"})
    requests.append(put(version_id(), version_body(media=media(container),
                                                   settings={setting: "b"})))
    assert replay.last_error(requests)[2] == (
        "Changing property ' galleryApplicationVersion.properties.publishingProfile.settings."
        f"{setting} ' is not allowed.")


def test_row_feature_missing_then_registered(replay: Replay, container: str) -> None:
    body = version_body(media=media(container),
                        targetRegions=target_regions("eastus", "australiacentral2"))
    feature = (f"/subscriptions/{SUB}/providers/Microsoft.Features/providers/Microsoft.Compute/"
               "features/RestrictedRegionTargets/register")
    requests = [*setup(container), put(version_id("2.0.0"), body),
                {"method": "POST", "path": feature}, put(version_id("2.0.0"), body)]
    _, answers, _ = replay.run(requests)
    assert answers[-3]["body"]["error"]["message"] == (
        "Cannot specify australiacentral2 in target regions because the subscription is missing "
        "required feature Microsoft.Compute/RestrictedRegionTargets. Either register your "
        "subscription with the required feature or remove the region from the target region "
        "list.")
    assert answers[-2]["body"]["properties"]["state"] == "Registered"
    assert answers[-1]["status"] == 201


def test_row_regions_missing_location(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(version_id("2.0.0"), version_body(
        media=media(container), targetRegions=target_regions("westus"))))
    assert replay.last_error(requests)[2] == (
        "Gallery image version publishing profile regions westus must contain the location of "
        "image version eastus.")


def test_row_duplicate_regions(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(version_id("2.0.0"), version_body(
        media=media(container), targetRegions=target_regions("eastus", "westus", "westus"))))
    assert replay.last_error(requests)[2] == (
        "Duplicate regions are not allowed in target publishing regions.")


def test_row_encryption(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(version_id("2.0.0"), version_body(media=media(container), targetRegions=[
        {"name": "eastus", "encryption": {"osDiskImage": {"diskEncryptionSetId": "x"}}}])))
    assert replay.last_error(requests)[2] == (
        "Gallery application version resources currently do not support encryption.")


@wordings(current="Entity name doesn't match the name in the request URL.",
          preview="Entity name does not match the name in the request URL.")
def test_row_name_mismatch(replay: Replay, container: str, wording: str, text: str) -> None:
    requests = setup(container)
    requests.append(put(version_id("2.0.0"), version_body(media=media(container))
                        | {"name": "3.0.0"}))
    assert replay.last_error(requests, "--wording", wording) == (400, "InvalidParameter", text)


def test_row_invalid_version_name(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests.append(put(version_id("2.0"), version_body(media=media(container))))
    assert replay.last_error(requests)[2] == (
        "The gallery application version name is invalid. The application version name should "
        "follow Major(int32).Minor(int32).Patch(int32) format, where int is between 0 and "
        "2,147,483,647 (inclusive). e.g. 1.0.0, 2018.12.1 etc.")


def test_acting_as_another_subscription(replay: Replay, container: str) -> None:
    requests = setup(container)
    requests += [{"method": "GET", "path": version_id(), "as": OTHER},
                 put(f"{gallery_id()}/providers/Microsoft.Authorization/roleAssignments/r1",
                     {"properties": {"roleDefinitionId": "reader", "principalId": OTHER}}),
                 {"method": "GET", "path": version_id(), "as": OTHER}]
    _, answers, _ = replay.run(requests)
    assert [a["status"] for a in answers[-3:]] == [403, 201, 200]


# -- malformed files ---------------------------------------------------------------------------
def test_invalid_json_names_line_and_column(replay: Replay, tmp_path: Path) -> None:
    code, answers, err = replay.run(None, raw='[\n  {"method": "GET",, "path": "/x"}\n]')
    assert (code, answers) == (2, [])
    assert err.strip() == (f"vmapp gallery replay: {tmp_path / 'requests.json'}:2: invalid "
                           "JSON at column 20: Expecting property name enclosed in double "
                           "quotes")
    assert "Traceback" not in err


def test_latin1_file_names_the_byte(replay: Replay, tmp_path: Path) -> None:
    raw = json.dumps([{"method": "GET", "path": gallery_id(), "comment": "café"}],
                     ensure_ascii=False).encode("latin-1")
    offset = raw.index(0xE9)
    code, answers, err = replay.run(None, raw=raw)
    assert (code, answers) == (2, [])
    assert err == (f"vmapp gallery replay: {tmp_path / 'requests.json'}: not UTF-8 text "
                   f"(byte 0xe9 at offset {offset}); save it as UTF-8\n")


@pytest.mark.parametrize("mark", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8],
                         ids=["utf-16-le", "utf-16-be", "utf-8"])
def test_byte_order_mark_decides_the_encoding(replay: Replay, mark: bytes) -> None:
    """As PowerShell 5 writes files (`>`, Out-File: UTF-16LE; -Encoding UTF8), CRLF included."""
    codec = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}.get(mark,
                                                                                    "utf-8")
    text = json.dumps([put(gallery_id(), gallery_body(description="café"))], indent=1,
                      ensure_ascii=False).replace("\n", "\r\n")
    code, answers, err = replay.run(None, raw=mark + text.encode(codec))
    assert code == 0, err
    assert answers[0]["status"] == 201
    assert answers[0]["body"]["properties"]["description"] == "café"


def test_broken_utf16_names_the_byte(replay: Replay, tmp_path: Path) -> None:
    raw = codecs.BOM_UTF16_LE + "[]".encode("utf-16-le") + b"]"
    code, _, err = replay.run(None, raw=raw)
    assert code == 2
    assert err == (f"vmapp gallery replay: {tmp_path / 'requests.json'}: not UTF-16LE text "
                   "(byte 0x5d at offset 6); save it as UTF-8\n")


def test_json_too_deep_to_parse(replay: Replay, tmp_path: Path) -> None:
    code, answers, err = replay.run(None, raw="[" * 100_000)
    assert (code, answers) == (2, [])
    assert err == (f"vmapp gallery replay: {tmp_path / 'requests.json'}: invalid JSON: nested "
                   "too deeply to read (requests may nest at most 64 levels)\n")


def nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def test_request_nesting_up_to_the_limit_is_answered(replay: Replay) -> None:
    request = put(gallery_id(), gallery_body(), comment=nested(63))  # 64 with the request
    code, answers, err = replay.run([request])
    assert code == 0, err
    assert answers[0]["status"] == 201


@pytest.mark.parametrize("request_", [
    put(gallery_id(), gallery_body(), comment=nested(64)),
    put(gallery_id(), gallery_body(tags={"t": nested(900)})),
], ids=["one-level-too-deep", "deep-body"])
def test_request_nested_too_deep(replay: Replay, tmp_path: Path, request_: Any) -> None:
    code, answers, err = replay.run([{"harness": "settle"}, request_])
    assert (code, answers) == (2, [])
    assert err == (f"vmapp gallery replay: {tmp_path / 'requests.json'} request[1]: nested more "
                   "than 64 levels deep (arrays and objects, the request itself included)\n")


def test_not_an_array(replay: Replay, tmp_path: Path) -> None:
    code, _, err = replay.run({"method": "GET"})
    assert code == 2
    assert err.strip() == (f"vmapp gallery replay: {tmp_path / 'requests.json'}: must be a JSON "
                           "array of requests, not dict")


def test_missing_and_invalid_fields_name_the_request(replay: Replay, tmp_path: Path) -> None:
    file = tmp_path / "requests.json"
    code, answers, err = replay.run([
        {"method": "GET", "path": gallery_id()},
        {"path": gallery_id()},
        {"method": "FETCH", "path": gallery_id(), "body": [1]},
        {"method": "PUT", "blob": "nocontainer", "content": "x"},
        {"method": "PUT", "path": gallery_id(), "body": {"location": "{{blob:box/x|stale}}"}},
        "GET /",
    ])
    assert (code, answers) == (2, [])
    assert err.splitlines() == [
        "vmapp gallery replay: 6 error(s):",
        f"  {file} request[1].method: missing (required)",
        f"  {file} request[2].method: must be one of GET, PUT, PATCH, POST, "
        "DELETE, not 'FETCH'",
        f"  {file} request[2].body: must be a JSON object, not list",
        f"  {file} request[3].blob: 'nocontainer': must name CONTAINER/NAME",
        f"  {file} request[4].body.location: placeholder {{{{blob:box/x|stale}}}}"
        ": unknown option 'stale' (use expired or nosas)",
        f"  {file} request[5]: must be an object, not str",
    ]


def test_missing_file(replay: Replay, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    ns = parser.parse_args(["gallery", "replay", str(tmp_path / "nope.json")])
    assert ns.handler(ns) == 2
    assert "nope.json: cannot read: No such file or directory" in capsys.readouterr().err


def test_unknown_path_is_an_answer_not_an_error(replay: Replay) -> None:
    code, answers, _ = replay.run([{"method": "GET", "path": "/subscriptions/s/foo"}])
    assert code == 0
    assert answers[0]["status"] == 404 and answers[0]["body"]["error"]["code"] == \
        "InvalidRequestUri"


# -- the real command ---------------------------------------------------------------------------
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "gallery"


def test_console_script_runs_examples_with_embedded_azurite() -> None:
    vmapp = Path(sys.executable).parent / "vmapp"
    done = subprocess.run([str(vmapp), "gallery", "replay", str(EXAMPLES / "errors.json")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [a["status"] for a in answers] == [201, 201, 201, 201, 201, 400, 400, 400, 400, 400,
                                              201, 409, 400, 400, 403]
    assert answers[-1]["body"]["error"]["message"] == (
        "Subscription not authorized to access this image.")


def test_quickstart_example(replay: Replay) -> None:
    code, answers, err = replay.run(json.loads((EXAMPLES / "quickstart.json").read_text()))
    assert code == 0, err
    assert [a["status"] for a in answers] == [201, 201, 201, 201, 201, 200, 201]
    summary = answers[5]["body"]["properties"]["replicationStatus"]["summary"]
    assert [(s["region"], s["state"]) for s in summary] == [("East US", "Completed"),
                                                            ("West US", "Completed")]
    vm = answers[6]["body"]
    assert vm["resources"][0]["properties"]["type"] == "VMApplicationManagerWindows"


def test_no_storage_started_without_blobs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("Azurite must not start for a file without blobs")

    monkeypatch.setattr(cli_gallery, "Azurite", refuse)
    file = tmp_path / "r.json"
    file.write_text(json.dumps([put(gallery_id(), gallery_body())]))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    ns = parser.parse_args(["gallery", "replay", str(file)])
    assert ns.handler(ns) == 0
    assert json.loads(capsys.readouterr().out)["status"] == 201


# -- hostile request files: exit 2 and one line per problem, storage never asked --------------

@pytest.mark.parametrize(("raw", "problem"), [
    ('[{"method": "GET", "path": "/subscriptions/s", "body": {"n": ' + "1" * 4301 + "}}]",
     ": invalid JSON: the number 111111111111111111111111... is out of range (64-bit integers "
     "at most)"),
    ('[{"method": "GET", "path": "/subscriptions/s", "body": {"n": 9223372036854775808}}]',
     ": invalid JSON: the number 9223372036854775808 is out of range (64-bit integers at most)"),
    ('[{"method": "GET", "path": "/subscriptions/s", "body": {"n": NaN}}]',
     ": invalid JSON: NaN is not a JSON value"),
    ('[{"method": "GET", "path": "/subscriptions/s", "body": {"n": -1e999}}]',
     ": invalid JSON: the number -1e999 is out of range"),
    ('[{"method": "PUT", "blob": "box/x", "content": "\\ud800"}]',
     ": invalid text: '\\ud800' holds a lone surrogate (not a character)"),
    ('[{"method": "PUT", "blob": "ab/x", "content": "x"}]',
     " request[0].blob: 'ab/x': container 'ab' is not 3 to 63 lowercase letters, digits and "
     "single hyphens (starting and ending with a letter or digit)"),
    ('[{"method": "PUT", "blob": "Box/x", "content": "x"}]', " request[0].blob: 'Box/x': "
     "container 'Box' is not 3 to 63"),
    ('[{"method": "PUT", "blob": "box/a\\u0000b", "content": "x"}]',
     " request[0].blob: 'box/a\\x00b': blob name 'a\\x00b' holds a control character"),
    ('[{"method": "PUT", "blob": "box/x", "size": 1099511627776}]',
     " request[0].size: a BlockBlob's bytes are sent: at most 268435456 (a PageBlob is sparse "
     "and may be bigger), not 1099511627776"),
    ('[{"method": "GET", "path": "/subscriptions/s/x{{blob:a-/x}}"}]',
     " request[0].path: placeholder {{blob:a-/x}}: container 'a-' is not 3 to 63"),
])
def test_hostile_request_file_is_refused_before_storage(tmp_path: Path, raw: str, problem: str,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    replay = Replay("http://127.0.0.1:9/unused", tmp_path, capsys)
    code, answers, err = replay.run(None, raw=raw)
    assert (code, answers) == (2, [])
    assert err.startswith(f"vmapp gallery replay: {tmp_path / 'requests.json'}{problem}"), err
    assert len(err.splitlines()) == 1


def test_malformed_ipv6_link_gets_the_services_answer(replay: Replay, container: str) -> None:
    status, code, message = replay.last_error([
        put(gallery_id(), gallery_body()), put(app_id(), app_body()),
        put(version_id(), version_body(media="http://[::1/x"))])
    assert (status, code) == (400, "InvalidParameter")
    assert message.startswith("The gallery application version url http://[::1/x cannot be "
                              "accessed due to the following error: invalid URI (Invalid IPv6 "
                              "URL).")

"""Blobs and SAS URLs through the real Azure SDK, and link probes the way the service makes them."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobSasPermissions, BlobServiceClient, BlobType, generate_blob_sas

from harness.errors import ConfigError, InfrastructureError

PAGE = 512
BLOB_TYPES = {"BlockBlob": BlobType.BLOCKBLOB, "PageBlob": BlobType.PAGEBLOB,
              "AppendBlob": BlobType.APPENDBLOB}


@dataclass(frozen=True)
class BlobProbe:
    """What storage answered for a URL (Get Blob Properties, i.e. an HTTP HEAD)."""

    url: str
    status: int | None
    size: int | None = None
    blob_type: str | None = None
    error: str | None = None


def pad_to_page(data: bytes) -> bytes:
    """Zero-pad to a multiple of 512 bytes, as the seeds' byte-align script does."""
    remainder = len(data) % PAGE
    return data if remainder == 0 else data + b"\0" * (PAGE - remainder)


class BlobStore:
    """One storage account (Azurite's dev account by default)."""

    def __init__(self, account_url: str, account: str, key: str) -> None:
        self.account_url = account_url.rstrip("/")
        self.account = account
        self.key = key
        self._client = BlobServiceClient(account_url=self.account_url, credential={
            "account_name": account, "account_key": key})

    def url(self, container: str, name: str) -> str:
        return f"{self.account_url}/{container}/{name}"

    def _ensure_container(self, container: str) -> None:
        with contextlib.suppress(ResourceExistsError):
            self._client.create_container(container)

    def upload(
        self, container: str, name: str, data: bytes, *, blob_type: str = "BlockBlob",
        pad: bool = False,
    ) -> int:
        """Upload ``data``; returns its stored size.  Page blobs must be 512-aligned (or padded)."""
        if blob_type not in BLOB_TYPES:
            raise ConfigError(f"unknown blob type {blob_type!r} (use one of {sorted(BLOB_TYPES)})",
                              field="blobType")
        if blob_type == "PageBlob" and pad:
            data = pad_to_page(data)
        try:
            self._ensure_container(container)
            blob = self._client.get_blob_client(container, name)
            if blob_type == "PageBlob":
                try:
                    blob.create_page_blob(size=len(data))
                except HttpResponseError as exc:
                    if len(data) % PAGE == 0:
                        raise
                    said = (exc.message or str(exc)).splitlines()[0]
                    raise ConfigError(  # the storage's own answer, and what to do about it
                        f"page blob {container}/{name} is {len(data)} bytes, not a multiple of "
                        f"512; the storage said: {said} Pad it (`pad: true`, the seeds' "
                        "byte-align step) or upload it as a block blob", field="blobType"
                    ) from exc
                if data:
                    for start in range(0, len(data), 4 * 1024 * 1024):
                        chunk = data[start:start + 4 * 1024 * 1024]
                        if chunk.strip(b"\0"):
                            blob.upload_page(chunk, offset=start, length=len(chunk))
            else:
                blob.upload_blob(data, blob_type=BLOB_TYPES[blob_type], overwrite=True)
        except AzureError as exc:
            raise InfrastructureError(stage="upload blob", detail=f"{container}/{name}: {exc}") \
                from exc
        return len(data)

    def create_sized(self, container: str, name: str, size: int, *, blob_type: str) -> None:
        """A blob of ``size`` zero bytes, without sending them (page blobs are sparse)."""
        if blob_type == "PageBlob" and size % PAGE == 0:
            try:
                self._ensure_container(container)
                self._client.get_blob_client(container, name).create_page_blob(size=size)
            except AzureError as exc:
                raise InfrastructureError(stage="upload blob", detail=str(exc)) from exc
            return
        self.upload(container, name, b"\0" * size, blob_type=blob_type)

    def delete(self, container: str, name: str) -> None:
        try:
            self._client.get_blob_client(container, name).delete_blob()
        except AzureError as exc:
            raise InfrastructureError(stage="delete blob", detail=f"{container}/{name}: {exc}") \
                from exc

    def sas_url(
        self, container: str, name: str, *, valid_for: timedelta = timedelta(hours=6),
        expired: bool = False,
    ) -> str:
        """URL with a read SAS; ``expired`` gives one whose expiry is already past."""
        now = datetime.now(UTC)
        expiry = now - timedelta(hours=1) if expired else now + valid_for
        start = now - timedelta(hours=2)
        token = generate_blob_sas(
            account_name=self.account, container_name=container, blob_name=name,
            account_key=self.key, permission=BlobSasPermissions(read=True),
            expiry=expiry, start=start,
        )
        return f"{self.url(container, name)}?{token}"


def _known_locally(host: str) -> bool:
    """True for IP literals, ``localhost`` and names in /etc/hosts: nothing needs DNS."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        with open("/etc/hosts", encoding="utf-8") as hosts:
            return any(host in line.split()[1:] for line in hosts if not line.startswith("#"))
    except OSError:
        return False


def probe(url: str, *, timeout: float = 10.0) -> BlobProbe:
    """HEAD the URL as given (the service checks links exactly as the user wrote them).

    The harness is offline by default: a host that only DNS could resolve is reported as
    "remote name not found" unless VMAPP_ALLOW_REMOTE_STORAGE=1 lets it reach real storage.
    """
    host = urllib.parse.urlsplit(url).hostname or ""
    if not _known_locally(host) and os.environ.get("VMAPP_ALLOW_REMOTE_STORAGE") != "1":
        return BlobProbe(url=url, status=None, error="remote name not found")
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            return BlobProbe(url=url, status=response.status,
                             size=int(length) if length is not None else None,
                             blob_type=response.headers.get("x-ms-blob-type"))
    except urllib.error.HTTPError as exc:
        return BlobProbe(url=url, status=exc.code, error=exc.reason)
    except urllib.error.URLError as exc:
        reason = exc.reason
        text = "remote name not found" if "Name or service not known" in str(reason) or \
            "nodename nor servname" in str(reason) else str(reason)
        return BlobProbe(url=url, status=None, error=text)
    except ValueError as exc:
        return BlobProbe(url=url, status=None, error=f"invalid url: {exc}")

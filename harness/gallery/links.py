"""Link checks on mediaLink, defaultConfigurationLink and configurationReference.

The core never touches storage: it is given a probe (``harness.storage.blobs.probe`` in the CLI)
and maps what storage answered onto the seeds' rows.  Only the SAS *shape* is judged here, with
no I/O: a URL whose query looks like a SAS but cannot be one is "not a valid SAS uri" before
anything is asked of storage (row ``sas_malformed``); a well-formed SAS that storage refuses with
403 (expired, wrong signature, private blob without SAS) is row ``sas_forbidden``.  Both rows
carry the same text.
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from collections.abc import Callable
from typing import Protocol

from harness.gallery.errors import fail
from harness.gallery.names import parse_datetime

MAX_BLOB_BYTES = 1024**3  # "1 GB" in the seeds: read as 1 GiB, compared in bytes
SUPPORTED_BLOB_TYPES = ("BlockBlob", "PageBlob")
_SAS_KEYS = {"sv", "ss", "srt", "sp", "se", "st", "spr", "sig", "sr", "si", "sip", "skoid",
             "sktid", "skt", "ske", "sks", "skv", "sdd"}


class LinkStatus(Protocol):
    """What storage answered to a HEAD of the URL (``BlobProbe`` has exactly these)."""

    @property
    def status(self) -> int | None: ...
    @property
    def size(self) -> int | None: ...
    @property
    def blob_type(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


LinkProbe = Callable[[str], LinkStatus]


def sas_is_malformed(url: str) -> bool:
    """True when the query carries SAS fields but they cannot form a valid SAS.

    Required: ``sv`` and ``sig``; ``sp`` and ``se`` unless a stored policy (``si``) supplies
    them; ``st``/``se`` must be dates; ``sig`` must be base64.  No SAS fields at all is not
    malformed: it is a plain URL, and storage decides (public blob, or 403).
    """
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    if not _SAS_KEYS & set(query):
        return False
    fields = {key: values[0] for key, values in query.items()}
    if not fields.get("sv") or not fields.get("sig"):
        return True
    if "si" not in fields and (not fields.get("sp") or not fields.get("se")):
        return True
    for key in ("st", "se"):
        if key in fields and parse_datetime(fields[key]) is None:
            return True
    try:
        base64.b64decode(fields["sig"], validate=True)
    except (binascii.Error, ValueError):
        return True
    return False


def check_link(url: str, probe: LinkProbe, *, operation: str, target: str) -> None:
    """Raise the seeds' row for what is wrong with ``url``; return when the blob is usable.

    ``operation`` fills the blob-type row's ``{operation}``: the REST operation name of the
    request that carried the link (``CreateOrUpdate`` or ``Update``).
    """
    try:
        urllib.parse.urlsplit(url)
    except ValueError as exc:  # e.g. "Invalid IPv6 URL": no request could be made
        raise fail("url_not_accessible", target, url=url,
                   error_description=f"invalid URI ({exc})") from None
    if sas_is_malformed(url):
        raise fail("sas_malformed", target, uri=url)
    answer = probe(url)
    if answer.status is None:
        description = answer.error or "no response"
        if description == "remote name not found":
            raise fail("remote_name_not_found", target, url=url)
        raise fail("url_not_accessible", target, url=url, error_description=description)
    if answer.status == 403:
        raise fail("sas_forbidden", target, uri=url)
    if answer.status == 404:
        raise fail("blob_not_found", target, uri=url)
    if not 200 <= answer.status < 300:
        description = answer.error or f"HTTP {answer.status}"
        raise fail("url_not_accessible", target, url=url,
                   error_description=f"({answer.status}) {description}")
    if answer.blob_type is not None and answer.blob_type not in SUPPORTED_BLOB_TYPES:
        raise fail("blob_type_unsupported", target, type=answer.blob_type, operation=operation)
    if answer.size == 0:
        raise fail("blob_empty", target, uri=url)
    if answer.size is not None and answer.size > MAX_BLOB_BYTES:
        raise fail("blob_too_big", target, uri=url, size=answer.size)


def no_storage(url: str) -> LinkStatus:
    """A probe for cores built without storage: every host is unknown, as offline."""
    return _Unreachable()


class _Unreachable:
    status: int | None = None
    size: int | None = None
    blob_type: str | None = None
    error: str | None = "remote name not found"

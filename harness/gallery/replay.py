"""Replaying a file of REST requests against a fresh ``GalleryService`` (pure: storage injected).

A request file is a JSON array.  Each element is one of:

* a REST request ``{"method", "path", "body"?, "as"?, "tenant"?}``: ``as`` acts as another
  subscription (default: the one in the path), ``tenant`` records the caller's tenant;
* a blob ``{"method": "PUT", "blob": "CONTAINER/NAME", "blobType"?, "content" | "size"}``;
* a harness control ``{"harness": "settle", "path"?}``, ``{"harness": "clock", "now"}`` or
  ``{"harness": "replication", "mode": "immediate" | "manual"}``.

Any string of a later request may contain ``{{blob:CONTAINER/NAME}}`` (URL with a read SAS),
``{{blob:CONTAINER/NAME|expired}}`` or ``{{blob:CONTAINER/NAME|nosas}}``.  Every element may
carry a ``comment``.  Malformed elements are reported all together, by index and field; an
element nested more than ``MAX_DEPTH`` levels deep is one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from harness.errors import ConfigError, ConfigErrors
from harness.gallery.bodies import Json
from harness.gallery.jsonfile import MAX_DEPTH, nesting_depth
from harness.gallery.names import (
    blob_name_problem,
    container_problem,
    format_datetime,
    parse_datetime,
)
from harness.gallery.service import GalleryService

PLACEHOLDER = re.compile(r"\{\{blob:([^{}|]*)(?:\|([^{}]*))?\}\}")
MODES = ("", "expired", "nosas")
METHODS = ("GET", "PUT", "PATCH", "POST", "DELETE")
BLOB_TYPES = ("BlockBlob", "PageBlob", "AppendBlob")
CONTROLS = ("settle", "clock", "replication")
MAX_SENT_SIZE = 256 * 2**20  # a block or append blob's bytes are sent: keep them in memory's reach
MAX_PAGE_BLOB = 8 * 2**40  # storage's largest page blob (8 TiB)


def _blob_problems(blob: str) -> list[str]:
    """Why ``CONTAINER/NAME`` cannot name a blob (checked before storage is asked)."""
    container, _, name = blob.partition("/")
    if not container or not name:
        return ["must name CONTAINER/NAME"]
    return [p for p in (container_problem(container), blob_name_problem(name)) if p]


@dataclass(frozen=True)
class RestRequest:
    index: int
    method: str
    path: str
    body: Any
    caller: str | None
    tenant: str | None


@dataclass(frozen=True)
class BlobRequest:
    index: int
    container: str
    name: str
    blob_type: str
    content: bytes | None
    size: int | None


@dataclass(frozen=True)
class ControlRequest:
    index: int
    action: str
    path: str | None = None
    now: datetime | None = None
    mode: str | None = None


Request = RestRequest | BlobRequest | ControlRequest


class BlobSink(Protocol):
    """Where blob requests go (the CLI gives Azurite through harness.storage)."""

    def create(self, container: str, name: str, *, blob_type: str, content: bytes | None,
               size: int | None) -> int: ...

    def url(self, container: str, name: str, mode: str) -> str: ...


def _walk_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_strings(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk_strings(item, f"{where}[{i}]")


def _check_placeholders(item: Json, where: str, errors: list[ConfigError], file: str) -> None:
    for field, text in _walk_strings(item, where):
        for match in PLACEHOLDER.finditer(text):
            blob, mode = match.group(1), match.group(2) or ""
            for problem in _blob_problems(blob):
                errors.append(ConfigError(f"placeholder {match.group(0)}: {problem}", file=file,
                                          field=field))
            if mode not in MODES:
                errors.append(ConfigError(f"placeholder {match.group(0)}: unknown option "
                                          f"{mode!r} (use expired or nosas)", file=file,
                                          field=field))


class _Fields:
    """Typed access to one element, collecting problems instead of stopping at the first."""

    def __init__(self, item: Json, index: int, file: str, errors: list[ConfigError]) -> None:
        self.item, self.where, self.file, self.errors = item, f"request[{index}]", file, errors

    def problem(self, key: str, text: str) -> None:
        self.errors.append(ConfigError(text, file=self.file, field=f"{self.where}.{key}"))

    def string(self, key: str, *, required: bool = False,
               choices: tuple[str, ...] = ()) -> str | None:
        value = self.item.get(key)
        if value is None:
            if required:
                self.problem(key, "missing (required)")
            return None
        if not isinstance(value, str) or (required and not value):
            self.problem(key, f"must be a non-empty string, not {value!r}")
            return None
        if choices and value not in choices:
            self.problem(key, f"must be one of {', '.join(choices)}, not {value!r}")
            return None
        return value

    def only(self, allowed: tuple[str, ...]) -> None:
        for key in self.item:
            if key not in (*allowed, "comment"):
                self.problem(key, f"unknown field (allowed: {', '.join(allowed)}, comment)")


def _parse_blob(f: _Fields, index: int) -> BlobRequest | None:
    f.only(("method", "blob", "blobType", "content", "size"))
    method = f.string("method", required=True, choices=("PUT",))
    blob = f.string("blob", required=True)
    blob_type = f.string("blobType", choices=BLOB_TYPES) or "BlockBlob"
    container, _, name = (blob or "").partition("/")
    for problem in _blob_problems(blob) if blob is not None else ():
        f.problem("blob", f"{blob!r}: {problem}")
    content, size = f.item.get("content"), f.item.get("size")
    if (content is None) == (size is None):
        f.problem("content", "give exactly one of content (text) or size (bytes)")
        return None
    if content is not None and not isinstance(content, str):
        f.problem("content", f"must be a string, not {content!r}")
        return None
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        f.problem("size", f"must be a whole number of bytes >= 0, not {size!r}")
        return None
    if size is not None and blob_type == "PageBlob" and (size % 512 or size > MAX_PAGE_BLOB):
        f.problem("size", f"a page blob's size must be a multiple of 512 up to 8 TiB, not {size}")
        return None
    if size is not None and blob_type != "PageBlob" and size > MAX_SENT_SIZE:
        f.problem("size", f"a {blob_type}'s bytes are sent: at most {MAX_SENT_SIZE} (a PageBlob "
                  f"is sparse and may be bigger), not {size}")
        return None
    if method is None or blob is None:
        return None
    return BlobRequest(index, container, name, blob_type,
                       content.encode() if content is not None else None, size)


def _parse_control(f: _Fields, index: int) -> ControlRequest | None:
    action = f.string("harness", required=True, choices=CONTROLS)
    if action == "settle":
        f.only(("harness", "path"))
        return ControlRequest(index, action, path=f.string("path"))
    if action == "clock":
        f.only(("harness", "now"))
        text = f.string("now", required=True)
        when = parse_datetime(text) if text else None
        if text and when is None:
            f.problem("now", f"must be an ISO 8601 date-time, not {text!r}")
        return ControlRequest(index, action, now=when) if when else None
    if action == "replication":
        f.only(("harness", "mode"))
        mode = f.string("mode", required=True, choices=("immediate", "manual"))
        return ControlRequest(index, action, mode=mode) if mode else None
    return None


def _parse_rest(f: _Fields, index: int) -> RestRequest | None:
    f.only(("method", "path", "body", "as", "tenant"))
    method = f.string("method", required=True, choices=METHODS)
    path = f.string("path", required=True)
    if path is not None and not path.lower().lstrip("/").startswith("subscriptions/") \
            and "/subscriptions/" not in path.lower():
        f.problem("path", f"must be an ARM path starting /subscriptions/..., not {path!r}")
    body = f.item.get("body")
    if body is not None and not isinstance(body, dict):
        f.problem("body", f"must be a JSON object, not {type(body).__name__}")
    caller, tenant = f.string("as"), f.string("tenant")
    if method is None or path is None:
        return None
    return RestRequest(index, method, path, body, caller, tenant)


def parse_requests(data: Any, file: str) -> list[Request]:
    """Validate a decoded request file; raises ``ConfigErrors`` listing every problem."""
    if not isinstance(data, list):
        raise ConfigErrors([ConfigError(f"must be a JSON array of requests, not "
                                        f"{type(data).__name__}", file=file)])
    errors: list[ConfigError] = []
    requests: list[Request] = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            errors.append(ConfigError(f"must be an object, not {type(item).__name__}",
                                      file=file, field=f"request[{index}]"))
            continue
        if nesting_depth(item) > MAX_DEPTH:
            errors.append(ConfigError(f"nested more than {MAX_DEPTH} levels deep (arrays and "
                                      "objects, the request itself included)", file=file,
                                      field=f"request[{index}]"))
            continue
        fields = _Fields(item, index, file, errors)
        _check_placeholders(item, f"request[{index}]", errors, file)
        parsed: Request | None
        if "harness" in item:
            parsed = _parse_control(fields, index)
        elif "blob" in item:
            parsed = _parse_blob(fields, index)
        else:
            parsed = _parse_rest(fields, index)
        if parsed is not None:
            requests.append(parsed)
    if errors:
        raise ConfigErrors(errors)
    return requests


def needs_storage(data: Any) -> bool:
    """True when a request file creates blobs or refers to them."""
    return any(isinstance(item, dict) and "blob" in item for item in data or []) or any(
        PLACEHOLDER.search(text) for _w, text in _walk_strings(data, ""))


def substitute(value: Any, url: Callable[[str, str, str], str]) -> Any:
    """Replace blob placeholders in every string of ``value``."""
    if isinstance(value, str):
        def one(match: re.Match[str]) -> str:
            container, _, name = match.group(1).partition("/")
            return url(container, name, match.group(2) or "")
        return PLACEHOLDER.sub(one, value)
    if isinstance(value, dict):
        return {key: substitute(item, url) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, url) for item in value]
    return value


class Replayer:
    """Applies parsed requests in order; one answer (``{"status", "body"}``) per request."""

    def __init__(self, service: GalleryService, blobs: BlobSink | None = None) -> None:
        self.service, self.blobs = service, blobs

    def _url(self, container: str, name: str, mode: str) -> str:
        if self.blobs is None:
            raise RuntimeError("blob placeholders need storage")
        return self.blobs.url(container, name, mode)

    def apply(self, request: Request) -> Json:
        if isinstance(request, BlobRequest):
            if self.blobs is None:
                raise RuntimeError("blob requests need storage")
            size = self.blobs.create(request.container, request.name,
                                     blob_type=request.blob_type, content=request.content,
                                     size=request.size)
            return {"status": 201, "body": {
                "blob": f"{request.container}/{request.name}", "blobType": request.blob_type,
                "size": size, "url": self.blobs.url(request.container, request.name, "nosas")}}
        if isinstance(request, ControlRequest):
            return self._control(request)
        path = substitute(request.path, self._url)
        body = substitute(request.body, self._url)
        return self.service.request(request.method, path, body, caller=request.caller,
                                    tenant=request.tenant).as_json()

    def _control(self, request: ControlRequest) -> Json:
        if request.action == "settle":
            path = substitute(request.path, self._url) if request.path else None
            self.service.settle(path)
            return {"status": 200, "body": {"settled": path or "all"}}
        if request.action == "clock":
            assert request.now is not None
            self.service.now = request.now
            return {"status": 200, "body": {"now": format_datetime(request.now)}}
        assert request.mode is not None
        self.service.replication = request.mode
        return {"status": 200, "body": {"replication": request.mode}}

    def run(self, requests: list[Request]) -> Iterator[Json]:
        for request in requests:
            yield self.apply(request)

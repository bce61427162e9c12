"""`vmapp gallery replay|rows`: what the Azure Compute Gallery would answer, before touching Azure.

``replay`` applies a JSON array of REST requests to a fresh in-memory gallery and prints one
JSON line per request.  Link checks go to real storage: an embedded Azurite (started only when
the file creates or refers to blobs, stopped afterwards) or ``--blob-endpoint``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from harness.cli.errors import print_error
from harness.errors import ConfigError, HarnessError
from harness.gallery import SEED_ROWS, GalleryService
from harness.gallery.errors import HARNESS_ROWS
from harness.gallery.jsonfile import load_json
from harness.gallery.names import parse_datetime
from harness.gallery.replay import BlobSink, Replayer, needs_storage, parse_requests
from harness.storage.azurite import DEV_ACCOUNT, DEV_KEY, Azurite
from harness.storage.blobs import BlobStore, probe


class StoreBlobs:
    """Blob requests and placeholders served by a real storage account."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    def create(self, container: str, name: str, *, blob_type: str, content: bytes | None,
               size: int | None) -> int:
        if size is not None:
            self.store.create_sized(container, name, size, blob_type=blob_type)
            return size
        return self.store.upload(container, name, content or b"", blob_type=blob_type, pad=True)

    def url(self, container: str, name: str, mode: str) -> str:
        if mode == "nosas":
            return self.store.url(container, name)
        return self.store.sas_url(container, name, expired=mode == "expired")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("gallery", help="what the gallery service would answer (offline)")
    verbs = p.add_subparsers(dest="gallery_verb", required=True, metavar="ACTION")
    replay = verbs.add_parser(
        "replay", help="apply REST requests to a fresh gallery, one JSON answer per line",
        description="Apply a JSON array of REST requests to a fresh in-memory gallery; see "
                    "docs/gallery.md for the request shapes.")
    replay.add_argument("requests", type=Path, metavar="REQUESTS.json")
    replay.add_argument("--wording", choices=("current", "preview"), default="current",
                        help="error texts of the current overview (default) or the 2021 preview")
    replay.add_argument("--replication", choices=("immediate", "manual"), default="immediate",
                        help="manual: regions stay Replicating until {\"harness\": \"settle\"}")
    replay.add_argument("--now", help="ISO date-time the service takes as now (default: clock)")
    replay.add_argument("--blob-endpoint", metavar="URL",
                        help="use this running blob endpoint (Azurite dev account) instead of "
                             "starting an embedded Azurite")
    replay.set_defaults(handler=handle_replay)
    rows = verbs.add_parser("rows", help="print the error table (code, status, text)")
    rows.add_argument("--all", action="store_true", help="include the harness's own rows")
    rows.set_defaults(handler=handle_rows)


def load_requests(path: Path) -> Any:
    """The decoded file; a ConfigError naming the file (and line) when it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    return load_json(data, str(path))


@contextlib.contextmanager
def blob_sink(needed: bool, endpoint: str | None) -> Iterator[BlobSink | None]:
    if endpoint:
        yield StoreBlobs(BlobStore(endpoint, DEV_ACCOUNT, DEV_KEY))
    elif not needed:
        yield None
    else:
        with tempfile.TemporaryDirectory(prefix="vmapp-gallery-") as tmp, \
                Azurite(Path(tmp) / "azurite") as azurite:
            yield StoreBlobs(BlobStore(azurite.account_url, azurite.account, azurite.key))


def replay(args: argparse.Namespace, out: TextIO) -> int:
    data = load_requests(args.requests)
    requests = parse_requests(data, str(args.requests))
    now = datetime.now(UTC)
    if args.now:
        parsed = parse_datetime(args.now)
        if parsed is None:
            raise ConfigError(f"not an ISO 8601 date-time: {args.now!r}", field="--now")
        now = parsed
    service = GalleryService(now=now, link_probe=probe, wording=args.wording,
                             replication=args.replication)
    with blob_sink(needs_storage(data), args.blob_endpoint) as blobs:
        for answer in Replayer(service, blobs).run(requests):
            out.write(json.dumps(answer) + "\n")
            out.flush()
    return 0


def handle_replay(args: argparse.Namespace) -> int:
    """Exit 0 when every request was answered; 2 for a malformed file; 3 if storage failed."""
    try:
        return replay(args, sys.stdout)
    except HarnessError as exc:
        return print_error(exc, "vmapp gallery replay")


def handle_rows(args: argparse.Namespace) -> int:
    for row in (*SEED_ROWS, *(HARNESS_ROWS if args.all else ())):
        print(f"{row.key:28} {row.status} {row.code:36} {row.template}")
    return 0

"""Publish a scenario's application versions: build packages, upload blobs, hand out SAS URLs."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from harness.packages.build import build_package
from harness.scenario.model import BlobSpec, Scenario
from harness.storage.blobs import BlobStore


@dataclass
class BlobRef:
    """A blob the harness uploaded (or a URL the user gave)."""

    container: str = ""
    name: str = ""
    url: str = ""
    size: int = 0

    def link(self, store: BlobStore, *, expired: bool = False) -> str:
        if self.url:
            return self.url
        return store.sas_url(self.container, self.name, expired=expired)


@dataclass
class Published:
    container: str
    blobs: dict[str, BlobRef] = field(default_factory=dict)  # "app@version" / "...#config"

    def package(self, app: str, version: str) -> BlobRef:
        return self.blobs[f"{app}@{version}"]

    def config(self, app: str, version: str) -> BlobRef | None:
        return self.blobs.get(f"{app}@{version}#config")


def container_name(cell: str, run_id: str) -> str:
    """A valid container name (3-63 chars of a-z, 0-9, -) unique to the cell (scenario and
    image) and run: two workers run one scenario on two images at once, and a fault that
    deletes a blob in one cell must not take it from the other."""
    digest = hashlib.sha256(f"{run_id}/{cell}".encode()).hexdigest()[:10]
    # cut before stripping: a cut that ends in "-" would make "--", which Azure refuses
    stem = re.sub(r"[^a-z0-9]+", "-", cell.lower())[:40].strip("-") or "s"
    return f"{stem}-{digest}"


def upload(store: BlobStore, container: str, name: str, spec: BlobSpec, version: str) -> BlobRef:
    if spec.url:
        return BlobRef(url=spec.url)
    if spec.package is not None:
        data = build_package(spec.package, version)
    else:
        data = (spec.content or "").encode()
    size = store.upload(container, name, data, blob_type=spec.blob_type, pad=spec.pad)
    return BlobRef(container=container, name=name, size=size)


def publish(scenario: Scenario, store: BlobStore, run_id: str, cell: str) -> Published:
    published = Published(container_name(cell, run_id))
    for app in scenario.apps.values():
        for version in app.versions.values():
            key = f"{app.name}@{version.version}"
            published.blobs[key] = upload(store, published.container, key, version.package,
                                          version.version)
            if version.config is not None:
                published.blobs[f"{key}#config"] = upload(
                    store, published.container, f"{key}.config", version.config, version.version)
    return published

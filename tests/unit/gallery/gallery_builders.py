"""Builders for gallery tests: ids, request bodies in the seeds' shapes, a scripted link probe.

Imported by the test modules as ``gallery_builders`` (this folder is on sys.path)."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from harness.cli.gallery import register
from harness.gallery import GalleryService, Limits, Response

NOW = datetime(2024, 6, 1, tzinfo=UTC)
SUB = "11111111-1111-1111-1111-111111111111"
OTHER = "22222222-2222-2222-2222-222222222222"
RG = "rg"
MEDIA = "https://pkgs.blob.core.windows.net/apps/app.tar?sv=2022-11-02&sp=r&se=2030-01-01&sig=YWJj"
CONFIG = "https://pkgs.blob.core.windows.net/apps/app.cfg?sv=2022-11-02&sp=r&se=2030-01-01&sig=YWJj"


def gallery_id(name: str = "gal", sub: str = SUB, rg: str = RG) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute/galleries/{name}"


def app_id(app: str = "app", gallery: str = "gal", sub: str = SUB) -> str:
    return f"{gallery_id(gallery, sub)}/applications/{app}"


def version_id(version: str = "1.0.0", app: str = "app", gallery: str = "gal",
               sub: str = SUB) -> str:
    return f"{app_id(app, gallery, sub)}/versions/{version}"


def image_id(image: str = "img", gallery: str = "gal", sub: str = SUB) -> str:
    return f"{gallery_id(gallery, sub)}/images/{image}"


def vm_id(name: str = "vm", sub: str = SUB, kind: str = "virtualMachines") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{RG}/providers/Microsoft.Compute/{kind}/{name}"


def gallery_body(location: str = "eastus", **props: Any) -> dict[str, Any]:
    return {"location": location, "properties": props}


def app_body(os_type: str = "Linux", location: str = "eastus", **props: Any) -> dict[str, Any]:
    return {"location": location, "properties": {"supportedOSType": os_type, **props}}


def version_body(*, media: str = MEDIA, location: str = "eastus", install: str = "./install",
                 remove: str = "./remove", update: str | None = None,
                 settings: dict[str, Any] | None = None, config: str | None = None,
                 **profile: Any) -> dict[str, Any]:
    actions = {"install": install, "remove": remove}
    if update is not None:
        actions["update"] = update
    source = {"mediaLink": media}
    if config is not None:
        source["defaultConfigurationLink"] = config
    publishing: dict[str, Any] = {"source": source, "manageActions": actions, **profile}
    if settings is not None:
        publishing["settings"] = settings
    return {"location": location, "properties": {"publishingProfile": publishing}}


def image_body(publisher: str = "Contoso", offer: str = "Finance", sku: str = "Backend",
               os_type: str = "Linux", os_state: str = "Generalized", location: str = "eastus",
               **props: Any) -> dict[str, Any]:
    return {"location": location, "properties": {
        "identifier": {"publisher": publisher, "offer": offer, "sku": sku},
        "osType": os_type, "osState": os_state, **props}}


def image_version_body(location: str = "eastus", storage: dict[str, Any] | None = None,
                       **profile: Any) -> dict[str, Any]:
    source = {"source": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
                               "Microsoft.Compute/images/base"}}
    return {"location": location, "properties": {
        "publishingProfile": profile, "storageProfile": storage or source}}


def regions(*names: str, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": n, **extra} for n in names]


def entry(ref: str, **extra: Any) -> dict[str, Any]:
    return {"packageReferenceId": ref, **extra}


def vm_body(*apps: dict[str, Any], location: str = "eastus", os_type: str | None = "Linux",
            image: str | None = None, os_profile: bool = True) -> dict[str, Any]:
    props: dict[str, Any] = {"applicationProfile": {"galleryApplications": list(apps)}}
    storage: dict[str, Any] = {}
    if os_type is not None:
        storage["osDisk"] = {"osType": os_type, "createOption": "FromImage"}
    if image is not None:
        storage["imageReference"] = {"id": image}
    props["storageProfile"] = storage
    if os_profile:
        props["osProfile"] = {"computerName": "vm", "adminUsername": "azureuser"}
    return {"location": location, "properties": props}


@dataclass
class FakeBlob:
    status: int | None = 200
    size: int | None = 1024
    blob_type: str | None = "BlockBlob"
    error: str | None = None


@dataclass
class ScriptedProbe:
    """Answers per URL (default: a healthy 1 KiB block blob); records what was probed."""

    answers: dict[str, FakeBlob] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def __call__(self, url: str) -> FakeBlob:
        self.asked.append(url)
        return self.answers.get(url, FakeBlob())



def ok(response: Response, status: int = 200) -> dict[str, Any]:
    assert response.status == status, response.body
    return response.body


def error(response: Response) -> tuple[int, str, str]:
    assert "error" in response.body, response.body
    return response.status, response.body["error"]["code"], response.body["error"]["message"]


def publish(svc: GalleryService, *, os_type: str = "Linux", versions: tuple[str, ...] = ("1.0.0",),
            app: str = "app", gallery: str = "gal", sub: str = SUB,
            **profile: Any) -> None:
    """A gallery with one application and the given versions, all replicated to eastus."""
    if svc.core.find(gallery_id(gallery, sub)) is None:
        ok(svc.request("PUT", gallery_id(gallery, sub), gallery_body()), 201)
    ok(svc.request("PUT", app_id(app, gallery, sub), app_body(os_type)), 201)
    for version in versions:
        ok(svc.request("PUT", version_id(version, app, gallery, sub), version_body(**profile)),
           201)


VMSS = "virtualMachineScaleSets"


def define(svc: GalleryService, image: str = "img", *, versions: tuple[str, ...] = ("1.0.0",),
           storage: dict[str, Any] | None = None, gallery: str = "gal",
           **props: Any) -> str:
    """An image definition (unique sku per name) with the given versions in eastus."""
    ok(svc.request("PUT", image_id(image, gallery), image_body(sku=image, **props)), 201)
    for version in versions:
        ok(svc.request("PUT", f"{image_id(image, gallery)}/versions/{version}",
                       image_version_body(storage=storage)), 201)
    return image_id(image, gallery)


def features(**values: str) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in values.items()]


def machine(image: str, *, kind: str = "virtualMachines", security: str | None = None,
            **props: Any) -> dict[str, Any]:
    """A VM (or scale set) body booting ``image``, with extra top-level properties."""
    body = vm_body(os_type=None, image=image)
    profile = body["properties"]
    if security is not None:
        profile["securityProfile"] = {"securityType": security}
    if kind == VMSS:
        body["properties"] = {"virtualMachineProfile": profile}
    body["properties"].update(props)
    return body


def replay_example(name: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """The answers ``vmapp gallery replay examples/gallery/NAME`` prints (exit status 0)."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    example = Path(__file__).parents[3] / "examples" / "gallery" / name
    ns = parser.parse_args(["gallery", "replay", str(example), "--now", "2024-06-01T00:00:00Z"])
    assert ns.handler(ns) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def small_limits(**values: int) -> Limits:
    return Limits(**values)

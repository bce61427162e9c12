"""Fixtures for gallery tests: a fresh service with a scripted link probe."""

from __future__ import annotations

import pytest
from gallery_builders import NOW, ScriptedProbe, gallery_body, gallery_id, ok

from harness.gallery import GalleryService


@pytest.fixture
def probe() -> ScriptedProbe:
    return ScriptedProbe()


@pytest.fixture
def svc(probe: ScriptedProbe) -> GalleryService:
    return GalleryService(now=NOW, link_probe=probe)


@pytest.fixture
def gallery(svc: GalleryService) -> GalleryService:
    """The service with one gallery in it (modules that need more define their own)."""
    ok(svc.request("PUT", gallery_id(), gallery_body()), 201)
    return svc

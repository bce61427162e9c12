"""Fixtures for gallery tests: a fresh service with a scripted link probe."""

from __future__ import annotations

import pytest
from gallery_builders import NOW, ScriptedProbe

from harness.gallery import GalleryService


@pytest.fixture
def probe() -> ScriptedProbe:
    return ScriptedProbe()


@pytest.fixture
def svc(probe: ScriptedProbe) -> GalleryService:
    return GalleryService(now=NOW, link_probe=probe)

"""Fixtures for the guest agent tests (helpers live in agent_guest.py: a unique module name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from agent_guest import BlobServer, Guest


@pytest.fixture(scope="session")
def blob_server() -> Iterator[BlobServer]:
    server = BlobServer()
    yield server
    server.close()


@pytest.fixture
def guest(tmp_path: Path, blob_server: BlobServer) -> Guest:
    return Guest(tmp_path, blob_server)

"""Unit tests start no VM; spawning host processes is allowed only where a test asks for it.

``conn``: a connection to libvirt's built-in test driver (no daemon, no VM), whatever a test
defined in it removed afterwards (helpers: tests/unit/machines/conftest.py)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import libvirt
import pytest

from harness import stopping
from harness.machines import libvirtd

POOL = "default-pool"  # the test driver's pool, with target path /default-pool


@pytest.fixture(autouse=True)
def _stop_signals_restored() -> Iterator[None]:
    """What a test installs for Ctrl-C/SIGTERM/SIGHUP (`vmapp run` does), and a stop it asked
    for, end with it."""
    saved = {signum: signal.getsignal(signum) for signum in stopping.SIGNALS}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)
    stopping.forget()


@pytest.fixture
def conn() -> Iterator[libvirt.virConnect]:
    connection = libvirtd.open_connection("test:///default")
    created = {d.name() for d in connection.listAllDomains()}
    volumes = set(connection.storagePoolLookupByName(POOL).listVolumes())
    yield connection
    for domain in connection.listAllDomains():
        if domain.name() not in created:
            if domain.isActive():
                domain.destroy()
            domain.undefine()
    pool = connection.storagePoolLookupByName(POOL)
    for name in set(pool.listVolumes()) - volumes:
        pool.storageVolLookupByName(name).delete(0)
    connection.close()

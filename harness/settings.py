"""Where the harness keeps things on the host, and the knobs users set by environment."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def cache_dir() -> Path:
    """Image and tool cache (XDG).  Must be readable by libvirt-qemu: not under /root."""
    explicit = os.environ.get("VMAPP_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and not xdg.startswith("/root"):
        return Path(xdg) / "vmapp-harness"
    return Path("/var/cache/vmapp-harness")


def state_dir() -> Path:
    """Per-run working folders (VM folders, Azurite data); kept VMs live here."""
    return Path(os.environ.get("VMAPP_STATE_DIR", "/var/lib/vmapp-harness"))


def reports_dir() -> Path:
    return Path(os.environ.get("VMAPP_REPORTS_DIR", str(REPO_ROOT / "reports")))

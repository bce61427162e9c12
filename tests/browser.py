"""Headless Chromium for report tests: the DOM a real browser built, and a screenshot."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


def _chromium(args: list[str]) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(["chromium", *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120, check=True)


def rendered_dom(page: Path) -> str:
    return _chromium(["--dump-dom", page.resolve().as_uri()]).stdout


def screenshot(page: Path, out: Path) -> Path:
    _chromium([f"--screenshot={out}", "--window-size=1280,900", page.resolve().as_uri()])
    return out

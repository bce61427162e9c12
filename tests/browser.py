"""Headless Chromium for report tests: the DOM a real browser built, and a screenshot."""

from __future__ import annotations

import re
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


def page_width(page: Path, *, width: int = 1280) -> int:
    """``document.documentElement.scrollWidth`` of ``page`` in a ``width`` px wide window, with
    every <details> opened (cells, their commands): what a reader scrolls sideways through.

    The page is copied with a script that opens them and writes the measure into the DOM,
    which Chromium then dumps after layout."""
    probe = page.with_name(f".{page.stem}-width.html")
    script = ("<script>document.querySelectorAll('details').forEach(d => d.open = true);"
              "document.body.dataset.scrollWidth = document.documentElement.scrollWidth;"
              "</script></body>")
    probe.write_text(page.read_text().replace("</body>", script))
    try:
        dom = _chromium([f"--window-size={width},900", "--dump-dom", probe.resolve().as_uri()])
    finally:
        probe.unlink()
    found = re.search(r'data-scroll-width="(\d+)"', dom.stdout)
    assert found, "the page did not run the measuring script"
    return int(found.group(1))


def screenshot(page: Path, out: Path) -> Path:
    _chromium([f"--screenshot={out}", "--window-size=1280,900", page.resolve().as_uri()])
    return out

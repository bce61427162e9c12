"""`make bench`: speed figures measured side by side on this machine, printed as ratios.

Nothing here asserts a time; the numbers are for people comparing changes.
1. the guest agent converging 1 app vs 5 apps (real /bin/sh, real HTTP downloads, temp root);
2. the gallery model publishing and resolving a profile without link checks vs with real link
   checks against Azurite (what the service's storage round trips cost);
3. loading and validating every scenario file (before any VM starts);
4. on real VMs (tests/bench_cells.py; skipped with --no-vm): per-cell overhead of a cold Vagrant
   cycle vs a snapshot revert, and a fixed subset's wall time serial vs parallel.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from harness.gallery import GalleryService
from harness.scenario.load import load_all
from harness.settings import REPO_ROOT
from harness.storage.azurite import Azurite
from harness.storage.blobs import BlobProbe, BlobStore, probe

sys.path.insert(0, str(REPO_ROOT / "tests" / "unit" / "agent"))
from agent_guest import AGENT, BlobServer  # a test helper, not a package

from tests.bench_cells import vm_rows

G = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def agent_apply(server: BlobServer, apps: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        goal = {"sequenceNumber": 1, "os": "linux", "options": {}, "applications": [
            {"name": f"app{i}", "version": "1.0.0", "packageReferenceId": f"{G}/x{i}",
             "packageUrl": server.put(f"app{i}", b"x" * 4096), "install": "true",
             "remove": "true"} for i in range(apps)]}
        path = Path(root) / "goal.json"
        path.write_text(json.dumps(goal))
        boot = Path(root) / "boot_id"
        boot.write_text("bench-boot\n")
        subprocess.run([sys.executable, str(AGENT), "--root", root, "--boot-id-file", str(boot),
                        "apply", str(path)], check=True, capture_output=True)


def known_blob(url: str) -> BlobProbe:
    """Baseline: the answer storage would give, without asking it."""
    return BlobProbe(url=url, status=200, size=7, blob_type="BlockBlob")


def gallery_round(link: str, with_probe: bool) -> None:
    service = GalleryService(now=datetime.now(UTC), link_probe=probe if with_probe else known_blob)
    service.put(G, {"location": "eastus", "properties": {}})
    profile = []
    for i in range(5):
        service.put(f"{G}/applications/a{i}", {"location": "eastus",
                                                "properties": {"supportedOSType": "Linux"}})
        version = f"{G}/applications/a{i}/versions/1.0.0"
        service.put(version, {"location": "eastus", "properties": {"publishingProfile": {
            "source": {"mediaLink": link},
            "manageActions": {"install": "true", "remove": "true"}}}})
        profile.append({"packageReferenceId": version, "order": i})
    service.resolve_profile(profile, region="eastus", subscription="s1", os_type="Linux")


def main() -> None:
    rows: list[tuple[str, str]] = []
    server = BlobServer()
    one, five = timed(lambda: agent_apply(server, 1)), timed(lambda: agent_apply(server, 5))
    rows += [("agent converge, 1 app", f"{one * 1000:.0f} ms"),
             ("agent converge, 5 apps", f"{five * 1000:.0f} ms  (x{five / one:.2f} of 1 app)")]
    with tempfile.TemporaryDirectory() as data, Azurite(Path(data)) as azurite:
        store = BlobStore(azurite.account_url, azurite.account, azurite.key)
        store.upload("bench", "pkg", b"package")
        link = store.sas_url("bench", "pkg")
        bare = timed(lambda: gallery_round(link, False), repeat=5)
        real = timed(lambda: gallery_round(link, True), repeat=5)
    rows += [("gallery 5 versions + profile, answers known", f"{bare * 1000:.1f} ms"),
             ("gallery 5 versions + profile, Azurite checks",
              f"{real * 1000:.1f} ms  (x{real / bare:.1f} of answers known)")]
    files = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
    load = timed(lambda: load_all(files))
    rows.append((f"load + validate {len(files)} scenario files",
                 f"{load * 1000:.0f} ms  ({load * 1000 / max(len(files), 1):.1f} ms per file)"))
    if "--no-vm" not in sys.argv:
        rows += vm_rows()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:{width}}  {value}")


if __name__ == "__main__":
    main()

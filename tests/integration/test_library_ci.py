"""The scenario library's CI subset (scenarios marked `ci`: at least one per package pattern)
on real VMs, two workers each reverting its VM per cell.  The full library is one command
away: `vmapp run scenarios/`."""

from __future__ import annotations

from harness.scenario.load import load_all
from harness.settings import REPO_ROOT
from tests.integration.conftest import RunScenarios

PATTERNS = {"pattern-tar", "pattern-debs", "pattern-deb", "pattern-zip", "pattern-script"}
WINDOWS = "windows-wine"  # at least one Windows cell on a real VM (the wine stand-in)


def ci_scenarios() -> list[str]:
    files = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
    return [str(s.file.relative_to(REPO_ROOT)) for s in load_all(files) if "ci" in s.markers]


def test_ci_subset_covers_every_package_pattern() -> None:
    files = [REPO_ROOT / f for f in ci_scenarios()]
    covered = {m for s in load_all(files) for m in s.markers if m.startswith("pattern-")}
    assert covered >= PATTERNS, f"no ci scenario for {sorted(PATTERNS - covered)}"
    assert any(WINDOWS in s.images for s in load_all(files)), "no ci scenario on windows-wine"


def test_ci_subset_passes_on_a_real_vm(run_scenarios: RunScenarios) -> None:
    """The Linux ones on debian-12 (two workers), the Windows ones on the wine stand-in."""
    files = ci_scenarios()
    windows = [f for f in files if WINDOWS in load_all([REPO_ROOT / f])[0].images]
    linux, _ = run_scenarios(*[f for f in files if f not in windows], workers=2, cpus=1)
    stand_in, _ = run_scenarios(*windows, images=[WINDOWS], workers=1)
    bad = {c.cell_id: c.message for c in [*linux.cells, *stand_in.cells]
           if c.outcome != "passed"}
    assert not bad, bad
    assert len(stand_in.cells) == len(windows) >= 1

"""The fuzzer's short run (``make fuzz`` runs >= 10,000 inputs per interface): a fixed seed,
200 inputs per interface, no traceback and no hang."""

from __future__ import annotations

import pytest

from tests.fuzz.engine import fuzz
from tests.fuzz.targets import TARGETS


@pytest.mark.parametrize("interface", sorted(TARGETS))
def test_short_fuzz_run_is_clean(interface: str) -> None:
    # 5 s rather than make fuzz's 2 s: two shared cores run the whole suite at once
    stats = fuzz(interface, 200, seed=7, slow=5.0)
    shown = "\n\n".join(f"#{f.index} {f.kind}: {f.case!r:.500}\n{f.detail}"
                        for f in stats.findings[:3])
    assert (stats.inputs, stats.tracebacks, stats.hangs) == (200, 0, 0), shown
    assert stats.refused > 20  # the mutations do reach the refusals
    assert stats.refused < 190  # and the seeds themselves are accepted: past the first field

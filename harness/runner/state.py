"""What a cell's VM has been told so far: shared by the step handlers and the fault handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.agent.client import Outcome
from harness.runner.goal import Faults
from harness.scenario.model import ProfileEntry


@dataclass
class CellState:
    profile: dict[str, ProfileEntry] = field(default_factory=dict)
    accepted: list[dict[str, Any]] = field(default_factory=list)  # last profile the service took
    versions: dict[str, str] = field(default_factory=dict)  # app -> version it resolved to
    sequence: int = 0
    outcome: Outcome | None = None
    service_error: str | None = None
    image_reference: str = ""  # the VM's imageReference.id ({image_reference} in expect steps)
    faults: Faults = field(default_factory=Faults)

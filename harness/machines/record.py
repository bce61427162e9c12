"""``machine.json`` in every machine's folder: what its backend needs to find the machine again
after the run that made it has ended (`vmapp cell rerun|recheck|destroy` on a kept machine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import InfrastructureError

RECORD = "machine.json"


class MachineGone(InfrastructureError):
    """A kept machine's folder or its record is missing or unreadable."""


def write_record(folder: Path, kind: str, provider: dict[str, Any],
                 machine: dict[str, Any]) -> None:
    """``kind`` names the backend; ``provider`` and ``machine`` are its own fields."""
    (folder / RECORD).write_text(json.dumps(
        {"kind": kind, "provider": provider, "machine": machine}, indent=2) + "\n")


def read_record(folder: Path) -> dict[str, Any]:
    if not (folder / RECORD).is_file():
        raise MachineGone(stage="find kept machine", detail=f"{folder} has no {RECORD} (kept by "
                          "a harness before 2026-12-03? vmapp gc removes it)")
    try:
        data = json.loads((folder / RECORD).read_text())
    except (OSError, ValueError) as exc:
        raise MachineGone(stage="find kept machine", detail=f"{folder / RECORD}: {exc}") from exc
    if not isinstance(data, dict) or not all(
            isinstance(data.get(key), dict) for key in ("provider", "machine")):
        raise MachineGone(stage="find kept machine", detail=f"{folder / RECORD}: not a record "
                          "of a harness machine")
    return data

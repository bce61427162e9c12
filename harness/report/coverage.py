"""The README's coverage table: each seed rule, the scenario that proves it, its last results.

Pure: scenarios and already-read runs in, Markdown out; the CLI does the reading and writing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from harness.errors import ConfigError
from harness.images.recipe import image_title
from harness.report.results import RunResult, latest_cells
from harness.scenario.model import Scenario

START = "<!-- coverage:start -->"
END = "<!-- coverage:end -->"
NOT_RUN = "—"
NOT_PLANNED = "n/a"
SHORT = {"passed": "pass", "failed": "fail", "error": "error", "skipped": "skip"}


def _any_pattern(markers: Sequence[str]) -> bool:
    return any(m.startswith("pattern-") for m in markers)


# Row groups in the order the table shows them.  A scenario joins the first group in
# CLAIMS whose test its markers pass (reboot-last is an order scenario too, but it is there
# for the reboot rule), so the table reads like the seeds: patterns first, faults near the end.
GROUPS = ("patterns", "updates", "order table", "gallery rules", "faults", "reboots", "other")
CLAIMS: tuple[tuple[str, Callable[[Sequence[str]], bool]], ...] = (
    ("patterns", _any_pattern),
    ("reboots", lambda m: "reboot" in m),
    ("faults", lambda m: "fault" in m),
    ("gallery rules", lambda m: "gallery-rule" in m),
    ("order table", lambda m: "order" in m),
    ("updates", lambda m: "update" in m),
)


def group(scenario: Scenario) -> str:
    """The table section a scenario belongs to, from its markers."""
    for name, claims in CLAIMS:
        if claims(scenario.markers):
            return name
    return "other"


def image_columns(scenarios: Sequence[Scenario]) -> list[str]:
    """Every image some scenario asks for, sorted: one results column each."""
    return sorted({image for s in scenarios for image in s.images})


def _cell_text(text: str) -> str:
    """One Markdown table cell: a single line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _scenario_link(scenario: Scenario, base: Path | None) -> str:
    if base is None:
        return f"`{scenario.name}`"
    target = Path(os.path.relpath(scenario.file, base)).as_posix()
    return f"[{scenario.name}]({target})"


def _source_line(shown: Sequence[RunResult]) -> str:
    if not shown:
        return (f"No results yet: every cell shows {NOT_RUN} (not run); {NOT_PLANNED} means the "
                "scenario does not list that image.")
    runs = ", ".join(f"`{r.run_id}` ({r.started[:10] or 'date unknown'})" for r in shown)
    noun = "run" if len(shown) == 1 else "runs"
    return (f"Results from {noun} {runs}; {NOT_RUN} = not run there, {NOT_PLANNED} = image not "
            "listed by the scenario.")


def coverage_table(scenarios: Sequence[Scenario], runs: Sequence[RunResult] = (),
                   base: Path | None = None) -> str:
    """The Markdown table (ending in a newline) and, under it, where its results came from.

    ``base`` is the folder of the document the table goes into: scenario names link to their
    files relative to it.  Without it names are plain code spans.
    """
    images = image_columns(scenarios)
    latest = latest_cells(runs)
    rows = sorted(scenarios, key=lambda s: (GROUPS.index(group(s)), s.name))
    lines = ["| " + " | ".join(["Seed rule", "Scenario", *map(image_title, images)]) + " |",
             "|" + "---|" * (2 + len(images))]
    shown: dict[str, RunResult] = {}
    for scenario in rows:
        cells = [_cell_text(scenario.rule) or "*(no rule given)*", _scenario_link(scenario, base)]
        for image in images:
            found = latest.get((scenario.name, image))
            if image not in scenario.images:  # a run may have put it there (--image): not its
                cells.append(NOT_PLANNED)
            elif found is not None:
                cell, run = found
                shown[run.run_id] = run
                cells.append(SHORT.get(cell.outcome, cell.outcome))
            else:
                cells.append(NOT_RUN)
        lines.append("| " + " | ".join(cells) + " |")
    ordered = sorted(shown.values(), key=lambda r: (r.started, r.run_id))
    return "\n".join([*lines, "", _source_line(ordered)]) + "\n"


def replace_between_markers(text: str, block: str, file: str = "") -> str:
    """``text`` with everything between the coverage markers replaced by ``block``.

    The markers stay, so the file can be regenerated again; anything outside them is untouched.
    """
    starts, ends = text.count(START), text.count(END)
    if starts != 1 or ends != 1:
        raise ConfigError(problem=f"needs exactly one {START} and one {END} line around the "
                          f"coverage table (found {starts} and {ends})", file=file)
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    if END in head:
        raise ConfigError(problem=f"{END} comes before {START}", file=file)
    body = block.rstrip("\n")
    return f"{head}{START}\n{body}\n{END}{tail}"

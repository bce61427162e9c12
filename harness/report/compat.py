"""The compatibility report per OS image: each image's versions side by side, which scenarios
pass, fail or are unsupported on each, the image's own facts, and what changed from one version
to the next (passed before, failing now, at the top).

Pure: runs already read in, a report model out (``build_compat``); ``write_compat`` writes it as
``compat.json`` (``compat.schema.json``) and ``compat.html``, both redacted.  A cell belongs to
the version its image build was given (``image_version``, from the build time), or to the build
itself (``image_key``) in results older than versions.  Several runs of one version: each
scenario shows its latest result.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from harness.images.recipe import image_title, split_image
from harness.machines.standin import PREFIX as UNSUPPORTED_PREFIX
from harness.redact import write_redacted
from harness.report.coverage import SHORT
from harness.report.html import render
from harness.report.results import CellResult, RunResult

COMPAT_VERSION = 1
STATES = ("pass", "fail", "error", "skip", "unsupported")
NO_BUILD = ""  # the version id of cells that never had a machine of a known build
# How a scenario moved between two versions, in the order the report lists them.
KINDS = ("regression", "worse", "better", "changed")
FAILING = ("fail", "error")
FACT_ORDER = ("os", "kernel", "systemd", "dpkg", "python", "wine", "package_count",
              "package_digest")  # how the page lists facts; others follow, sorted
VERSION_DIGITS = 18  # a longer part of a version (from a results file) is no number here


def state_of(cell: CellResult) -> str:
    """pass, fail, error, skip, or unsupported (the wine stand-in refused to run a command
    it cannot run faithfully: the cell proves nothing either way)."""
    if cell.outcome == "skipped" and cell.message.startswith(UNSUPPORTED_PREFIX):
        return "unsupported"
    return SHORT[cell.outcome]


@dataclass(frozen=True)
class Source:
    """A run, and the folder of its report (for links to each cell's details; None: none)."""

    run: RunResult
    folder: Path | None = None


@dataclass
class CompatCell:
    state: str
    outcome: str
    message: str  # first line of why it did not pass
    run_id: str
    cell: str  # SCENARIO[IMAGE], the cell's id in its run
    link: str = ""  # to the cell's details in its run's index.html, from the report's folder


@dataclass
class ImageVersion:
    id: str  # the version, else the build's key; NO_BUILD for cells no build is known of
    version: str
    key: str
    first_seen: str  # start of the earliest run with a cell of it
    runs: list[str] = field(default_factory=list)
    facts: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How the page names it: its version, else its build's key, else no build."""
        return self.version or (f"build {self.id[:12]}" if self.id != NO_BUILD else
                                "no known build")

    def order(self) -> tuple[int, tuple[int, ...], str, str]:
        """Build order: versions are made from build times, so they sort by their numbers;
        builds without a version (older results) come before them, as their runs first saw
        them; cells of no known build come first."""
        numbers = tuple(int(p) for p in self.version.split(".")
                        if p.isascii() and p.isdigit() and len(p) <= VERSION_DIGITS)
        rank = 2 if self.version else 1 if self.id != NO_BUILD else 0
        return rank, numbers, self.first_seen, self.id


@dataclass
class Change:
    scenario: str
    before_version: str
    after_version: str
    before: str
    after: str
    kind: str  # see KINDS


@dataclass
class FactChange:
    before_version: str
    after_version: str
    name: str
    before: str  # "" when the fact was absent
    after: str


@dataclass
class ImageCompat:
    image: str
    title: str
    versions: list[ImageVersion]
    scenarios: list[str]
    cells: dict[str, dict[str, CompatCell]]  # scenario -> version id -> cell
    changes: list[Change]
    fact_changes: list[FactChange]

    def label(self, vid: str) -> str:
        return next(v.label for v in self.versions if v.id == vid)

    def differs(self, scenario: str, vid: str) -> bool:
        """Whether ``scenario`` on version ``vid`` ended otherwise than on the version before."""
        return any(c.scenario == scenario and c.after_version == vid for c in self.changes)


@dataclass
class CompatReport:
    runs: list[str]
    images: list[ImageCompat]

    def to_json(self) -> dict[str, Any]:
        return {"compatVersion": COMPAT_VERSION, **asdict(self)}


def change_kind(before: str, after: str) -> str:
    if after in FAILING:
        return "regression" if before == "pass" else "worse"
    if before == "pass":
        return "worse"
    return "better" if after == "pass" else "changed"


def _link(source: Source, cell: CellResult, out: Path | None) -> str:
    if source.folder is None or out is None:
        return ""
    return f"{os.path.relpath(source.folder / 'index.html', out)}#{cell.cell_id}"


def _version(cell: CellResult) -> str:
    """The cell's image version (results written before versions have none)."""
    return cell.image_version


def build_compat(sources: Sequence[Source], out: Path | None = None) -> CompatReport:
    """The report of ``sources`` (links to cell details made relative to ``out``)."""
    ordered = sorted(sources, key=lambda s: (s.run.started, s.run.run_id))
    versions: dict[tuple[str, str], ImageVersion] = {}
    cells: dict[tuple[str, str], dict[str, CompatCell]] = {}
    facts: dict[tuple[str, str], list[tuple[bool, int, dict[str, str]]]] = {}
    for index, source in enumerate(ordered):
        run = source.run
        builds: dict[str, set[str]] = {}
        for cell in run.cells:
            image = split_image(cell.image)[0]  # NAME@VERSION: a version of NAME's
            vid = _version(cell) or cell.image_key
            if not vid:
                continue
            builds.setdefault(image, set()).add(vid)
            versions.setdefault((image, vid), ImageVersion(
                id=vid, version=_version(cell), key=cell.image_key, first_seen=run.started))
            if cell.image_facts:  # a kept VM's facts are the engineer's machine: last choice
                facts.setdefault((image, vid), []).append(
                    (cell.machine == "kept", -index, cell.image_facts))
        for cell in run.cells:
            # A cell that needed no machine ran beside this run's build of its image (or the
            # version its image column names).
            image, asked = split_image(cell.image)
            vid = (_version(cell) or cell.image_key or asked
                   or _only(builds.get(image, set())))
            version = versions.setdefault((image, vid), ImageVersion(
                id=vid, version="", key="", first_seen=run.started))
            if run.run_id not in version.runs:
                version.runs.append(run.run_id)
            cells.setdefault((image, vid), {})[cell.scenario] = CompatCell(
                state=state_of(cell), outcome=cell.outcome,
                message=(cell.message.splitlines() or [""])[0][:300], run_id=run.run_id,
                cell=cell.cell_id, link=_link(source, cell, out))
    for where, found in facts.items():
        versions[where].facts = dict(min(found, key=lambda f: f[:2])[2])
    images = sorted({image for image, _ in versions})
    return CompatReport(runs=[s.run.run_id for s in ordered],
                        images=[_image(image, versions, cells) for image in images])


def _only(builds: set[str]) -> str:
    return next(iter(builds)) if len(builds) == 1 else NO_BUILD


def _image(image: str, versions: dict[tuple[str, str], ImageVersion],
           cells: dict[tuple[str, str], dict[str, CompatCell]]) -> ImageCompat:
    mine = sorted((v for (i, _), v in versions.items() if i == image), key=ImageVersion.order)
    grid: dict[str, dict[str, CompatCell]] = {}
    for version in mine:
        for scenario, cell in cells[(image, version.id)].items():
            grid.setdefault(scenario, {})[version.id] = cell
        states = [c.state for c in cells[(image, version.id)].values()]
        version.counts = {state: states.count(state) for state in STATES}
    built = [v for v in mine if v.id != NO_BUILD]
    changes: list[tuple[int, int, Change]] = []
    fact_changes: list[FactChange] = []
    for step, (before, after) in enumerate(pairwise(built)):
        for scenario, row in grid.items():
            old, new = row.get(before.id), row.get(after.id)
            if old is not None and new is not None and old.state != new.state:
                kind = change_kind(old.state, new.state)
                changes.append((KINDS.index(kind), -step, Change(
                    scenario, before.id, after.id, old.state, new.state, kind)))
        if before.facts and after.facts:
            fact_changes += [FactChange(before.id, after.id, name, before.facts.get(name, ""),
                                        after.facts.get(name, ""))
                             for name in sorted(before.facts.keys() | after.facts.keys())
                             if before.facts.get(name) != after.facts.get(name)]
    changes.sort(key=lambda c: (c[0], c[1], c[2].scenario))
    return ImageCompat(image=image, title=image_title(image), versions=mine,
                       scenarios=sorted(grid), cells=grid, changes=[c for *_, c in changes],
                       fact_changes=fact_changes)


def fact_names(report: CompatReport) -> list[str]:
    """Every fact any version has: the usual ones in a fixed order, then the rest sorted."""
    found = {name for image in report.images for v in image.versions for name in v.facts}
    return [n for n in FACT_ORDER if n in found] + sorted(found - set(FACT_ORDER))


def write_compat(report: CompatReport, folder: Path) -> tuple[Path, Path]:
    """``compat.json`` and ``compat.html`` in ``folder``, secrets redacted."""
    data = write_redacted(folder / "compat.json", json.dumps(report.to_json(), indent=2))
    page = write_redacted(folder / "compat.html", render(
        "compat.html.j2", report=report, facts=fact_names(report), states=STATES))
    return data, page

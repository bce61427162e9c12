"""Where the user points: a RUN (a run folder from where they stand, or a run id in the reports
folder) and a CELL of one (`SCENARIO[IMAGE]` of latest, `RUN/SCENARIO[IMAGE]`, or a cell's own
folder in a report).  Errors say what there is instead, the kept cells first."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError, ConfigErrors
from harness.report.results import CellResult, RunResult, read_results
from harness.settings import reports_dir

CELL_FORMS = ("a cell is SCENARIO[IMAGE] of the latest run, RUN/SCENARIO[IMAGE] with RUN a run "
              "id or folder, or a cell's folder in a report")


def run_folder(run: str, field: str = "run") -> Path:
    """A run's report folder: ``run`` as a path from where the user stands, else as a run id
    (or folder) in the reports folder."""
    places = list(dict.fromkeys([Path(run), reports_dir() / run]))
    for folder in places:
        if (folder / "results.json").is_file():
            return folder.resolve()
    raise ConfigError(problem="no results.json in " + " or ".join(str(p) for p in places),
                      field=field)


def kept_hint(run: str, results: RunResult | None = None) -> str:
    """Which cells of ``run`` have a kept VM, as a hint to append to an error; nothing when
    the run cannot be read."""
    if results is None:
        try:
            results = read_results(run_folder(run) / "results.json")
        except (ConfigError, ConfigErrors):
            return ""
    kept = [f"{run}/{c.cell_id}" for c in results.cells if c.kept]
    return f"; kept in {run}: {', '.join(kept)}" if kept else f"; no VM was kept in {run}"


@dataclass(frozen=True)
class FoundCell:
    run: str  # the run as the user named it (latest, an id, a folder)
    folder: Path  # the run's report folder
    results: RunResult
    cell: CellResult

    @property
    def name(self) -> str:
        return f"{self.run}/{self.cell.cell_id}"


def find_cell(text: str) -> FoundCell:
    """The cell ``text`` names, kept or not."""
    given = Path(text)
    if given.is_dir() and given.resolve().parent.name == "cells":
        return _cell_of_folder(given.resolve())
    run, _, cell_id = text.rpartition("/")
    run = run or "latest"
    try:
        folder = run_folder(run, field="cell")
    except ConfigError as exc:
        raise ConfigError(problem=f"{exc.problem} ({CELL_FORMS})", field="cell") from None
    results = read_results(folder / "results.json")
    for cell in results.cells:
        if cell.cell_id == cell_id:
            return FoundCell(run, folder, results, cell)
    known = ", ".join(c.cell_id for c in results.cells) or "none"
    raise ConfigError(problem=f"no cell {cell_id!r} in run {run} (cells: {known})"
                      f"{kept_hint(run, results)}", field="cell")


def _cell_of_folder(cell_dir: Path) -> FoundCell:
    folder = cell_dir.parent.parent
    run = str(folder)
    if not (folder / "results.json").is_file():
        raise ConfigError(problem=f"{cell_dir} is in no run folder (no {folder / 'results.json'})",
                          field="cell")
    results = read_results(folder / "results.json")
    for cell in results.cells:
        if cell.artifacts and (folder / cell.artifacts).resolve() == cell_dir:
            return FoundCell(run, folder, results, cell)
    raise ConfigError(problem=f"no cell of run {results.run_id} has its files in {cell_dir}"
                      f"{kept_hint(run, results)}", field="cell")


def kept_cell(text: str) -> FoundCell:
    """The cell ``text`` names, which must have a kept VM."""
    found = find_cell(text)
    if not found.cell.kept:
        why = f"has no kept VM ({found.cell.note})" if found.cell.note else \
            "was not kept (run with --keep on-failure or --keep always)"
        raise ConfigError(problem=f"{found.cell.cell_id} {why}"
                          f"{kept_hint(found.run, found.results)}", field="cell")
    return found

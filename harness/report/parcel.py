"""A finished cell and its artifact folder as one message.

A pytest-xdist worker hands each cell to the controller this way, over xdist's own channel
(execnet), the moment the cell is done: a worker on another host shares no folder with the
controller, and a worker that dies later has already delivered what it finished.  Local
workers (``-n N``) use the same path, so there is one mechanism to trust.

The message is a plain dict of int, str and bytes (what execnet carries as is): the cell as a
one-cell results document (checked against the results schema on arrival, as a results file
is) and its folder as a tar.gz, both redacted as every report file is.
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
import zlib
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from harness.errors import ConfigError, HarnessError
from harness.redact import redact_text
from harness.report.results import CellResult, RunResult, results_from_text, results_text

PARCEL_VERSION = 1
_FIELDS: dict[str, type] = {"parcel": int, "results": str, "files": bytes}
_CELL_FOLDER = re.compile(r"cells/[a-z0-9-]+")  # RunContext.cell_dir: cells/<slug>


def pack_cell(run: RunResult, cell: CellResult, report_dir: Path) -> dict[str, Any]:
    """``cell``, with ``run``'s run-wide facts (acceleration, host), and its folder under
    ``report_dir`` (the text files in it were redacted when they were written)."""
    files = io.BytesIO()
    with tarfile.open(fileobj=files, mode="w:gz") as tar:
        if cell.artifacts and (report_dir / cell.artifacts).is_dir():
            tar.add(report_dir / cell.artifacts, arcname=cell.artifacts)
    return {"parcel": PARCEL_VERSION,
            "results": redact_text(results_text(replace(run, cells=[cell]))),
            "files": files.getvalue()}


def unpack_cell(parcel: object, report_dir: Path, source: str) -> tuple[RunResult, CellResult]:
    """The run facts and the cell a worker sent, its folder unpacked under ``report_dir``
    (replacing one of that name).  Anything else (another version, results that fail the
    schema, links, devices or files outside the cell's own ``cells/<cell>`` folder) is a
    ConfigError naming ``source``, and nothing is written."""
    if not isinstance(parcel, dict) or parcel.get("parcel") != PARCEL_VERSION:
        raise ConfigError(problem=f"not a cell parcel of version {PARCEL_VERSION} (do the "
                          "controller and the worker run the same harness?)", file=source)
    for name, kind in _FIELDS.items():
        if not isinstance(parcel.get(name), kind):
            raise ConfigError(problem=f"must be {kind.__name__}", file=source, field=name)
    run = results_from_text(parcel["results"], source)
    if len(run.cells) != 1:
        raise ConfigError(problem=f"a parcel holds one cell, not {len(run.cells)}",
                          file=source, field="cells")
    cell = run.cells[0]
    if cell.artifacts and not _CELL_FOLDER.fullmatch(cell.artifacts):
        raise ConfigError(problem=f"{cell.artifacts!r} is not a cell folder (cells/<cell>)",
                          file=source, field="artifacts")
    _unpack(parcel["files"], report_dir, cell.artifacts, source)
    return run, cell


def receive_cell(parcel: object, report_dir: Path, item: str,
                 source: str) -> tuple[RunResult | None, CellResult]:
    """What the controller records for the parcel of item ``item`` (``scenario[image]``): the
    run facts and the cell, or, when it cannot be read, no facts and an *error* cell that
    says why (a worker's cell is never lost without a word)."""
    try:
        return unpack_cell(parcel, report_dir, source)
    except HarnessError as exc:
        scenario, _, image = item.partition("[")
        return None, CellResult(scenario=scenario, image=image.removesuffix("]"),
                                outcome="error",
                                message=f"the worker's cell could not be read: {exc}")


def _unpack(files: bytes, report_dir: Path, folder: str, source: str) -> None:
    try:
        with tarfile.open(fileobj=io.BytesIO(files), mode="r:gz") as tar:
            members = tar.getmembers()
            odd = [m.name for m in members
                   if not (m.isfile() or m.isdir()) or not _inside(m.name, folder)]
            if odd:
                raise ConfigError(problem="not plain files in the cell's folder: "
                                  + ", ".join(sorted(odd)[:5]), file=source, field="files")
            if folder:
                shutil.rmtree(report_dir / folder, ignore_errors=True)
            tar.extractall(report_dir, filter="data")
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise ConfigError(problem=f"cannot unpack the cell's files: {exc}", file=source,
                          field="files") from exc


def _inside(name: str, folder: str) -> bool:
    path = PurePosixPath(name)
    return bool(folder) and ".." not in path.parts and not path.is_absolute() and (
        path == PurePosixPath(folder) or PurePosixPath(folder) in path.parents)

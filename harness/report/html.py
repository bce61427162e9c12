"""Static HTML reports: a scenario x image matrix, each cell opening to its steps and outputs
(index.html); the compatibility report per image version (compat.html, harness/report/compat.py).
Every value is escaped: scenario texts, outputs and results files are user input."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from harness.images.recipe import image_title
from harness.redact import write_redacted
from harness.report.results import STAGES, CellResult, RunResult

TEMPLATES = Path(__file__).with_name("templates")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                              autoescape=True, undefined=jinja2.StrictUndefined)


def render(template: str, **context: Any) -> str:
    """``template`` (in templates/) filled in, every value HTML-escaped."""
    return _environment().get_template(template).render(**context)


def write_html(run: RunResult, path: Path) -> Path:
    scenarios = list(dict.fromkeys(c.scenario for c in run.cells))
    images = list(dict.fromkeys(c.image for c in run.cells))
    grid: dict[tuple[str, str], CellResult] = {(c.scenario, c.image): c for c in run.cells}
    descriptions = {c.scenario: c.description for c in run.cells}
    return write_redacted(path, render(
        "report.html.j2", run=run, scenarios=scenarios, images=images, grid=grid,
        counts=run.counts(), titles={image: image_title(image) for image in images},
        descriptions=descriptions, folder=path.parent, stages=STAGES))

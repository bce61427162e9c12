"""Static HTML report: a scenario x image matrix, each cell opening to its steps and outputs."""

from __future__ import annotations

from pathlib import Path

import jinja2

from harness.images.recipe import image_title
from harness.redact import write_redacted
from harness.report.results import STAGES, CellResult, RunResult

TEMPLATES = Path(__file__).with_name("templates")


def write_html(run: RunResult, path: Path) -> Path:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    scenarios = list(dict.fromkeys(c.scenario for c in run.cells))
    images = list(dict.fromkeys(c.image for c in run.cells))
    grid: dict[tuple[str, str], CellResult] = {(c.scenario, c.image): c for c in run.cells}
    descriptions = {c.scenario: c.description for c in run.cells}
    return write_redacted(path, env.get_template("report.html.j2").render(
        run=run, scenarios=scenarios, images=images, grid=grid, counts=run.counts(),
        titles={image: image_title(image) for image in images},
        descriptions=descriptions, folder=path.parent, stages=STAGES))

"""The README's coverage table: every library scenario names its seed rule, outcomes land in the
right image column, `vmapp coverage --write` touches only the marked block, and the README's
table lists exactly the scenarios in scenarios/."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness import cli, proc
from harness.errors import ConfigError, ConfigErrors
from harness.report.coverage import END, START, coverage_table, replace_between_markers
from harness.report.results import CellResult, RunResult
from harness.scenario.load import load_all, load_scenario
from harness.scenario.model import Scenario
from harness.settings import REPO_ROOT

LIBRARY = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
README = REPO_ROOT / "README.md"


@pytest.fixture(autouse=True)
def no_spawn(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading scenarios and writing tables never starts a process."""
    monkeypatch.setattr(proc, "ALLOW_SPAWN", False)


def scenario(name: str, images: tuple[str, ...] = ("debian-12", "debian-13"),
             markers: tuple[str, ...] = (), rule: str = "a rule") -> Scenario:
    return Scenario(name=name, file=Path(f"/lib/{name}.yaml"), description="d", images=images,
                    location="eastus", vm_location="eastus", apps={}, steps=(),
                    markers=markers, rule=rule)


def split_row(line: str) -> list[str]:
    """The cells of one Markdown table row (``\\|`` is a pipe inside a cell)."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and body rows of the one table in ``text``."""
    rows = [split_row(line) for line in text.splitlines() if line.startswith("|")]
    assert len(rows) >= 2 and set(rows[1]) == {"---"}, text
    return rows[0], rows[2:]


def outcomes(text: str) -> dict[str, dict[str, str]]:
    """scenario name -> image -> cell text."""
    header, rows = table(text)
    assert header[:2] == ["Seed rule", "Scenario"]
    found = {}
    for row in rows:
        name = re.fullmatch(r"\[([^\]]+)\]\(.*\)|`([^`]+)`", row[1])
        assert name, row
        found[name.group(1) or name.group(2)] = dict(zip(header[2:], row[2:], strict=True))
    return found


def readme_block_of(text: str) -> str:
    """What lies between the coverage markers."""
    assert text.count(START) == 1 and text.count(END) == 1, "coverage markers missing"
    return text.split(START, 1)[1].split(END, 1)[0]


def readme_block() -> str:
    return readme_block_of(README.read_text())


def cell_json(name: str, image: str, outcome: str) -> dict[str, Any]:
    return {"scenario": name, "image": image, "outcome": outcome, "steps": [], "retries": []}


def results_file(folder: Path, run_id: str, started: str,
                 cells: list[dict[str, Any]]) -> Path:
    """A results.json written by hand, in the shape harness/report/results.py writes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    path.write_text(json.dumps({"schemaVersion": 1, "run_id": run_id, "started": started,
                                "cells": cells}))
    return path


def write_scenario(folder: Path, name: str, images: str = "[debian-12, debian-13]") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"description: d\nrule: the {name} rule\nimages: {images}\n"
                    "gallery:\n  applications:\n    app:\n      versions:\n        1.0.0:\n"
                    "          package: {content: x}\n          install: 'true'\n"
                    "          remove: 'true'\nsteps:\n  - deploy: [{app: app, version: 1.0.0}]\n")
    return path


# --- the rule key -------------------------------------------------------------------------------

def test_the_library_is_there() -> None:
    assert len(LIBRARY) >= 28


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_every_library_scenario_names_its_seed_rule(path: Path) -> None:
    rule = load_scenario(path).rule
    assert rule.strip(), f"{path.name}: add `rule:` (the seed rule it proves) after description"
    assert len(rule) <= 300, f"{path.name}: the rule should be one short sentence"


def test_rule_is_optional_and_folded_to_one_line(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "plain")
    path.write_text(path.read_text().replace("rule: the plain rule\n",
                                             "rule: |\n  first line\n    second  line\n"))
    assert load_scenario(path).rule == "first line second line"
    path.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                            if not line.startswith(("rule:", "  first", "    second"))))
    assert load_scenario(path).rule == ""


def test_rule_must_be_text(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "listy")
    path.write_text(path.read_text().replace("rule: the listy rule", "rule: [a, b]"))
    with pytest.raises(ConfigErrors, match=r"listy.yaml:2 rule: must be a string"):
        load_all([path])


# --- the table ----------------------------------------------------------------------------------

def test_outcomes_land_in_their_image_columns() -> None:
    scenarios = [scenario("alpha"), scenario("beta"), scenario("gamma", images=("debian-12",))]
    run = RunResult(run_id="20260101-120000-abcd", started="2026-01-01T12:00:00Z", cells=[
        CellResult("alpha", "debian-12", "passed"), CellResult("alpha", "debian-13", "failed"),
        CellResult("beta", "debian-13", "error"), CellResult("gamma", "debian-12", "skipped"),
        CellResult("gamma", "debian-13", "skipped"),  # put there by --image: not its column
        CellResult("not-in-library", "debian-12", "failed")])
    text = coverage_table(scenarios, [run])
    assert outcomes(text) == {
        "alpha": {"debian-12": "pass", "debian-13": "fail"},
        "beta": {"debian-12": "—", "debian-13": "error"},
        "gamma": {"debian-12": "skip", "debian-13": "n/a"}}
    assert "`20260101-120000-abcd` (2026-01-01)" in text.splitlines()[-1]


def test_a_later_run_overrides_only_the_cells_it_ran() -> None:
    old = RunResult(run_id="r-old", started="2026-01-01T00:00:00Z", cells=[
        CellResult("alpha", "debian-12", "failed"), CellResult("alpha", "debian-13", "failed")])
    new = RunResult(run_id="r-new", started="2026-02-01T00:00:00Z", cells=[
        CellResult("alpha", "debian-12", "passed")])
    text = coverage_table([scenario("alpha")], [new, old])  # given out of order on purpose
    assert outcomes(text) == {"alpha": {"debian-12": "pass", "debian-13": "fail"}}
    assert text.splitlines()[-1].index("r-old") < text.splitlines()[-1].index("r-new")


def test_without_results_every_cell_is_not_run_and_rules_are_escaped() -> None:
    text = coverage_table([scenario("alpha", rule="use `a || b`\nwhen\tneeded")])
    header, rows = table(text)
    assert header == ["Seed rule", "Scenario", "debian-12", "debian-13"]
    assert rows == [["use `a \\|\\| b` when needed", "`alpha`", "—", "—"]]
    assert text.splitlines()[-1].startswith("No results yet")


def test_rows_follow_the_seed_groups_then_names() -> None:
    scenarios = [scenario("z-reboot", markers=("reboot", "order")),
                 scenario("b-fault", markers=("fault",)),
                 scenario("a-gallery", markers=("gallery-rule", "failure")),
                 scenario("y-order", markers=("order",)), scenario("x-order", markers=("order",)),
                 scenario("w-tar", markers=("pattern-tar", "update")),
                 scenario("v-update", markers=("update",)), scenario("u-other")]
    assert list(outcomes(coverage_table(scenarios))) == [
        "w-tar", "v-update", "x-order", "y-order", "a-gallery", "b-fault", "z-reboot", "u-other"]


def test_scenarios_link_relative_to_the_document(tmp_path: Path) -> None:
    item = dataclasses.replace(scenario("alpha"), file=tmp_path / "scenarios" / "alpha.yaml")
    _, rows = table(coverage_table([item], base=tmp_path))
    assert rows[0][1] == "[alpha](scenarios/alpha.yaml)"


# --- writing between the markers ----------------------------------------------------------------

def test_replace_between_markers_keeps_everything_else() -> None:
    text = f"# Title\n\nintro\n\n{START}\nold table\n{END}\n\n## Next\nrest\n"
    new = replace_between_markers(text, "| new |\n")
    assert new == f"# Title\n\nintro\n\n{START}\n| new |\n{END}\n\n## Next\nrest\n"
    assert replace_between_markers(new, "| new |\n") == new


@pytest.mark.parametrize("text", ["no markers\n", f"{START}\nonly a start\n",
                                  f"{END}\n{START}\n", f"{START}\n{END}\n{START}\n{END}\n"])
def test_replace_between_markers_refuses_without_one_pair(text: str) -> None:
    with pytest.raises(ConfigError, match="coverage"):
        replace_between_markers(text, "| t |\n", file="README.md")


def test_cli_write_replaces_only_the_marked_block(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    write_scenario(library, "alpha")
    write_scenario(library, "beta", images="[debian-12]")
    results = results_file(tmp_path / "reports" / "r1", "r1", "2026-03-04T05:06:07Z", [
        cell_json("alpha", "debian-12", "passed"), cell_json("alpha", "debian-13", "failed"),
        cell_json("beta", "debian-12", "error")])
    head, tail = "# Project\n\nSome text.\n\n", "\n\n## Layout\n\nMore text.\n"
    readme = tmp_path / "README.md"
    readme.write_text(f"{head}{START}\nstale | table\n{END}{tail}")

    assert cli.main(["coverage", str(library), "--results", str(results),
                     "--write", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith(f"{head}{START}\n") and text.endswith(f"\n{END}{tail}")
    assert "stale" not in text
    assert outcomes(readme_block_of(text)) == {
        "alpha": {"debian-12": "pass", "debian-13": "fail"},
        "beta": {"debian-12": "error", "debian-13": "n/a"}}
    assert "[alpha](lib/alpha.yaml)" in text
    assert "`r1` (2026-03-04)" in text
    assert "README.md: coverage table of 2 scenario(s)" in capsys.readouterr().out


def test_cli_write_without_markers_fails_and_leaves_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_scenario(tmp_path, "alpha")
    readme = tmp_path / "README.md"
    readme.write_text("# No markers here\n")
    assert cli.main(["coverage", str(tmp_path / "alpha.yaml"), "--write", str(readme)]) == 2
    assert readme.read_text() == "# No markers here\n"
    assert START in capsys.readouterr().err


def test_cli_prints_latest_results_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_scenario(tmp_path, "alpha")
    reports = tmp_path / "reports"
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(reports))
    assert cli.main(["coverage", str(tmp_path / "alpha.yaml")]) == 0
    assert outcomes(capsys.readouterr().out) == {"alpha": {"debian-12": "—", "debian-13": "—"}}
    results_file(reports / "r2", "r2", "2026-05-06T00:00:00Z",
                 [cell_json("alpha", "debian-13", "skipped")])
    (reports / "latest").symlink_to("r2")
    assert cli.main(["coverage", str(tmp_path / "alpha.yaml")]) == 0
    assert outcomes(capsys.readouterr().out) == {"alpha": {"debian-12": "—", "debian-13": "skip"}}


def test_cli_reports_unreadable_results(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    write_scenario(tmp_path, "alpha")
    bad = tmp_path / "results.json"
    bad.write_text('{"schemaVersion": 99}')
    assert cli.main(["coverage", str(tmp_path / "alpha.yaml"), "--results", str(bad)]) == 2
    assert "cannot read results" in capsys.readouterr().err


# --- the README ---------------------------------------------------------------------------------

def test_readme_table_lists_exactly_the_library_scenarios() -> None:
    listed = sorted(outcomes(readme_block()))
    assert listed == sorted(p.stem for p in LIBRARY), (
        "README coverage table is out of date: run `vmapp coverage --write README.md`")


def test_readme_rules_and_order_match_the_scenario_files() -> None:
    """Results may be anything; the rule and scenario columns must be what the files say."""
    fresh = coverage_table(load_all(LIBRARY), base=README.parent)
    _, readme_rows = table(readme_block())
    _, fresh_rows = table(fresh)
    assert [row[:2] for row in readme_rows] == [row[:2] for row in fresh_rows], (
        "README coverage table is out of date: run `vmapp coverage --write README.md`")

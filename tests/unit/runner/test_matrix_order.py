"""The run's cells go image by image, so a run cut short leaves whole matrix columns."""

from __future__ import annotations

from pathlib import Path

from harness.runner.selection import matrix
from harness.scenario.model import Scenario


def scenario(name: str, *images: str) -> Scenario:
    return Scenario(name=name, file=Path(f"{name}.yaml"), description=name, images=images,
                    location="westus", vm_location="westus", apps={}, steps=())


def test_cells_go_image_by_image_keeping_scenario_order() -> None:
    cells = matrix([scenario("b", "debian-12", "debian-13"), scenario("a", "debian-13"),
                    scenario("c", "debian-12", "debian-13")], None)
    assert [(s.name, image) for s, image in cells] == [
        ("b", "debian-12"), ("c", "debian-12"), ("b", "debian-13"), ("a", "debian-13"),
        ("c", "debian-13")]


def test_images_given_on_the_command_line_replace_the_scenarios_own() -> None:
    cells = matrix([scenario("b", "debian-12"), scenario("a", "debian-12")],
                   ["debian-13", "debian-12"])
    assert [(s.name, image) for s, image in cells] == [
        ("b", "debian-13"), ("a", "debian-13"), ("b", "debian-12"), ("a", "debian-12")]

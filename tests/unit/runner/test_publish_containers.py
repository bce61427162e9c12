"""Each cell publishes into a container of its own: one scenario runs on two images at once
(two workers), and a blob-missing fault in one cell deleted the blob the other was about to
download."""

from __future__ import annotations

from harness.gallery.names import container_problem
from harness.runner.publish import container_name


def test_one_scenario_on_two_images_publishes_into_two_valid_containers() -> None:
    names = {container_name(f"fault-blob-missing[{image}]", "20261203-083402-5747")
             for image in ("debian-11", "debian-12", "debian-13", "debian-testing")}
    assert len(names) == 4
    assert all(container_problem(name) is None for name in names)


def test_a_long_cell_id_still_makes_a_valid_name_unique_to_the_run() -> None:
    cell = "treat-failure-as-deployment-failure-with-a-much-longer-name[debian-testing]"
    first, second = container_name(cell, "run-1"), container_name(cell, "run-2")
    assert first != second
    assert container_problem(first) is None and container_problem(second) is None


def test_a_cell_id_cut_at_a_hyphen_makes_no_double_hyphen() -> None:
    # the first 40 characters of this id end in "-": Azure (and Azurite) refuse "--"
    name = container_name("win-treat-failure-as-deployment-failure[windows-wine]", "run-1")
    assert container_problem(name) is None

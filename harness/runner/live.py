"""A cell while it runs: what every step and fault handler gets.  Below the handlers and above
nothing they import, so cell.py, steps.py and faults.py do not import each other."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.agent.client import AgentClient
from harness.errors import HarnessError
from harness.images.build import version_of
from harness.images.recipe import find_recipe, image_title, split_image
from harness.ports import Channel, Machine
from harness.report.results import CellResult
from harness.runner.context import RunContext
from harness.runner.goal import CellGallery
from harness.runner.pool import Lease, MachinePool
from harness.runner.publish import Published
from harness.runner.vmimage import Placed
from harness.scenario.model import Scenario


class NoVm(HarnessError):
    """A step needs the VM, and the service refused to create it (its image reference): the
    step fails with the service's answer."""


@contextmanager
def timed(result: CellResult, stage: str) -> Iterator[None]:
    """Add the time spent in ``stage`` to the cell's timings, whether it succeeds or not."""
    started = time.monotonic()
    try:
        yield
    finally:
        spent = result.timings.get(stage, 0.0) + time.monotonic() - started
        result.timings[stage] = round(spent, 1)


@dataclass
class LiveCell:
    """Everything a step handler needs.  The machine is checked out on first use: a scenario
    whose every profile the service refuses never needs one."""

    ctx: RunContext
    pool: MachinePool
    scenario: Scenario
    image: str
    published: Published
    gallery: CellGallery
    result: CellResult
    cell_dir: Path
    apply_timeout: float = 1800
    uploads: int = 0
    lease: Lease | None = None
    placed: Placed | None = None  # the VM's create in the gallery (None: it named no image)

    @property
    def recipe(self) -> str:
        """The cell's image without a ``@VERSION``: the recipe (the image definition)."""
        return split_image(self.image)[0]

    def build(self) -> str | None:
        """The cache key of the build the gallery resolved the VM's image to; None for the
        recipe's current build (one pool slot, one warm copy, whichever way it was asked)."""
        if self.placed is None or self.placed.image is None:
            return None
        key = self.placed.image.build.key
        return None if key == find_recipe(self.recipe).key else key

    def checked_out(self) -> Lease:
        if self.lease is None:
            if self.placed is not None and self.placed.refused is not None:
                raise NoVm(f"no VM: the service refused to create it: {self.placed.refused}")
            build = self.build()
            how = "reverting" if self.pool.has_idle(self.recipe, build) else "booting"
            self.ctx.say(f"{how} a {image_title(self.image)} machine ({self.ctx.accel})")
            self.take(self.pool.acquire(
                self.recipe, timer=lambda stage: timed(self.result, stage),
                console=self.cell_dir / "console.log", label=self.ctx.slug(self.scenario.name),
                ready_seconds=self.scenario.ready_seconds, build=build))
        assert self.lease is not None
        return self.lease

    def take(self, lease: Lease) -> None:
        """Run on ``lease`` (checked out of the pool, or a kept machine adopted)."""
        self.lease = lease
        self.result.vm, self.result.machine = lease.machine.name, lease.how
        self.result.image_key = lease.machine.image_key
        self.result.image_facts = dict(lease.facts)
        if not self.result.image_version:  # a cell that named no image version: its build's
            self.result.image_version = version_of(self.image, lease.machine.image_key)
        self.result.agent_version = lease.agent_version
        self.reopen(lease.agent.channel)

    @property
    def machine(self) -> Machine:
        return self.checked_out().machine

    @property
    def agent(self) -> AgentClient:
        """The agent in a clean, ready machine (checked out now if needed)."""
        return self.checked_out().agent

    @property
    def ready_timeout(self) -> float:
        return self.machine.ready_seconds

    def next_upload(self) -> int:
        self.uploads += 1
        return self.uploads

    def reopen(self, channel: Channel) -> None:
        """After a (re)connect: the guest reaches package storage again."""
        channel.forward_to_host(self.ctx.storage_port)

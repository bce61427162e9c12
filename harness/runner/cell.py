"""One scenario on one image, in a fresh VM: boot, publish, run the steps, collect, clean up.

Infrastructure errors (image build, boot, SSH) make the cell an *error* and are retried once in a
fresh VM; unmet expectations make it a *failure* and are never retried.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from harness.agent.client import AgentClient
from harness.errors import CleanupErrors, HarnessError, InfrastructureError
from harness.images.build import ensure_image
from harness.images.recipe import find_recipe
from harness.machines.vagrant import VagrantMachine, create_machine
from harness.ports import Channel
from harness.report.results import Attempt, CellResult, StepRecord
from harness.runner.context import RunContext
from harness.runner.goal import CellGallery
from harness.runner.publish import Published, publish
from harness.runner.state import CellState
from harness.runner.steps import HANDLERS
from harness.scenario.model import Scenario


@dataclass
class LiveCell:
    """Everything a step handler needs.  The VM boots on first use: a scenario whose every
    profile the service refuses never needs one."""

    ctx: RunContext
    scenario: Scenario
    machine: VagrantMachine
    published: Published
    gallery: CellGallery
    result: CellResult
    boot_timeout: float
    ready_timeout: float
    apply_timeout: float = 1800
    uploads: int = 0
    _agent: AgentClient | None = None

    @property
    def booted(self) -> bool:
        return self._agent is not None

    @property
    def agent(self) -> AgentClient:
        """The agent in a booted, ready VM (booting it now if needed)."""
        if self._agent is None:
            self.ctx.say(f"booting {self.machine.name} ({self.ctx.accel})")
            with timed(self.result, "boot"):
                self.machine.up(timeout=self.boot_timeout)
            with timed(self.result, "ready"):
                agent = AgentClient(self.machine.connect, vm=self.machine.name)
                wait_system_ready(agent.channel, self.machine.name, self.ready_timeout)
                self.reopen(agent.channel)
                agent.install()
            self.result.agent_version = agent.version()
            self._agent = agent
        return self._agent

    def next_upload(self) -> int:
        self.uploads += 1
        return self.uploads

    def reopen(self, channel: Channel) -> None:
        """After a (re)connect: the guest reaches package storage again through SSH."""
        channel.forward_to_host(self.ctx.storage_port)


def run_cell(ctx: RunContext, scenario: Scenario, image: str) -> CellResult:
    """Run with one retry of infrastructure errors, each attempt in a fresh VM."""
    result = CellResult(scenario=scenario.name, image=image, description=scenario.description,
                        file=str(scenario.file), markers=list(scenario.markers), accel=ctx.accel)
    for attempt in range(ctx.options.retries + 1):
        started = time.monotonic()
        result.steps, result.timings = [], {}
        try:
            _attempt(ctx, scenario, image, result, attempt)
        except InfrastructureError as exc:
            result.outcome, result.message = "error", str(exc)
            if attempt < ctx.options.retries:
                result.retries.append(Attempt(error=str(exc), stage=exc.stage,
                                              seconds=round(time.monotonic() - started, 1)))
                continue
        except HarnessError as exc:
            result.outcome, result.message = "error", str(exc)
        except Exception as exc:  # a harness bug: still an error with its traceback, never lost
            result.outcome = "error"
            result.message = f"internal error: {exc!r}\n{traceback.format_exc()}"
        break
    result.seconds = round(sum(a.seconds for a in result.retries) + time.monotonic() - started, 1)
    return result


def _attempt(ctx: RunContext, scenario: Scenario, image_name: str, result: CellResult,
             attempt: int) -> None:
    recipe = find_recipe(image_name)
    with timed(result, "image"):
        image = ensure_image(recipe, log=ctx.report_dir / "image-build.log")
    result.image_key = image.key
    cell_dir = ctx.cell_dir(result.cell_id)
    result.artifacts = str(cell_dir.relative_to(ctx.report_dir))
    suffix = f"-r{attempt}" if attempt else ""
    name = ctx.domain_name(scenario.name, image_name) + suffix
    ready = scenario.ready_seconds or recipe.ssh_seconds
    with timed(result, "image"):  # includes adding the box to Vagrant
        machine = create_machine(image, name=name, folder=ctx.vm_root / name,
                                 run_id=ctx.run_id, driver=ctx.driver, cpus=ctx.options.cpus,
                                 memory_mib=ctx.options.memory_mib, ssh_timeout=ready)
    result.vm = name
    with timed(result, "publish"):
        published = publish(scenario, ctx.store, ctx.run_id)
    result.packages = {key: ref.url or f"{ref.container}/{ref.name} ({ref.size} bytes)"
                       for key, ref in published.blobs.items()}
    gallery = CellGallery(scenario, published, ctx.store)
    result.gallery_errors = gallery.publish_errors
    live = LiveCell(ctx, scenario, machine, published, gallery, result,
                    boot_timeout=recipe.boot_seconds + ready, ready_timeout=ready)
    failed = True
    try:
        try:
            started = time.monotonic()
            try:
                _steps(live, result)
            finally:  # the steps' own time: the boot inside the first one is counted apart
                spent = time.monotonic() - started - result.timings.get("boot", 0.0) \
                    - result.timings.get("ready", 0.0)
                result.timings["steps"] = round(spent, 1)
        finally:
            if live.booted:
                with timed(result, "collect"):
                    _collect(live, cell_dir)
        failed = result.outcome != "passed"
    except KeyboardInterrupt:  # the user stopped the run: not a failure to keep a VM for
        failed = False
        raise
    finally:
        _finish_machine(ctx, machine, result, cell_dir, failed)
        if not machine.started:
            result.vm = ""


@contextmanager
def timed(result: CellResult, stage: str) -> Iterator[None]:
    """Add the time spent in ``stage`` to the cell's timings, whether it succeeds or not."""
    started = time.monotonic()
    try:
        yield
    finally:
        spent = result.timings.get(stage, 0.0) + time.monotonic() - started
        result.timings[stage] = round(spent, 1)


def wait_system_ready(channel: Channel, vm: str, timeout: float) -> None:
    """Last readiness stage: systemd finished booting (SSH answers earlier than that)."""
    done = channel.run(f"timeout {int(timeout)} systemctl is-system-running --wait",
                       timeout=timeout + 10)
    state = done.text.strip()
    if state not in ("running", "degraded"):
        raise InfrastructureError(stage="system ready", vm=vm,
                                  detail=f"systemd state {state!r} after {timeout:.0f}s")


def _steps(live: LiveCell, result: CellResult) -> None:
    state = CellState()
    result.outcome, result.message = "passed", ""
    for index, step in enumerate(live.scenario.steps):
        record = StepRecord(index=index, kind=step.kind, title=step.title, line=step.line)
        result.steps.append(record)
        started = time.monotonic()
        try:
            HANDLERS[step.kind](live, state, step, record)
        except InfrastructureError as exc:
            record.outcome, record.detail = "error", str(exc)
            raise
        finally:
            record.seconds = round(time.monotonic() - started, 1)
        live.ctx.say(f"step {index + 1}/{len(live.scenario.steps)} {step.title}: "
                     f"{'failed' if record.failures else record.outcome} ({record.seconds:.0f}s)")
        if record.failures:
            record.outcome = "failed"
            result.outcome = "failed"
            where = f"{live.scenario.file}:{step.line}" if step.line else str(live.scenario.file)
            result.message = f"step {index + 1} ({where}) {step.title}: " + \
                "; ".join(record.failures)
            for skipped in live.scenario.steps[index + 1:]:
                result.steps.append(StepRecord(index=len(result.steps), kind=skipped.kind,
                                               title=skipped.title, line=skipped.line,
                                               outcome="skipped"))
            return


def _collect(live: LiveCell, cell_dir: Path) -> None:
    try:
        live.result.status_files = live.agent.collect(cell_dir)
    except HarnessError as exc:
        (cell_dir / "collect-error.txt").write_text(str(exc))


def _finish_machine(ctx: RunContext, machine: VagrantMachine, result: CellResult,
                    cell_dir: Path, failed: bool) -> None:
    cell_dir.mkdir(parents=True, exist_ok=True)
    if not machine.started:  # no step needed a VM: nothing was created
        shutil.rmtree(machine.folder, ignore_errors=True)
        return
    if machine.console_log.exists():
        shutil.copyfile(machine.console_log, cell_dir / "console.log")
    keep = ctx.options.keep == "always" or (ctx.options.keep == "on-failure" and failed)
    if keep:
        result.kept = True
        result.login = machine.login_hint()
        (cell_dir / "LOGIN.txt").write_text(f"VM {machine.name} was kept.\n{result.login}\n")
        return
    try:
        with timed(result, "destroy"):
            machine.destroy()
    except CleanupErrors as exc:
        if result.outcome == "passed":
            result.outcome, result.message = "error", f"cleanup failed: {exc}"
        else:
            result.message += f"\ncleanup failed: {exc}"
    shutil.rmtree(machine.folder, ignore_errors=True)

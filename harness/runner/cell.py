"""One scenario on one image: publish, check out a clean machine, run the steps, collect, give
the machine back.

Infrastructure errors (image build, boot, SSH) make the cell an *error* and are retried once, the
machine that had one destroyed; unmet expectations make it a *failure* and are never retried.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from harness import stopping
from harness.errors import CleanupErrors, HarnessError, InfrastructureError
from harness.images.build import version_of
from harness.ports import Machine
from harness.redact import redact_bytes, write_redacted
from harness.report.results import Attempt, CellResult, StepRecord
from harness.runner.context import RunContext, cell_storage
from harness.runner.goal import CellGallery
from harness.runner.live import LiveCell, NoVm, timed
from harness.runner.pool import Lease, MachinePool
from harness.runner.publish import publish
from harness.runner.selection import other_os
from harness.runner.state import CellState
from harness.runner.steps import HANDLERS, recheck_expect
from harness.runner.vmimage import TooFewVersions, place_vm
from harness.scenario.model import Scenario, Step

# Stages of checking out a machine; a cell's "steps" time leaves them out.
MACHINE_STAGES = ("image", "boot", "ready", "revert")


def run_cell(ctx: RunContext, pool: MachinePool, scenario: Scenario, image: str, *,
             kept: Machine | None = None) -> CellResult:
    """Run with one retry of infrastructure errors; a machine that had one is not reused.

    ``kept``: run on that machine, which an earlier run kept, as it is (nothing reverted, goal
    states numbered on from the newest its agent has seen) instead of a clean one."""
    result = CellResult(scenario=scenario.name, image=image, description=scenario.description,
                        file=str(scenario.file), markers=list(scenario.markers), accel=ctx.accel)
    if reason := other_os(scenario, image):
        result.outcome, result.message = "skipped", reason
        return result
    for attempt in range(ctx.options.retries + 1):
        started = time.monotonic()
        result.steps, result.timings = [], {}
        try:
            _attempt(ctx, pool, scenario, image, result, kept)
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


def _attempt(ctx: RunContext, pool: MachinePool, scenario: Scenario, image: str,
             result: CellResult, kept: Machine | None) -> None:
    with cell_storage(ctx, scenario) as own:
        _attempt_with(own, pool, scenario, image, result, kept)


def _attempt_with(ctx: RunContext, pool: MachinePool, scenario: Scenario, image: str,
                  result: CellResult, kept: Machine | None) -> None:
    cell_dir = ctx.cell_dir(result.cell_id)
    result.artifacts = str(cell_dir.relative_to(ctx.report_dir))
    result.vm = result.machine = result.image_version = result.image_reference = ""
    if kept is not None:  # still kept, whatever happens next
        result.kept, result.vm, result.login = True, kept.name, kept.login_hint()
    with timed(result, "publish"):
        published = publish(scenario, ctx.store, ctx.run_id, result.cell_id)
    result.packages = {key: ref.url or f"{ref.container}/{ref.name} ({ref.size} bytes)"
                       for key, ref in published.blobs.items()}
    gallery = CellGallery(scenario, published, ctx.store)
    result.gallery_errors = gallery.publish_errors
    live = LiveCell(ctx, pool, scenario, image, published, gallery, result, cell_dir)
    state = CellState()
    try:
        with timed(result, "image"):  # a fresh host builds the recipe first
            live.placed = place_vm(gallery, scenario, image, ctx.provider.prepare)
    except TooFewVersions as exc:
        result.outcome, result.message = "skipped", str(exc)
        return
    if live.placed is not None:
        state.image_reference = result.image_reference = live.placed.reference
        state.service_error = live.placed.refused
        if live.placed.image is not None:
            result.image_version = live.placed.image.version
            ctx.say(f"VM image {live.placed.reference} -> version {result.image_version}")
    failed, healthy = True, False
    try:
        if kept is not None:
            live.take(pool.adopt(image, kept))
            state.sequence = live.agent.newest_sequence()
            result.note = (f"rerun on the kept VM {kept.name}, not reverted: what it held "
                           f"carries over; goal states go on after {state.sequence}, the "
                           "newest its agent had seen")
        try:
            started = time.monotonic()
            try:
                _steps(scenario, list(enumerate(scenario.steps)),
                       lambda step, record: HANDLERS[step.kind](live, state, step, record),
                       result, ctx.say)
            finally:  # the steps' own time: checking out a machine inside one is counted apart
                spent = time.monotonic() - started - sum(
                    result.timings.get(stage, 0.0) for stage in MACHINE_STAGES)
                result.timings["steps"] = round(max(spent, 0.0), 1)
        finally:
            if live.lease is not None:
                with timed(result, "collect"):
                    _collect(live.lease, result, cell_dir)
        failed, healthy = result.outcome != "passed", True
    except KeyboardInterrupt:  # the user stopped the run: not a failure to keep a VM for
        failed = False
        raise
    finally:
        if live.lease is not None:
            keep = ctx.options.keep == "always" or (ctx.options.keep == "on-failure" and failed)
            _finish_machine(pool, live.lease, result, cell_dir, keep=keep, healthy=healthy)


def recheck_cell(pool: MachinePool, scenario: Scenario, image: str, kept: Machine,
                 steps: Sequence[tuple[int, Step]], cell_dir: Path,
                 say: Callable[[str], None]) -> CellResult:
    """``steps`` (expect steps of ``scenario``, with their places in it) judged against the
    ``kept`` machine as it is now: no goal state, no package storage; the applications as the
    newest status its agent holds says.  Every step is judged, a failed one stops nothing."""
    result = CellResult(scenario=scenario.name, image=image, description=scenario.description,
                        file=str(scenario.file), markers=list(scenario.markers), kept=True,
                        vm=kept.name, login=kept.login_hint(),
                        note=f"rechecked on the kept VM {kept.name} as it is now: not reverted, "
                        "nothing deployed")
    started = time.monotonic()
    lease = None
    try:
        lease = pool.adopt(image, kept)
        result.machine, result.image_key = lease.how, kept.image_key
        result.image_facts = dict(lease.facts)
        result.image_version = version_of(image, kept.image_key)
        result.agent_version = lease.agent_version
        state = CellState(outcome=lease.agent.newest_outcome())
        channel = lease.agent.channel
        _steps(scenario, steps,
               lambda step, record: recheck_expect(kept.guest, channel, kept.name, state, step,
                                                   record),
               result, say, stop_at_failure=False)
        _collect(lease, result, cell_dir)
    except HarnessError as exc:
        result.outcome, result.message = "error", str(exc)
    finally:
        if lease is not None:
            _finish_machine(pool, lease, result, cell_dir, keep=True, healthy=True)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _steps(scenario: Scenario, steps: Sequence[tuple[int, Step]],
           run: Callable[[Step, StepRecord], None], result: CellResult,
           say: Callable[[str], None], *, stop_at_failure: bool = True) -> None:
    """``steps`` (with their places in the scenario) in order, each recorded; the first that
    fails makes the cell's message and, with ``stop_at_failure``, ends it (the rest recorded as
    skipped)."""
    result.outcome, result.message = "passed", ""
    for position, (index, step) in enumerate(steps):
        stopping.check()
        record = StepRecord(index=index, kind=step.kind, title=step.title, line=step.line)
        result.steps.append(record)
        started = time.monotonic()
        try:
            run(step, record)
        except NoVm as exc:  # the service refused the VM: a step that needs it fails
            record.failures.append(str(exc))
        except InfrastructureError as exc:
            record.outcome, record.detail = "error", str(exc)
            raise
        finally:
            record.seconds = round(time.monotonic() - started, 1)
        say(f"step {index + 1}/{len(scenario.steps)} {step.title}: "
            f"{'failed' if record.failures else record.outcome} ({record.seconds:.0f}s)")
        if record.outcome == "skipped":  # "unsupported on stand-in: <reason>": never a pass
            result.outcome, result.message = "skipped", record.detail
            _skip_rest(steps[position + 1:], result)
            return
        if not record.failures:
            continue
        record.outcome = "failed"
        if result.outcome == "passed":
            result.outcome = "failed"
            where = f"{scenario.file}:{step.line}" if step.line else str(scenario.file)
            result.message = f"step {index + 1} ({where}) {step.title}: " + \
                "; ".join(record.failures)
        if stop_at_failure:
            _skip_rest(steps[position + 1:], result)
            return


def _skip_rest(steps: Sequence[tuple[int, Step]], result: CellResult) -> None:
    for later, skipped in steps:
        result.steps.append(StepRecord(index=later, kind=skipped.kind, title=skipped.title,
                                       line=skipped.line, outcome="skipped"))


def _collect(lease: Lease, result: CellResult, cell_dir: Path) -> None:
    try:
        result.status_files = lease.agent.collect(cell_dir)
    except HarnessError as exc:
        write_redacted(cell_dir / "collect-error.txt", str(exc))


def _finish_machine(pool: MachinePool, lease: Lease, result: CellResult, cell_dir: Path, *,
                    keep: bool, healthy: bool) -> None:
    (cell_dir / "console.log").write_bytes(redact_bytes(lease.console_text()))
    if keep:
        result.kept = True
        result.login = lease.machine.login_hint()
        (cell_dir / "LOGIN.txt").write_text(f"VM {lease.machine.name} was kept.\n{result.login}\n")
    try:
        with timed(result, "destroy"):
            pool.release(lease, keep=keep, healthy=healthy)
    except CleanupErrors as exc:
        if result.outcome == "passed":
            result.outcome, result.message = "error", f"cleanup failed: {exc}"
        else:
            result.message += f"\ncleanup failed: {exc}"

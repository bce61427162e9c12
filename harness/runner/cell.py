"""One scenario on one image: publish, check out a clean machine, run the steps, collect, give
the machine back.

Infrastructure errors (image build, boot, SSH) make the cell an *error* and are retried once, the
machine that had one destroyed; unmet expectations make it a *failure* and are never retried.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path

from harness.errors import CleanupErrors, HarnessError, InfrastructureError
from harness.redact import redact_bytes, write_redacted
from harness.report.results import Attempt, CellResult, StepRecord
from harness.runner.context import RunContext
from harness.runner.goal import CellGallery
from harness.runner.live import LiveCell, timed
from harness.runner.pool import Lease, MachinePool
from harness.runner.publish import publish
from harness.runner.state import CellState
from harness.runner.steps import HANDLERS
from harness.scenario.model import Scenario

# Stages of checking out a machine; a cell's "steps" time leaves them out.
MACHINE_STAGES = ("image", "boot", "ready", "revert")


def run_cell(ctx: RunContext, pool: MachinePool, scenario: Scenario, image: str) -> CellResult:
    """Run with one retry of infrastructure errors; a machine that had one is not reused."""
    result = CellResult(scenario=scenario.name, image=image, description=scenario.description,
                        file=str(scenario.file), markers=list(scenario.markers), accel=ctx.accel)
    for attempt in range(ctx.options.retries + 1):
        started = time.monotonic()
        result.steps, result.timings = [], {}
        try:
            _attempt(ctx, pool, scenario, image, result)
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
             result: CellResult) -> None:
    cell_dir = ctx.cell_dir(result.cell_id)
    result.artifacts = str(cell_dir.relative_to(ctx.report_dir))
    result.vm = result.machine = ""
    with timed(result, "publish"):
        published = publish(scenario, ctx.store, ctx.run_id, result.cell_id)
    result.packages = {key: ref.url or f"{ref.container}/{ref.name} ({ref.size} bytes)"
                       for key, ref in published.blobs.items()}
    gallery = CellGallery(scenario, published, ctx.store)
    result.gallery_errors = gallery.publish_errors
    live = LiveCell(ctx, pool, scenario, image, published, gallery, result, cell_dir)
    failed, healthy = True, False
    try:
        try:
            started = time.monotonic()
            try:
                _steps(live, result)
            finally:  # the steps' own time: checking out a machine inside one is counted apart
                spent = time.monotonic() - started - sum(
                    result.timings.get(stage, 0.0) for stage in MACHINE_STAGES)
                result.timings["steps"] = round(max(spent, 0.0), 1)
        finally:
            if live.lease is not None:
                with timed(result, "collect"):
                    _collect(live, cell_dir)
        failed, healthy = result.outcome != "passed", True
    except KeyboardInterrupt:  # the user stopped the run: not a failure to keep a VM for
        failed = False
        raise
    finally:
        if live.lease is not None:
            _finish_machine(ctx, pool, live.lease, result, cell_dir, failed=failed,
                            healthy=healthy)


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
    assert live.lease is not None
    try:
        live.result.status_files = live.lease.agent.collect(cell_dir)
    except HarnessError as exc:
        write_redacted(cell_dir / "collect-error.txt", str(exc))


def _finish_machine(ctx: RunContext, pool: MachinePool, lease: Lease, result: CellResult,
                    cell_dir: Path, *, failed: bool, healthy: bool) -> None:
    (cell_dir / "console.log").write_bytes(redact_bytes(lease.console_text()))
    keep = ctx.options.keep == "always" or (ctx.options.keep == "on-failure" and failed)
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

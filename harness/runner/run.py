"""Run a scenario x image matrix and write the reports."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import platform
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from harness import stopping
from harness.errors import CleanupErrors, HarnessError
from harness.images.build import ensure_image
from harness.images.recipe import find_recipe, split_image
from harness.machines import libvirtd
from harness.machines.kvm import kernel_for_probe, probe_kvm
from harness.machines.local import LocalProvider
from harness.machines.vagrant import VagrantProvider
from harness.ports import Provider
from harness.report.compat import Source, build_compat, write_compat
from harness.report.html import write_html
from harness.report.junit import write_junit
from harness.report.results import CellResult, RunResult, write_results
from harness.runner.cell import run_cell
from harness.runner.context import RunContext, RunOptions, claim_run_folder, new_run_id
from harness.runner.dispatch import Dispatcher
from harness.runner.pool import MachinePool
from harness.runner.reap import dead_runs, mark_ended, reap
from harness.runner.selection import Cell, Key, matrix
from harness.scenario.model import Scenario
from harness.settings import reports_dir, state_dir
from harness.storage.azurite import Azurite
from harness.storage.blobs import BlobStore

Progress = Callable[[str, CellResult | None], None]
STOP_SECONDS = 60  # how long a stopped run waits for each worker to notice


def choose_driver(requested: str, first_image: str, say: Progress) -> tuple[str, str]:
    if requested == "tcg":
        return "qemu", "TCG requested"
    try:
        image = ensure_image(find_recipe(split_image(first_image)[0]))  # NAME@VERSION too
    except HarnessError as exc:
        return "qemu", f"no image to probe KVM with ({exc})"
    kernel = kernel_for_probe(image)
    if kernel is None:  # only a user's Windows box, and no Linux build or /boot kernel
        reason = ("no Linux kernel to probe KVM with (build a Linux image once: "
                  "`vmapp images build debian-12`)")
        if requested == "kvm":
            raise HarnessError(f"--accel kvm requested but {reason}")
        return "qemu", reason
    say(f"probing KVM by booting {kernel[0]}", None)
    usable, reason = probe_kvm(*kernel)
    if requested == "kvm" and not usable:
        raise HarnessError(f"--accel kvm requested but KVM is not usable: {reason}")
    return ("kvm" if usable else "qemu"), reason


def new_run(run_id: str | None = None) -> RunResult:
    return RunResult(run_id=run_id or new_run_id(),
                     started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     host={"hostname": platform.node(), "kernel": platform.release(),
                           "python": platform.python_version()})


@contextlib.contextmanager
def open_run(run: RunResult, report_dir: Path, options: RunOptions, first_image: str | None,
             progress: Progress = lambda _m, _c: None, *,
             vm_root: Path | None = None) -> Iterator[RunContext]:
    """The machines' provider (libvirt and the acceleration choice for VMs) and the run's
    package storage; on the way out the run's state folder (``vm_root``: by default the run's
    own, claimed here) goes, unless a VM was kept (its folder is where `vagrant ssh` works)."""
    folder = vm_root or state_dir() / "runs" / run.run_id
    try:  # from here on: an interrupt while libvirt starts or KVM is probed leaves nothing
        if vm_root is None:
            claim_run_folder(folder)
        folder.mkdir(parents=True, exist_ok=True)
        provider = _provider(run, options, first_image, folder, progress)
        progress(f"acceleration: {run.accel} ({run.accel_reason})", None)
        with run_context(run, report_dir, options, provider, folder, progress) as ctx:
            yield ctx
    finally:
        with stopping.deferred():  # a folder half removed is one left
            if options.keep != "always" and not any(c.kept for c in run.cells):
                shutil.rmtree(folder, ignore_errors=True)
            else:
                mark_ended(folder)


def _provider(run: RunResult, options: RunOptions, first_image: str | None, vm_root: Path,
              progress: Progress) -> Provider:
    """Local machines, or VMs on libvirt with the acceleration chosen for ``first_image``."""
    if options.machines == "local":
        run.accel, run.accel_reason = "none", "local machines: the host's system, no VM"
        return LocalProvider(vm_root / "local")
    libvirtd.ensure_daemons()
    _reap_killed_runs(progress)
    driver, run.accel_reason = choose_driver(options.accel, first_image, progress) \
        if first_image else ("qemu", "no cells")
    run.accel = "kvm" if driver == "kvm" else "tcg"
    return VagrantProvider(run_id=run.run_id, driver=driver, cpus=options.cpus,
                           memory_mib=options.memory_mib)


def _reap_killed_runs(progress: Progress) -> None:
    """What runs killed before they could clean up left goes before this one starts (kept
    VMs of runs that ended stay: `vmapp gc` is for those)."""
    runs = state_dir() / "runs"
    dead, _live = dead_runs(runs, killed_only=True)
    try:
        reap(dead, runs, say=lambda message: progress(f"a killed run's leftovers: {message}", None))
    except CleanupErrors as exc:
        progress(f"cleanup of killed runs: {exc}", None)


@contextlib.contextmanager
def run_context(run: RunResult, report_dir: Path, options: RunOptions, provider: Provider,
                vm_root: Path, progress: Progress) -> Iterator[RunContext]:
    """A run's context on ``provider``'s machines, with the run's package storage (under
    ``vm_root``) running until the context ends."""
    with Azurite(vm_root / "azurite") as azurite:
        yield RunContext(run_id=run.run_id, report_dir=report_dir, vm_root=vm_root,
                         store=BlobStore(azurite.account_url, azurite.account, azurite.key),
                         storage_port=azurite.port, accel=run.accel, provider=provider,
                         options=options, say=lambda message: progress(message, None))


@contextlib.contextmanager
def worker_pool(ctx: RunContext, worker: int,
                pools: list[MachinePool] | None = None) -> Iterator[MachinePool]:
    """One worker's machines (listed in ``pools`` too, for stopping them from outside); they
    all go when the worker is done, however it ends."""
    pool = MachinePool(ctx.provider, ctx.vm_root, ctx.machine_prefix(worker),
                       reuse=not ctx.options.fresh_vm)
    if pools is not None:
        pools.append(pool)
    try:
        yield pool
    finally:
        try:
            pool.close()
        except CleanupErrors as exc:
            ctx.say(f"cleanup: {exc}")


def run_matrix(scenarios: list[Scenario], *, images: list[str] | None = None,
               options: RunOptions | None = None, progress: Progress = lambda _m, _c: None,
               run_id: str | None = None, cells: list[Cell] | None = None, shard: str = "",
               seconds: Mapping[Key, float] | None = None) -> tuple[RunResult, Path]:
    """Run ``cells`` (default: the scenarios x images matrix; ``shard`` "K/N" when they are one
    shard of a split matrix) and write the reports.  ``seconds``: the cells' durations in
    earlier runs, for handing the long ones out first."""
    options = options or RunOptions()
    run = new_run(run_id)
    run.shard = shard
    report_dir = reports_dir() / run.run_id
    report_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    cells = matrix(scenarios, images) if cells is None else cells
    lock = threading.Lock()
    order = {(s.name, image): n for n, (s, image) in enumerate(cells)}

    def finished(cell: CellResult) -> None:
        with lock:  # cells in matrix order, whichever worker finished first
            run.cells.append(cell)
            run.cells.sort(key=lambda c: order.get((c.scenario, c.image), len(order)))
            write_reports(run, report_dir)  # a run cut short keeps its finished cells
            progress("done", cell)

    try:
        with open_run(run, report_dir, options, cells[0][1] if cells else None,
                      progress) as ctx:
            workers = max(1, min(options.workers, len(cells)))
            if workers == 1:
                _work(ctx, 1, iter(cells), finished, progress, threading.Event(), [])
            else:
                _parallel(ctx, workers, Dispatcher(cells, seconds or {}), finished, progress)
    except KeyboardInterrupt:
        run.interrupted = True
        raise
    finally:
        run.seconds = round(time.monotonic() - started, 1)
        run.finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_reports(run, report_dir)
    return run, report_dir


def _work(ctx: RunContext, worker: int, cells: Iterator[Cell],
          finished: Callable[[CellResult], None], progress: Progress,
          stop: threading.Event, pools: list[MachinePool]) -> None:
    """Run cells until there are none left (or the run is stopped), on this worker's machines."""
    with worker_pool(ctx, worker, pools) as pool:
        for scenario, image in cells:
            if stop.is_set():
                return
            stopping.check()
            cell_id = f"{scenario.name}[{image}]"
            progress(f"running {cell_id}", None)
            own = dataclasses.replace(ctx, say=_prefixed(progress, cell_id))
            finished(run_cell(own, pool, scenario, image))


def _prefixed(progress: Progress, cell_id: str) -> Callable[[str], None]:
    """Progress inside a cell names the cell: workers' lines interleave."""
    return lambda message: progress(f"{cell_id}: {message}", None)


def _parallel(ctx: RunContext, workers: int, dispatcher: Dispatcher,
              finished: Callable[[CellResult], None], progress: Progress) -> None:
    """Workers take cells from the dispatcher; Ctrl-C stops them taking new ones."""
    stop = threading.Event()
    errors: list[BaseException] = []
    pools: list[MachinePool] = []

    def drain() -> Iterator[Cell]:
        image: str | None = None  # what this worker's machine runs
        while (cell := dispatcher.next(image)) is not None:
            image = cell[1]
            yield cell

    def work(worker: int) -> None:
        try:
            _work(ctx, worker, drain(), finished, progress, stop, pools)
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(n,), name=f"vmapp-worker-{n}", daemon=True)
               for n in range(1, workers + 1)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.5)
    except KeyboardInterrupt:
        stop.set()
        progress("stopping: every machine goes now, no new cell starts", None)
        for pool in pools:
            try:
                pool.stop()
            except CleanupErrors as exc:
                progress(f"cleanup: {exc}", None)
        for thread in threads:
            thread.join(STOP_SECONDS)
        raise
    if errors:
        raise errors[0]


def write_reports(run: RunResult, report_dir: Path, *, point_latest: bool = True) -> None:
    """results.json, junit.xml, index.html and the run's compatibility report (compat.html,
    compat.json); ``reports/latest`` then names this run (not when an older run's reports are
    only rebuilt)."""
    write_results(run, report_dir)
    write_junit(run, report_dir / "junit.xml")
    write_html(run, report_dir / "index.html")
    write_compat(build_compat([Source(run, report_dir)], report_dir), report_dir)
    latest = report_dir.parent / "latest"
    if point_latest and (latest.is_symlink() or not latest.exists()):
        tmp = report_dir.parent / f".latest-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(report_dir.name)
        tmp.replace(latest)

"""pytest plugin: scenario files as pytest items, one ``scenario[image]`` item per matrix cell.

`pytest scenarios/` collects every scenario; ``-k``, ``-m MARKER`` (from each file's
``markers``) and ``--junitxml`` work as usual.  The VM work of a cell happens in the item's
setup, so an infrastructure problem is a pytest *error* and an unmet expectation a *failure*;
a failure prints the step table, not a traceback.  The harness's own reports (results.json,
junit.xml, index.html) are written to ``reports/<run-id>/`` as with `vmapp run`, by the
controller alone when pytest-xdist spreads the cells over workers, here or on other hosts
(docs/hosts.md).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError, ConfigErrors, HarnessError
from harness.report.junit import step_table
from harness.report.parcel import pack_cell, receive_cell
from harness.report.results import CellResult
from harness.runner.cell import run_cell
from harness.runner.context import (
    KEEP_CHOICES,
    MACHINE_CHOICES,
    RunContext,
    RunOptions,
    claim_run_folder,
)
from harness.runner.pool import MachinePool
from harness.runner.run import new_run, open_run, worker_pool, write_reports
from harness.runner.selection import images_of
from harness.scenario.load import load_scenario
from harness.scenario.model import Scenario
from harness.settings import reports_dir, state_dir

PARCEL = "vmapp_cell"  # the test report attribute a worker's cell travels in


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vmapp", "vmapp-harness scenarios")
    group.addoption("--vmapp-image", action="append", default=[], dest="vmapp_images",
                    help="run every scenario on this image instead of its own (repeatable)")
    group.addoption("--vmapp-keep", choices=KEEP_CHOICES, default="never",
                    help="keep VMs afterwards")
    group.addoption("--vmapp-accel", choices=("auto", "kvm", "tcg"), default="auto")
    group.addoption("--vmapp-retries", type=int, default=1,
                    help="retries of infrastructure errors, each in a fresh VM")
    group.addoption("--vmapp-fresh-vm", action="store_true", default=False,
                    help="boot a VM per cell instead of reverting one VM per image")
    group.addoption("--vmapp-machines", choices=MACHINE_CHOICES, default="vagrant",
                    help="vagrant: real VMs (default); local: the host's own system in private "
                         "namespaces, no VM (as vmapp run --machines local)")
    group.addoption("--vmapp-idempotence", action="store_true", default=False,
                    help="apply every goal state a second time: nothing may run again")
    parser.addini("vmapp_scenario_dirs", type="args", default=["scenarios"],
                  help="folders (relative to rootdir) whose *.yaml files are scenarios")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(HarnessSession(config), "vmapp-session")


def _is_scenario(config: pytest.Config, path: Path) -> bool:
    if path.suffix != ".yaml":
        return False
    named = {Path(a.split("::")[0]).resolve() for a in config.args}
    if path.resolve() in named:
        return True
    folders = [config.rootpath / d for d in config.getini("vmapp_scenario_dirs")]
    return any(path.parent.resolve() == folder.resolve() for folder in folders)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_scenario(parent.config, file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[ScenarioItem]:
        try:
            scenario = load_scenario(self.path)
        except (ConfigErrors, ConfigError) as exc:
            raise self.CollectError(str(exc)) from None
        for image in images_of(scenario, self.config.getoption("vmapp_images") or None):
            name = f"{scenario.name}[{image}]"
            # The id given as text, so pytest parses "[image]" as parameters, as it does for
            # the ids it stores for --lf (built from the name, they would never match).
            item = ScenarioItem.from_parent(self, name=name, nodeid=f"{self.nodeid}::{name}",
                                            scenario=scenario, image=image)
            for marker in scenario.markers:
                name = marker.replace("-", "_")
                self.config.addinivalue_line("markers", f"{name}: scenario marker")
                item.add_marker(name)
            yield item


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, image: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.image = image
        self.cell: CellResult | None = None

    def setup(self) -> None:
        session = self.config.pluginmanager.get_plugin("vmapp-session")
        assert isinstance(session, HarnessSession)
        self.cell = session.run(self.scenario, self.image)
        if self.cell.outcome == "error":
            raise InfrastructureProblem(self.cell)

    def runtest(self) -> None:
        assert self.cell is not None
        if self.cell.outcome == "failed":
            raise ScenarioFailed(self.cell)
        if self.cell.outcome == "skipped":  # "unsupported on stand-in: <reason>": never a pass
            pytest.skip(self.cell.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, CellProblem):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"scenario {self.name}"


class CellProblem(Exception):
    def __init__(self, cell: CellResult) -> None:
        super().__init__(cell)
        self.cell = cell

    def __str__(self) -> str:
        cell = self.cell
        lines = [f"{cell.title}: {cell.outcome}: {cell.message.splitlines()[0]}"
                 if cell.message else f"{cell.title}: {cell.outcome}", step_table(cell)]
        lines += [f"retried after: {a.error}" for a in cell.retries]
        if cell.kept:
            lines.append(f"VM kept: {cell.login}")
        return "\n".join(lines)


class ScenarioFailed(CellProblem):
    """The product did not do what the scenario expects."""


class InfrastructureProblem(CellProblem):
    """The machinery failed (boot, SSH, image build): a pytest error, not a failure."""


class HarnessSession:
    """Owns libvirt, Azurite, the machines and the run's reports for one pytest session.

    With pytest-xdist (``-n N`` here, ``--tx ssh=...`` for workers on other hosts) the
    controller names the run and writes the one report.  Each worker, on its own host, has its
    storage and machines (``w<N>`` in their names) under ``<state>/runs/<run>/<worker>``,
    claimed so that `vmapp gc` there spares them, and sends every cell with its folder to the
    controller inside the cell's test report (harness/report/parcel.py): no folder is shared,
    and the controller rewrites its report as each cell arrives.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        workerinput: dict[str, Any] = getattr(config, "workerinput", {})
        self.worker = str(workerinput.get("workerid", ""))  # "gw0" in an xdist worker
        self.run_result = new_run(workerinput.get("vmapp_run_id"))
        # A worker's cell folders wait in its own state folder until they are sent.
        self.report_dir = self.run_folder / self.worker / "outbox" if self.worker \
            else reports_dir() / self.run_result.run_id
        self.stack = contextlib.ExitStack()
        self.ctx: RunContext | None = None
        self.pool: MachinePool | None = None
        self.started = time.monotonic()
        self.order: list[str] = []  # cell ids in collection order (xdist controller)
        self.accels: dict[str, str] = {}  # the workers' accelerations -> why (xdist controller)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: every worker, on whichever host, works for this run."""
        node.workerinput["vmapp_run_id"] = self.run_result.run_id

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist controller: the collection order, which the report's matrix keeps."""
        self.order = self.order or [nodeid.rsplit("::", 1)[-1] for nodeid in ids]

    @property
    def run_folder(self) -> Path:
        return state_dir() / "runs" / self.run_result.run_id

    def _context(self, image: str) -> RunContext:
        if self.ctx is not None:
            return self.ctx
        options = RunOptions(keep=self.config.getoption("vmapp_keep"),
                             accel=self.config.getoption("vmapp_accel"),
                             retries=self.config.getoption("vmapp_retries"),
                             fresh_vm=self.config.getoption("vmapp_fresh_vm"),
                             idempotence=self.config.getoption("vmapp_idempotence"),
                             machines=self.config.getoption("vmapp_machines"))
        vm_root = claim_run_folder(self.run_folder / self.worker) if self.worker else None
        self.report_dir.mkdir(parents=True, exist_ok=True)
        self.ctx = self.stack.enter_context(
            open_run(self.run_result, self.report_dir, options, image, vm_root=vm_root))
        number = int(self.worker.removeprefix("gw")) + 1 if self.worker else 1
        self.pool = self.stack.enter_context(worker_pool(self.ctx, number))
        return self.ctx

    def run(self, scenario: Scenario, image: str) -> CellResult:
        try:
            ctx = self._context(image)
        except HarnessError as exc:
            return CellResult(scenario=scenario.name, image=image, outcome="error",
                              message=str(exc))
        assert self.pool is not None
        cell = run_cell(ctx, self.pool, scenario, image)
        self.run_result.cells.append(cell)
        return cell

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Iterator[Any]:
        """xdist worker: the cell, done in the item's setup, travels with the setup report."""
        report = yield
        if self.worker and call.when == "setup" and isinstance(item, ScenarioItem) \
                and item.cell is not None:
            setattr(report, PARCEL, self._pack(item.cell))
        return report

    def _pack(self, cell: CellResult) -> dict[str, Any]:
        cell.origin = f"run {self.run_result.run_id} on " \
            f"{self.run_result.host.get('hostname', '?')}, xdist worker {self.worker}"
        parcel = pack_cell(self.run_result, cell, self.report_dir)
        if cell.artifacts:
            shutil.rmtree(self.report_dir / cell.artifacts, ignore_errors=True)
        return parcel

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """xdist controller: a worker's cell arrives; it goes into the report at once (before
        any other plugin sees the report, so none of them carries the files along)."""
        if self.worker or not hasattr(report, PARCEL):
            return
        parcel = report.__dict__.pop(PARCEL)
        source = f"{report.nodeid} from xdist worker {getattr(report, 'worker_id', '?')}"
        self.report_dir.mkdir(parents=True, exist_ok=True)
        worker_run, cell = receive_cell(parcel, self.report_dir,
                                        report.nodeid.rsplit("::", 1)[-1], source)
        if worker_run is not None:
            cell.file = self._local_file(report.nodeid)
            if worker_run.accel:
                self.accels[worker_run.accel] = worker_run.accel_reason
        run = self.run_result
        run.accel = "/".join(sorted(self.accels))
        run.accel_reason = "; ".join(dict.fromkeys(self.accels.values()))
        run.cells.append(cell)
        order = {name: n for n, name in enumerate(self.order)}
        run.cells.sort(key=lambda c: order.get(c.cell_id, len(order)))
        write_reports(run, self.report_dir)  # a run cut short keeps its finished cells

    def _local_file(self, nodeid: str) -> str:
        """The scenario file as the controller names it: the worker's node id is relative to
        its rootdir, which a worker on another host has elsewhere (its own ``chdir``)."""
        name = nodeid.split("::", 1)[0]
        here = self.config.rootpath / name
        return str(here) if here.is_file() else name

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stack.close()
        if self.worker:
            with contextlib.suppress(OSError):  # the last worker on this host takes it
                self.run_folder.rmdir()
            return
        run = self.run_result
        run.seconds = round(time.monotonic() - self.started, 1)
        run.finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if run.cells:
            write_reports(run, self.report_dir)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if (self.report_dir / "index.html").is_file():
            terminalreporter.write_line(f"vmapp report: {self.report_dir / 'index.html'}")

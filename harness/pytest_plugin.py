"""pytest plugin: scenario files as pytest items, one ``scenario[image]`` item per matrix cell.

`pytest scenarios/` collects every scenario; ``-k``, ``-m MARKER`` (from each file's
``markers``) and ``--junitxml`` work as usual.  The VM work of a cell happens in the item's
setup, so an infrastructure problem is a pytest *error* and an unmet expectation a *failure*;
a failure prints the step table, not a traceback.  The harness's own reports (results.json,
junit.xml, index.html) are written to ``reports/<run-id>/`` as with `vmapp run`.
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
from harness.report.results import CellResult, read_results, write_results
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
from harness.scenario.load import load_scenario
from harness.scenario.model import Scenario
from harness.settings import reports_dir, state_dir

WORKERS = ".workers"  # where xdist workers leave their cells for the controller


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
                    help="vagrant: real VMs (default); local: the host's own system as an "
                    "overlay, no VM (as root; see `vmapp run --machines`)")
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
        images = self.config.getoption("vmapp_images") or list(scenario.images)
        for image in images:
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

    With pytest-xdist (``-n N``) the controller names the run and writes the one report; each
    worker has its own storage and machines (``w<N>`` in their names) under the run's state
    folder, and leaves its cells in ``<report>/.workers/<worker>/results.json`` for it.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        workerinput: dict[str, Any] = getattr(config, "workerinput", {})
        self.worker = str(workerinput.get("workerid", ""))  # "gw0" in an xdist worker
        self.run_result = new_run(workerinput.get("vmapp_run_id"))
        self.report_dir = reports_dir() / self.run_result.run_id
        self.stack = contextlib.ExitStack()
        self.ctx: RunContext | None = None
        self.pool: MachinePool | None = None
        self.started = time.monotonic()
        self.order: list[str] = []  # cell ids in collection order (xdist controller)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: every worker works for this run, whose state folder the
        controller owns (`vmapp gc` spares it while the controller lives)."""
        claim_run_folder(self.run_folder)
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
        self.report_dir.mkdir(parents=True, exist_ok=True)
        vm_root = self.run_folder / self.worker if self.worker else None
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

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stack.close()
        run = self.run_result
        run.seconds = round(time.monotonic() - self.started, 1)
        run.finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        if self.worker:
            if run.cells:
                folder = self.report_dir / WORKERS / self.worker
                folder.mkdir(parents=True, exist_ok=True)
                write_results(run, folder)
            return
        parts = sorted((self.report_dir / WORKERS).glob("*/results.json"))
        for part in parts:  # xdist: the workers' cells, in the order pytest collected them
            worker = read_results(part)
            run.cells += worker.cells
            run.accel, run.accel_reason = worker.accel, worker.accel_reason
        if parts:
            order = {name: n for n, name in enumerate(self.order)}
            run.cells.sort(key=lambda c: order.get(c.cell_id, len(order)))
            shutil.rmtree(self.report_dir / WORKERS, ignore_errors=True)
        if self.run_folder.is_dir() and not any(c.kept for c in run.cells):
            shutil.rmtree(self.run_folder, ignore_errors=True)  # the workers' folders in it
        if run.cells:
            write_reports(run, self.report_dir)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if (self.report_dir / "index.html").is_file():
            terminalreporter.write_line(f"vmapp report: {self.report_dir / 'index.html'}")

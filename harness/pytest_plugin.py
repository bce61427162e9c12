"""pytest plugin: scenario files as pytest items, one ``scenario[image]`` item per matrix cell.

`pytest scenarios/` collects every scenario; ``-k``, ``-m MARKER`` (from each file's
``markers``) and ``--junitxml`` work as usual.  The VM work of a cell happens in the item's
setup, so an infrastructure problem is a pytest *error* and an unmet expectation a *failure*;
a failure prints the step table, not a traceback.  The harness's own reports (results.json,
junit.xml, index.html) are written to ``reports/<run-id>/`` as with `vmapp run`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError, ConfigErrors, HarnessError
from harness.report.junit import step_table
from harness.report.results import CellResult, RunResult
from harness.runner.cell import run_cell
from harness.runner.context import KEEP_CHOICES, RunContext, RunOptions
from harness.runner.pool import MachinePool
from harness.runner.run import new_run, open_run, worker_pool, write_reports
from harness.scenario.load import load_scenario
from harness.scenario.model import Scenario
from harness.settings import reports_dir


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vmapp", "vmapp-harness scenarios")
    group.addoption("--vmapp-image", action="append", default=[], dest="vmapp_images",
                    help="run every scenario on this image instead of its own (repeatable)")
    group.addoption("--vmapp-keep", choices=KEEP_CHOICES, default="never",
                    help="keep VMs afterwards")
    group.addoption("--vmapp-accel", choices=("auto", "kvm", "tcg"), default="auto")
    group.addoption("--vmapp-retries", type=int, default=1,
                    help="retries of infrastructure errors, each in a fresh VM")
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
            item = ScenarioItem.from_parent(self, name=f"{scenario.name}[{image}]",
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
        for name, value in (("image", self.image), ("vm", self.cell.vm),
                            ("accel", self.cell.accel), ("artifacts", self.cell.artifacts)):
            self.user_properties.append((name, value))
        if self.cell.outcome == "error":
            raise InfrastructureProblem(self.cell)

    def runtest(self) -> None:
        assert self.cell is not None
        if self.cell.outcome == "failed":
            raise ScenarioFailed(self.cell)

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
        lines = [f"{cell.cell_id}: {cell.outcome}: {cell.message.splitlines()[0]}"
                 if cell.message else f"{cell.cell_id}: {cell.outcome}", step_table(cell)]
        lines += [f"retried after: {a.error}" for a in cell.retries]
        if cell.kept:
            lines.append(f"VM kept: {cell.login}")
        return "\n".join(lines)


class ScenarioFailed(CellProblem):
    """The product did not do what the scenario expects."""


class InfrastructureProblem(CellProblem):
    """The machinery failed (boot, SSH, image build): a pytest error, not a failure."""


class HarnessSession:
    """Owns libvirt, Azurite and the run's reports for one pytest session."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.stack = contextlib.ExitStack()
        self.ctx: RunContext | None = None
        self.pool: MachinePool | None = None
        self.run_result: RunResult | None = None
        self.started = 0.0

    def _context(self, image: str) -> RunContext:
        if self.ctx is not None:
            return self.ctx
        options = RunOptions(keep=self.config.getoption("vmapp_keep"),
                             accel=self.config.getoption("vmapp_accel"),
                             retries=self.config.getoption("vmapp_retries"))
        run = new_run()
        report_dir = reports_dir() / run.run_id
        report_dir.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        self.ctx = self.stack.enter_context(open_run(run, report_dir, options, image))
        self.pool = self.stack.enter_context(worker_pool(self.ctx, 1))
        self.run_result = run
        return self.ctx

    def run(self, scenario: Scenario, image: str) -> CellResult:
        try:
            ctx = self._context(image)
        except HarnessError as exc:
            return CellResult(scenario=scenario.name, image=image, outcome="error",
                              message=str(exc))
        assert self.pool is not None and self.run_result is not None
        cell = run_cell(ctx, self.pool, scenario, image)
        self.run_result.cells.append(cell)
        return cell

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stack.close()
        if self.ctx is None or self.run_result is None:
            return
        self.run_result.seconds = round(time.monotonic() - self.started, 1)
        self.run_result.finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        write_reports(self.run_result, self.ctx.report_dir)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.ctx is not None:
            terminalreporter.write_line(
                f"vmapp report: {self.ctx.report_dir / 'index.html'}")

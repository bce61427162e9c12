"""The HTML report in a real browser (headless Chromium): at 1280 px nothing runs off the right
edge, even with every cell and command opened on long, unbreakable output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.report.compat import Source, build_compat, write_compat
from harness.report.html import write_html
from harness.report.results import CommandRecord, RunResult, StepRecord
from tests.browser import page_width
from tests.unit.report.test_report_outputs import make_run

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None, reason="needs chromium")
LONG = "x" * 900  # no break opportunity anywhere


def wide_run() -> RunResult:
    run = make_run()
    run.accel_reason = "KVM probe failed: qemu-system-x86_64: " + LONG
    cell = run.cells[1]
    cell.message = f"expected brokenapp: result='Install SUCCESS' {LONG}"
    cell.file = "/very/long/path/" + "/".join(["segment"] * 60) + "/broken-install.yaml"
    cell.login = "ssh -o " + LONG
    cell.image_facts = {"package_digest": "sha256:" + LONG, "os": LONG}
    cell.steps.append(StepRecord(
        index=2, kind="deploy", title="deploy " + LONG, line=20, outcome="failed",
        expected=["file /opt/" + LONG], actual=["missing " + LONG], failures=["f " + LONG],
        detail=LONG, extension_status="error", extension_message=LONG, boot_ids=[LONG],
        commands=[CommandRecord(app="a" * 200, version="1.0.0", operation="install",
                                command="sh -c " + LONG, exit_code=1, result="FAILED",
                                stdout=LONG, stderr=LONG)]))
    return run


def test_an_opened_cell_fits_1280_px(tmp_path: Path) -> None:
    page = write_html(wide_run(), tmp_path / "index.html")
    assert page_width(page) <= 1280


def test_the_compatibility_report_fits_1280_px(tmp_path: Path) -> None:
    old, new = wide_run(), wide_run()
    new.run_id, new.started = "later", "2026-12-31T00:00:00Z"
    new.cells[0].outcome, new.cells[0].message = "failed", LONG  # passed before
    for number, cell in enumerate(old.cells + new.cells):
        cell.image_key, cell.image_version = f"key-{number // 4}-{LONG}", ""  # builds by key
        cell.image_facts = {"package_digest": f"sha256:{number // 4}{LONG}", "os": LONG}
    page = write_compat(build_compat([Source(old, tmp_path), Source(new, tmp_path)]),
                        tmp_path)[1]
    text = page.read_text()  # the changes, a framed cell and a changed fact are there
    assert 'data-kind="regression"' in text and "state fail differs" in text
    assert '<tr data-fact="package_digest" class="differs">' in text
    assert page_width(page) <= 1280


def test_the_measure_is_of_a_1280_px_window(tmp_path: Path) -> None:
    """A page that fits measures the window itself: the test above is not passing by a wide
    default window."""
    page = tmp_path / "plain.html"
    page.write_text("<!doctype html><html><body><p>fits</p></body></html>")
    assert page_width(page) == 1280
    page.write_text(f"<!doctype html><html><body><pre>{LONG}</pre></body></html>")
    assert page_width(page) > 1280

"""JUnit XML: one testcase per cell; infrastructure problems are <error>, product ones <failure>."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.redact import redact_text
from harness.report.results import CellResult, RunResult


def step_table(cell: CellResult) -> str:
    """The cell's steps, what was expected and what happened: what a user reads first."""
    lines = []
    for step in cell.steps:
        where = f" (line {step.line})" if step.line else ""
        lines.append(f"[{step.outcome.upper():7}] step {step.index + 1}: {step.title}{where}")
        lines += [f"    expected {e}" for e in step.failures]
        for cmd in step.commands:
            if cmd.result not in ("SUCCESS", "UNCHANGED"):
                lines.append(f"    {cmd.app}@{cmd.version} {cmd.operation}: `{cmd.command}` "
                             f"exit {cmd.exit_code}: {cmd.stderr.strip()[-500:]}")
        if step.detail and step.outcome != "passed":
            lines.append(f"    {step.detail}")
    return "\n".join(lines)


def write_junit(run: RunResult, path: Path) -> Path:
    counts = run.counts()
    suites = ET.Element("testsuites", name="vmapp-harness", tests=str(len(run.cells)),
                        failures=str(counts["failed"]), errors=str(counts["error"]),
                        skipped=str(counts["skipped"]), time=f"{run.seconds:.1f}")
    suite = ET.SubElement(suites, "testsuite", name=f"vmapp run {run.run_id}",
                          tests=str(len(run.cells)), failures=str(counts["failed"]),
                          errors=str(counts["error"]), skipped=str(counts["skipped"]),
                          time=f"{run.seconds:.1f}", timestamp=run.started)
    for cell in run.cells:
        case = ET.SubElement(suite, "testcase", classname=f"scenarios.{cell.scenario}",
                             name=cell.cell_id, time=f"{cell.seconds:.1f}", file=cell.file)
        props = ET.SubElement(case, "properties")
        for name, value in (("image", cell.image), ("image_key", cell.image_key),
                            ("scenario", cell.scenario), ("accel", cell.accel),
                            ("agent", cell.agent_version), ("vm", cell.vm),
                            ("retries", str(len(cell.retries))), ("artifacts", cell.artifacts),
                            *((f"package:{k}", v) for k, v in sorted(cell.packages.items())),
                            *((f"seconds:{k}", f"{v:.1f}") for k, v in cell.timings.items())):
            ET.SubElement(props, "property", name=name, value=value)
        table = step_table(cell)
        if cell.outcome == "failed":
            ET.SubElement(case, "failure", message=cell.message, type="ProductFailure").text = table
        elif cell.outcome == "error":
            ET.SubElement(case, "error", message=cell.message,
                          type="InfrastructureError").text = table
        elif cell.outcome == "skipped":
            ET.SubElement(case, "skipped", message=cell.message)
        out = [table]
        if cell.retries:
            out.append("retried after infrastructure error(s): " +
                       "; ".join(a.error for a in cell.retries))
        if cell.kept:
            out.append(f"VM kept: {cell.login}")
        ET.SubElement(case, "system-out").text = "\n".join(out)
    ET.indent(suites)
    path.write_text(redact_text(ET.tostring(suites, encoding="unicode", xml_declaration=True)),
                    encoding="utf-8")
    return path

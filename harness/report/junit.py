"""JUnit XML: one testcase per cell; infrastructure problems are <error>, product ones <failure>.

The document follows the junit-10.xsd dialect pytest writes (``junit_family=xunit2``): no
properties or ``file`` inside testcases (a cell's details go to its system-out), no ``skipped``
count on <testsuites>.  A case is named as pytest names a scenario item: classname from the
scenario file's path relative to its repository, dots for slashes, ``.yaml`` kept
(``scenarios.tar-golang.yaml``), name ``tar-golang[debian-12]``; both routes share CI history.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.redact import write_redacted
from harness.report.results import CellResult, RunResult
from harness.settings import REPO_ROOT

# Characters XML 1.0 cannot carry even escaped (terminal colours in a command's output, NULs,
# lone surrogates): shown as \x1b / \ud800 so the document stays well-formed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


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


def _git_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def repo_path(file: str) -> str:
    """``file`` relative to the repository it sits in (the current folder's git work tree, else
    the harness's own), as CI tools want it; a file outside both stays as given."""
    given = Path(file)
    where = given if given.is_absolute() else Path.cwd() / given
    if not given.is_absolute() and not where.exists():
        return given.as_posix()  # relative to a folder we no longer know
    for root in (_git_root(Path.cwd()), REPO_ROOT):
        if root is not None and where.resolve().is_relative_to(root.resolve()):
            return Path(os.path.relpath(where.resolve(), root.resolve())).as_posix()
    return given.as_posix()


def classname(cell: CellResult) -> str:
    """pytest's classname for the cell's scenario item: its file's path, dotted."""
    return repo_path(cell.file).replace("/", ".") if cell.file else cell.scenario


def _details(cell: CellResult) -> list[str]:
    """What a CI reader wants beside the step table (the xsd has no per-case properties)."""
    lines = [f"file: {repo_path(cell.file)}" if cell.file else "",
             f"image: {cell.image} (key {cell.image_key or '-'}), accel {cell.accel or '-'}, "
             f"agent {cell.agent_version or '-'}, VM {cell.vm or '-'}",
             f"image version: {cell.image_version or '-'}" + (
                 f" (the VM asked for {cell.image_reference})" if cell.image_reference else "")
             if cell.image_version or cell.image_reference else "",
             f"artifacts: {cell.artifacts}" if cell.artifacts else "",
             f"ran in: {cell.origin}" if cell.origin else "",
             *(f"package {k}: {v}" for k, v in sorted(cell.packages.items())),
             "time: " + ", ".join(f"{k} {v:.1f}s" for k, v in cell.timings.items())
             if cell.timings else ""]
    return [line for line in lines if line]


def write_junit(run: RunResult, path: Path) -> Path:
    counts = run.counts()
    suites = ET.Element("testsuites", name="vmapp-harness", tests=str(len(run.cells)),
                        failures=str(counts["failed"]), errors=str(counts["error"]),
                        time=f"{run.seconds:.1f}")
    suite = ET.SubElement(suites, "testsuite", name=f"vmapp run {run.run_id}",
                          tests=str(len(run.cells)), failures=str(counts["failed"]),
                          errors=str(counts["error"]), skipped=str(counts["skipped"]),
                          time=f"{run.seconds:.1f}", timestamp=run.started,
                          hostname=run.host.get("hostname", ""))
    props = ET.SubElement(suite, "properties")
    for name, value in (("run_id", run.run_id), ("accel", run.accel),
                        ("accel_reason", run.accel_reason), ("interrupted", str(run.interrupted))):
        ET.SubElement(props, "property", name=name, value=value)
    for cell in run.cells:
        case = ET.SubElement(suite, "testcase", classname=classname(cell), name=cell.title,
                             time=f"{cell.seconds:.1f}")
        table = step_table(cell)
        if cell.outcome == "failed":
            ET.SubElement(case, "failure", message=cell.message, type="ProductFailure").text = table
        elif cell.outcome == "error":
            ET.SubElement(case, "error", message=cell.message,
                          type="InfrastructureError").text = table
        elif cell.outcome == "skipped":
            ET.SubElement(case, "skipped", message=cell.message)
        out = [table, *_details(cell)]
        if cell.retries:
            out.append("retried after infrastructure error(s): " +
                       "; ".join(a.error for a in cell.retries))
        if cell.kept:
            out.append(f"VM kept: {cell.login}")
        if cell.note:
            out.append(cell.note)
        ET.SubElement(case, "system-out").text = "\n".join(out)
    ET.indent(suites)
    return write_redacted(path, _NOT_XML.sub(_visible, ET.tostring(
        suites, encoding="unicode", xml_declaration=True)))

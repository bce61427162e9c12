"""The compatibility report from a real VM: the image facts its guest reported (checked against
the kernel the image boots), compat.html and compat.json beside the matrix, and `vmapp compat`
on the run's results file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema

from harness.images.build import images_dir
from harness.settings import REPO_ROOT
from tests.integration.conftest import CI_IMAGE, RunScenarios, vmapp

SCHEMA = json.loads((REPO_ROOT / "harness/report/compat.schema.json").read_text())


def bzimage_release(kernel: Path) -> str:
    """The release a bzImage announces (its header's kernel_version string): what `uname -r`
    says once it runs."""
    data = kernel.read_bytes()
    start = int.from_bytes(data[0x20E:0x210], "little") + 0x200
    return data[start:start + 256].split(b" ", 1)[0].decode()


def test_a_real_vm_reports_its_image_facts_and_the_run_its_compat_report(
        tmp_path: Path, run_scenarios: RunScenarios) -> None:
    run, folder = run_scenarios("scenarios/order-none.yaml")
    (cell,) = run.cells
    assert cell.outcome == "passed", cell.message
    facts = json.loads((folder / "results.json").read_text())["cells"][0]["image_facts"]
    assert facts == cell.image_facts
    kernel = images_dir() / f"{CI_IMAGE}-{cell.image_key}" / "vmlinuz"
    assert facts["kernel"] == bzimage_release(kernel)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", facts["package_digest"])
    assert int(facts["package_count"]) > 100
    assert facts["os"].startswith("Debian GNU/Linux 12")
    assert facts["python"].startswith("3.") and re.match(r"\d+ ", facts["systemd"])
    assert re.fullmatch(r"\d+(\.\d+)+\S*", facts["dpkg"])

    html, data = folder / "compat.html", folder / "compat.json"
    assert html.is_file() and data.is_file()
    report = json.loads(data.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    (image,) = report["images"]
    (version,) = image["versions"]
    assert (image["image"], version["key"], version["facts"]) == (CI_IMAGE, cell.image_key,
                                                                  facts)
    assert image["cells"]["order-none"][version["id"]]["state"] == "pass"
    assert facts["package_digest"] in html.read_text()

    out = tmp_path / "compat"
    done = vmapp("compat", "--results", str(folder / "results.json"), "--out", str(out),
                 reports=folder.parent)
    assert done.returncode == 0, done.stderr
    again = json.loads((out / "compat.json").read_text())
    link = again["images"][0]["cells"]["order-none"][version["id"]]["link"]
    assert (out / link.split("#")[0]).resolve() == (folder / "index.html").resolve()
    assert unlinked(again) == unlinked(report)  # the same report, its links from elsewhere


def unlinked(report: dict[str, Any]) -> str:
    return re.sub(r'"link": "[^"]*"', '"link": ""', json.dumps(report["images"]))

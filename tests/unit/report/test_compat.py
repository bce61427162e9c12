"""The compatibility report per OS image: cells grouped by image and image version, versions in
build order, what changed between consecutive versions (passed before, failing now, first), the
facts that differ, the JSON against its schema, the HTML escaped, and `vmapp compat`."""

from __future__ import annotations

import dataclasses
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.cli import main
from harness.report.compat import (
    NO_BUILD,
    CompatReport,
    Source,
    build_compat,
    state_of,
    write_compat,
)
from harness.report.results import CellResult, RunResult, read_results, write_results
from harness.runner.run import write_reports
from tests.unit.report.test_report_outputs import make_run

SCHEMA = json.loads((Path(__file__).parents[3] / "harness/report/compat.schema.json")
                    .read_text())
UNSUPPORTED = ("unsupported on stand-in: PowerShell (wine's powershell.exe is a stub that "
               "exits 0 and does nothing)")
FACTS = {"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-28-amd64",
         "systemd": "252 (252.33-1~deb12u1)", "dpkg": "1.21.22", "python": "3.11.2",
         "package_count": "412", "package_digest": "sha256:" + "a" * 64}


def cell(scenario: str, outcome: str, key: str, *, image: str = "debian-12", message: str = "",
         facts: dict[str, str] | None = None, version: str = "", machine: str = "reverted"
         ) -> CellResult:
    """A cell as a run writes it: the realistic passed cell of the report tests, renamed."""
    made = dataclasses.replace(make_run().cells[0], scenario=scenario, image=image,
                               outcome=outcome, message=message, image_key=key,
                               image_facts=dict(FACTS if facts is None else facts),
                               machine=machine, artifacts=f"cells/{scenario}-{image}",
                               image_version=version)
    return made


def run(run_id: str, started: str, cells: list[CellResult]) -> RunResult:
    return dataclasses.replace(make_run(), run_id=run_id, started=started, cells=cells)


NEW_FACTS = {**FACTS, "package_count": "413", "package_digest": "sha256:" + "b" * 64}
OLD = run("20261203-050000-aaaa", "2026-12-03T05:00:00Z", [
    cell("tar-golang", "passed", "k-old"), cell("zip-unzip", "passed", "k-old"),
    cell("order-none", "failed", "k-old", message="step 2 (x.yaml:9) expect: no"),
    cell("deb-python", "passed", "k-old"), cell("reboot-last", "error", "k-old"),
    cell("only-old", "passed", "k-old"),
    cell("tar-golang", "passed", "k13", image="debian-13")])
NEW = run("20261203-070000-bbbb", "2026-12-03T07:00:00Z", [
    cell("tar-golang", "failed", "k-new", message="step 3 (tar.yaml:20) expect: go missing",
         facts=NEW_FACTS),
    cell("zip-unzip", "passed", "k-new", facts=NEW_FACTS),
    cell("order-none", "passed", "k-new", facts=NEW_FACTS),
    cell("deb-python", "error", "k-new", facts=NEW_FACTS),
    cell("reboot-last", "failed", "k-new", facts=NEW_FACTS)])


def report(*runs: RunResult) -> CompatReport:
    return build_compat([Source(r) for r in runs])


def test_cells_group_by_image_and_build_in_build_order() -> None:
    found = report(NEW, OLD)  # given newest first: the runs' starts order them
    assert [i.image for i in found.images] == ["debian-12", "debian-13"]
    debian12 = found.images[0]
    assert [(v.id, v.runs) for v in debian12.versions] == [
        ("k-old", [OLD.run_id]), ("k-new", [NEW.run_id])]
    assert debian12.scenarios == ["deb-python", "only-old", "order-none", "reboot-last",
                                  "tar-golang", "zip-unzip"]
    assert {s: {v: c.state for v, c in row.items()} for s, row in debian12.cells.items()} == {
        "deb-python": {"k-old": "pass", "k-new": "error"}, "only-old": {"k-old": "pass"},
        "order-none": {"k-old": "fail", "k-new": "pass"},
        "reboot-last": {"k-old": "error", "k-new": "fail"},
        "tar-golang": {"k-old": "pass", "k-new": "fail"},
        "zip-unzip": {"k-old": "pass", "k-new": "pass"}}
    assert debian12.versions[0].counts == {"pass": 4, "fail": 1, "error": 1, "skip": 0,
                                           "unsupported": 0}
    assert found.runs == [OLD.run_id, NEW.run_id]


def test_passed_before_and_failing_now_come_first() -> None:
    changes = report(OLD, NEW).images[0].changes
    assert [(c.scenario, c.before, c.after, c.kind) for c in changes] == [
        ("deb-python", "pass", "error", "regression"),
        ("tar-golang", "pass", "fail", "regression"),
        ("reboot-last", "error", "fail", "worse"),
        ("order-none", "fail", "pass", "better")]
    assert {(c.before_version, c.after_version) for c in changes} == {("k-old", "k-new")}
    assert report(OLD, NEW).images[1].changes == []  # debian-13: one build, nothing to compare


def test_versions_sort_by_their_numbers_not_by_when_they_ran() -> None:
    late = run("20261203-080000-cccc", "2026-12-03T08:00:00Z",
               [cell("tar-golang", "passed", "k1", version="2026.1203.52647")])
    early = run("20261203-060000-dddd", "2026-12-03T06:00:00Z",
                [cell("tar-golang", "failed", "k2", version="2026.1203.104500")])
    unversioned = run("20261203-090000-eeee", "2026-12-03T09:00:00Z",
                      [cell("tar-golang", "passed", "k0")])
    image = report(late, early, unversioned).images[0]
    # 10:45:00 was built after 05:26:47 (as text "104500" < "52647"); a build from results
    # older than versions comes before every version
    assert [(v.id, v.label) for v in image.versions] == [
        ("k0", "build k0"), ("2026.1203.52647", "2026.1203.52647"),
        ("2026.1203.104500", "2026.1203.104500")]
    assert [(c.before_version, c.after_version, c.kind) for c in image.changes] == [
        ("2026.1203.52647", "2026.1203.104500", "regression")]


def test_the_latest_run_of_a_version_wins() -> None:
    again = run("20261203-080000-ffff", "2026-12-03T08:00:00Z",
                [cell("tar-golang", "passed", "k-new", facts=NEW_FACTS)])
    image = report(OLD, NEW, again).images[0]
    assert image.cells["tar-golang"]["k-new"].run_id == again.run_id
    assert image.versions[1].runs == [NEW.run_id, again.run_id]
    assert "tar-golang" not in {c.scenario for c in image.changes}


def test_a_cell_without_a_machine_joins_its_runs_build() -> None:
    refused = cell("gallery-refusal", "passed", "", facts={}, machine="")
    image = report(run("r1", "2026-12-03T05:00:00Z", [cell("tar-golang", "passed", "k1"),
                                                      refused])).images[0]
    assert [v.id for v in image.versions] == ["k1"]
    assert image.cells["gallery-refusal"]["k1"].state == "pass"
    alone = report(run("r2", "2026-12-03T05:00:00Z", [refused])).images[0]
    assert [(v.id, v.label) for v in alone.versions] == [(NO_BUILD, "no known build")]


def test_unsupported_on_the_stand_in_is_its_own_state() -> None:
    assert state_of(cell("win-ps", "skipped", "k", message=UNSUPPORTED)) == "unsupported"
    assert state_of(cell("win-ps", "skipped", "k", message="image not built")) == "skip"
    assert [state_of(cell("x", o, "k")) for o in ("passed", "failed", "error")] == [
        "pass", "fail", "error"]


def test_facts_per_version_and_the_facts_that_changed() -> None:
    kept = cell("tar-golang", "passed", "k-new", machine="kept",
                facts={**NEW_FACTS, "python": "3.13.0"})
    later = run("20261203-090000-gggg", "2026-12-03T09:00:00Z", [kept])
    image = report(OLD, NEW, later).images[0]
    assert image.versions[0].facts == FACTS
    assert image.versions[1].facts == NEW_FACTS  # not the kept VM's, which an engineer changed
    assert [(f.name, f.before, f.after) for f in image.fact_changes] == [
        ("package_count", "412", "413"),
        ("package_digest", "sha256:" + "a" * 64, "sha256:" + "b" * 64)]


def test_json_follows_its_schema(tmp_path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    data_path, _ = write_compat(report(OLD, NEW), tmp_path)
    data = json.loads(data_path.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["compatVersion"] == 1
    assert data["images"][0]["changes"][0] == {
        "scenario": "deb-python", "before_version": "k-old", "after_version": "k-new",
        "before": "pass", "after": "error", "kind": "regression"}
    bad = {**data, "images": [{**data["images"][0], "surprise": 1}]}
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(bad)


def described(node: Any) -> bool:
    """Every property of every object in the schema has a description."""
    if isinstance(node, dict):
        props = node.get("properties", {})
        return all("description" in p or "$ref" in p for p in props.values()) and \
            all(described(v) for v in node.values())
    return all(described(v) for v in node) if isinstance(node, list) else True


def test_schema_describes_every_key() -> None:
    assert described(SCHEMA)


class Page(HTMLParser):
    """The compat page's grid cells, change rows and fact rows."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str | None]] = []
        self.changes: list[tuple[str | None, str | None]] = []
        self.links: list[str | None] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.scripts += tag == "script"
        if tag == "td" and found.get("data-state"):
            self.cells.append(found)
        if tag == "tr" and found.get("data-kind"):
            self.changes.append((found.get("data-scenario"), found.get("data-kind")))
        if tag == "a":
            self.links.append(found.get("href"))


def page(path: Path) -> Page:
    parser = Page()
    parser.feed(path.read_text())
    return parser


def test_html_shows_the_two_builds_side_by_side_with_the_cells_that_differ(tmp_path: Path
                                                                           ) -> None:
    old_dir, new_dir, out = tmp_path / OLD.run_id, tmp_path / NEW.run_id, tmp_path / "compat"
    out.mkdir()
    _, html = write_compat(build_compat([Source(OLD, old_dir), Source(NEW, new_dir)], out), out)
    parsed = page(html)
    tar = [(c["data-version"], c["data-state"], "differs" in (c["class"] or ""))
           for c in parsed.cells if c["data-scenario"] == "tar-golang"]
    assert tar == [("k-old", "pass", False), ("k-new", "fail", True), ("k13", "pass", False)]
    zip_ = [("differs" in (c["class"] or "")) for c in parsed.cells
            if c["data-scenario"] == "zip-unzip"]
    assert zip_ == [False, False]
    assert parsed.changes[:2] == [("deb-python", "regression"), ("tar-golang", "regression")]
    assert f"../{NEW.run_id}/index.html#tar-golang[debian-12]" in parsed.links
    text = html.read_text()
    assert "package_digest" in text and "sha256:" + "b" * 64 in text


def test_html_escapes_user_text_and_carries_no_secret(tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    secret = "http://127.0.0.1:10000/x?sv=1&sig=c2VjcmV0c2VjcmV0"
    bad = run("r1", "2026-12-03T05:00:00Z", [
        cell(f"x{hostile}", "failed", f"k{hostile}", message=f"{hostile} {secret}",
             facts={"os": hostile, f"note{hostile}": secret})])
    data, html = write_compat(report(bad), tmp_path)
    parsed = page(html)
    assert parsed.scripts == 0
    assert "&lt;script&gt;" in html.read_text()
    for path in (data, html):
        assert "c2VjcmV0c2VjcmV0" not in path.read_text()
        assert "sig=REDACTED" in path.read_text()


def test_every_run_writes_its_compat_report_beside_the_matrix(tmp_path: Path) -> None:
    write_reports(NEW, tmp_path, point_latest=False)
    assert {"compat.html", "compat.json", "index.html"} <= {p.name for p in tmp_path.iterdir()}
    assert 'href="compat.html"' in (tmp_path / "index.html").read_text()
    assert "package_digest <code>sha256:" in (tmp_path / "index.html").read_text()
    assert json.loads((tmp_path / "compat.json").read_text())["runs"] == [NEW.run_id]
    assert read_results(tmp_path / "results.json").cells[0].image_facts == NEW_FACTS


def test_cli_compares_two_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for made in (OLD, NEW):
        (tmp_path / made.run_id).mkdir()
        paths.append(write_results(made, tmp_path / made.run_id))
    argv = ["compat", "--results", *map(str, paths)]
    assert main(argv) == 2
    assert "--out: 2 results files given" in capsys.readouterr().err
    assert main([*argv, "--out", str(tmp_path / "cmp")]) == 0
    assert "2 image(s), 3 version(s), 4 change(s)" in capsys.readouterr().out
    data = json.loads((tmp_path / "cmp" / "compat.json").read_text())
    assert data["images"][0]["scenarios"][0] == "deb-python"


def test_cli_defaults_to_the_latest_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("VMAPP_REPORTS_DIR", str(tmp_path))
    assert main(["compat"]) == 2
    assert "no results" in capsys.readouterr().err
    (tmp_path / NEW.run_id).mkdir()
    write_results(NEW, tmp_path / NEW.run_id)
    (tmp_path / "latest").symlink_to(NEW.run_id)
    assert main(["compat"]) == 0
    assert (tmp_path / NEW.run_id / "compat.html").is_file()
    (tmp_path / "broken.json").write_text('{"schemaVersion": 99}')
    assert main(["compat", "--results", str(tmp_path / "broken.json")]) == 2
    assert "cannot read results" in capsys.readouterr().err


def test_two_versions_run_side_by_side_are_one_image() -> None:
    """`vmapp run --image debian-12@A --image debian-12@B`: columns of one definition, compared."""
    old, new = "2026.1203.64347", "2026.1203.122452"
    both = run("20261203-125854-cee8", "2026-12-03T12:58:54Z", [
        cell("deb-offline-dependency", "passed", "k1", image=f"debian-12@{old}", version=old),
        cell("deb-offline-dependency", "failed", "k2", image=f"debian-12@{new}", version=new),
        cell("image-not-replicated", "passed", "", image=f"debian-12@{new}", machine="")])
    (image,) = report(both).images
    assert image.image == "debian-12" and [v.id for v in image.versions] == [old, new]
    assert [(c.scenario, c.kind) for c in image.changes] == [
        ("deb-offline-dependency", "regression")]
    assert image.cells["image-not-replicated"] == {new: image.cells["image-not-replicated"][new]}

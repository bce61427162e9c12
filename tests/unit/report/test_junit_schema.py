"""junit.xml validates against junit-10.xsd (the Jenkins xunit-plugin schema pytest checks its
own ``junit_family=xunit2`` output with), and names cases as the pytest route does."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema

from harness.report.junit import classname, repo_path, write_junit
from harness.report.results import CellResult
from harness.settings import REPO_ROOT
from tests.unit.report.test_report_outputs import make_run

XSD = Path(__file__).parents[2] / "data" / "junit-10.xsd"


def junit_schema() -> xmlschema.XMLSchema:
    """tests/data/junit-10.xsd as pytest's repository has it, plus one element: that copy
    declares <errors> where every JUnit reader (Jenkins, GitLab, pytest's own writer) uses
    <error>, our infrastructure errors.  Everything else is checked as written."""
    text = XSD.read_text()
    declared = '<xs:element name="errors">'
    assert text.count(declared) == 1 and text.count('<xs:element ref="errors"/>') == 1
    error = text[text.index(declared):].split("</xs:element>", 1)[0] + "</xs:element>"
    text = text.replace(declared, error.replace('"errors"', '"error"') + "\n    " + declared)
    text = text.replace('<xs:element ref="errors"/>',
                        '<xs:element ref="errors"/><xs:element ref="error"/>')
    return xmlschema.XMLSchema(text)


def test_junit_xml_is_valid(tmp_path: Path) -> None:
    run = make_run()
    run.cells[2].file = str(REPO_ROOT / "scenarios" / "tar-golang.yaml")
    path = write_junit(run, tmp_path / "junit.xml")
    assert [str(e.reason) for e in junit_schema().iter_errors(str(path))] == []


def test_the_schema_refuses_what_junit_xml_used_to_write(tmp_path: Path) -> None:
    old = ('<testsuites skipped="0"><testsuite name="s" tests="1" failures="0" errors="0">'
           '<testcase name="c" file="x.yaml"><properties><property name="a" value="b"/>'
           '</properties></testcase></testsuite></testsuites>')
    assert len(list(junit_schema().iter_errors(old))) == 3


@pytest.mark.parametrize(("file", "expected"), [
    ("scenarios/tar-golang.yaml", "scenarios/tar-golang.yaml"),
    (str(REPO_ROOT / "scenarios" / "tar-golang.yaml"), "scenarios/tar-golang.yaml"),
    ("gone/x.yaml", "gone/x.yaml"),
    ("/elsewhere/x.yaml", "/elsewhere/x.yaml"),
])
def test_repo_path(file: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    assert repo_path(file) == expected


def test_repo_path_follows_where_the_user_stands(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from inside a scenario folder of another repository: still relative to its root."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "library").mkdir()
    (tmp_path / "library" / "mine.yaml").write_text("")
    monkeypatch.chdir(tmp_path / "library")
    assert repo_path("mine.yaml") == "library/mine.yaml"
    assert repo_path(str(tmp_path / "library" / "mine.yaml")) == "library/mine.yaml"


def test_classname_is_pytests(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest's junitxml: node id ``scenarios/tar-golang.yaml::tar-golang[debian-12]`` becomes
    classname ``scenarios.tar-golang.yaml``, name ``tar-golang[debian-12]``."""
    monkeypatch.chdir(REPO_ROOT)
    cell = CellResult(scenario="tar-golang", image="debian-12",
                      file=str(REPO_ROOT / "scenarios" / "tar-golang.yaml"))
    assert (classname(cell), cell.cell_id) == ("scenarios.tar-golang.yaml",
                                               "tar-golang[debian-12]")

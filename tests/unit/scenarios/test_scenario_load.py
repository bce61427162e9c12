"""Valid scenarios load into the model the runner uses: every shipped file, ARM bodies, includes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from harness.errors import ConfigErrors
from harness.packages.build import PackageSpec
from harness.scenario import model
from harness.scenario.load import load_all, load_scenario, scenario_files
from harness.settings import REPO_ROOT

VALID = Path(__file__).parent / "valid"
SHIPPED = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
INTEGRATION = sorted((REPO_ROOT / "tests" / "integration" / "scenarios").glob("*.yaml"))


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_there_are_shipped_scenarios() -> None:
    assert "tar-golang.yaml" in [p.name for p in SHIPPED]
    assert INTEGRATION


@pytest.mark.usefixtures("no_spawn")
@pytest.mark.parametrize("path", SHIPPED + INTEGRATION, ids=lambda p: p.name)
def test_every_shipped_scenario_loads(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description
    assert scenario.steps
    for step in scenario.steps:
        for entry in step.profile:
            assert entry.app in scenario.apps
            assert entry.version == "latest" or entry.version in scenario.apps[entry.app].versions


def test_tar_golang_model(no_spawn: None) -> None:
    scenario = load_scenario(REPO_ROOT / "scenarios" / "tar-golang.yaml")
    assert scenario.images == ("debian-11", "debian-12", "debian-13", "debian-testing")
    assert scenario.rule.startswith('Linux tips, ".tar and .gz files": the golang example')
    assert "\n" not in scenario.rule  # folded to one line, as the coverage table shows it
    assert scenario.markers == ("demo", "library", "pattern-tar", "ci")
    assert (scenario.location, scenario.vm_location) == ("eastus", "eastus")
    version = scenario.apps["go_linux"].versions["1.0.0"]
    assert version.package == model.BlobSpec(package=PackageSpec(
        root=REPO_ROOT / "scenarios", source="golang", format="tar.gz"))
    assert version.install == "tar -C /usr/local -xzf go_linux"
    assert version.remove == "rm -rf /usr/local/go"
    assert [s.title for s in scenario.steps] == [
        "deploy go_linux@1.0.0", "expect", "remove go_linux", "expect"]
    deploy, expect, remove, _ = scenario.steps
    assert deploy.profile == (model.ProfileEntry(app="go_linux", version="1.0.0", order=1),)
    assert (deploy.line, expect.line, remove.line) == (20, 22, 30)
    assert expect.extension == "success"
    assert expect.app_expectations == (
        model.AppExpectation(app="go_linux", version="1.0.0", result="Install SUCCESS"),)
    first = expect.checks[0]
    assert (first.kind, first.target, first.wanted, first.line) == (
        "file", "/usr/local/go/bin/go", {"exists": True, "mode": "0755"}, 27)
    assert remove.apps == ("go_linux",)


def test_arm_body_gives_the_same_versions_as_the_short_form(no_spawn: None) -> None:
    scenario = load_scenario(VALID / "arm-and-include.yaml")
    arm, short = scenario.apps["arm_app"], scenario.apps["short_app"]
    assert (arm.os, arm.description) == (short.os, short.description)
    assert list(arm.versions) == list(short.versions) == ["1.0.0", "2.0.0"]
    for number, version in arm.versions.items():
        assert dataclasses.replace(version, app="short_app") == short.versions[number]


def test_arm_body_fields_land_in_the_model(no_spawn: None) -> None:
    version = load_scenario(VALID / "arm-and-include.yaml").apps["arm_app"].versions["1.0.0"]
    assert version.package == model.BlobSpec(
        url="https://example.blob.core.windows.net/apps/app.tar.gz")
    assert version.config == model.BlobSpec(
        url="https://example.blob.core.windows.net/apps/app.cfg")
    assert (version.install, version.remove, version.update) == (
        "tar -xzf app && ./install.sh", "./uninstall.sh", "./update.sh")
    profile = version.profile  # the publishingProfile as written, but for its source links
    assert "source" not in profile
    assert profile["settings"] == {"packageFileName": "app.tar.gz", "configFileName": "app.cfg",
                                   "scriptBehaviorAfterReboot": "Rerun"}
    assert profile["excludeFromLatest"] is True
    assert profile["endOfLifeDate"] == "2030-01-01T00:00:00Z"
    assert profile["targetRegions"] == [
        {"name": "eastus", "regionalReplicaCount": 2, "storageAccountType": "Standard_ZRS"}]
    assert (profile["replicaCount"], profile["storageAccountType"]) == (2, "Standard_ZRS")


def test_arm_body_with_harness_package(no_spawn: None) -> None:
    version = load_scenario(VALID / "arm-and-include.yaml").apps["arm_app"].versions["2.0.0"]
    assert version.package.package == PackageSpec(root=VALID, source="golang", format="tar.gz")
    assert version.config is None
    assert "replicaCount" not in version.profile  # the gallery's defaults apply


def test_included_definitions_are_merged_first(no_spawn: None) -> None:
    scenario = load_scenario(VALID / "arm-and-include.yaml")
    assert list(scenario.apps) == ["tool", "arm_app", "short_app"]
    tool = scenario.apps["tool"].versions
    assert tool["1.0.0"].package.content == "tool package"
    assert tool["1.1.0"].package.content == "tool package 1.1"  # YAML merge key, overridden
    assert tool["1.1.0"].install == "mkdir -p /opt/tool"  # ... and inherited
    assert scenario.steps[0].profile[2] == model.ProfileEntry(app="tool", version="1.1.0")


def test_scenario_made_only_of_includes(tmp_path: Path, no_spawn: None) -> None:
    write(tmp_path, "defs/one.yaml", "gallery:\n  applications:\n    one:\n      versions:\n"
          "        1.0.0: {package: {content: x}, install: i, remove: r}\n")
    path = write(tmp_path, "scenario.yaml", "description: d\ninclude: [defs/one.yaml]\n"
                 "steps:\n  - deploy: [{app: one, version: latest}]\n")
    scenario = load_scenario(path)
    assert list(scenario.apps) == ["one"]
    assert scenario.location == "eastus"


def test_included_file_may_only_hold_applications(tmp_path: Path, no_spawn: None) -> None:
    shared = write(tmp_path, "defs/one.yaml", "description: not here\ngallery:\n"
                   "  applications: {}\n")
    path = write(tmp_path, "scenario.yaml", "description: d\ninclude: [defs/one.yaml]\n"
                 "steps:\n  - reboot:\n")
    with pytest.raises(ConfigErrors) as caught:
        load_scenario(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:1 gallery: no applications: define gallery.applications or include a file "
        "that does",
        f"{shared}:1 description: unknown key; allowed: gallery"]


def test_included_file_template_error_names_that_file(tmp_path: Path, no_spawn: None) -> None:
    shared = write(tmp_path, "defs/one.yaml", "gallery:\n  applications: {{ apps }}\n")
    path = write(tmp_path, "scenario.yaml", "description: d\ninclude: [defs/one.yaml]\n"
                 "gallery:\n  applications:\n    a:\n      versions:\n"
                 "        1.0.0: {package: {content: x}, install: i, remove: r}\n"
                 "steps:\n  - deploy: [{app: a, version: 1.0.0}]\n")
    with pytest.raises(ConfigErrors) as caught:
        load_scenario(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{shared}:2: template error: 'apps' is undefined"]


def test_defaults(tmp_path: Path, no_spawn: None) -> None:
    path = write(tmp_path, "s.yaml", "description: d\ngallery:\n  location: westeurope\n"
                 "  applications:\n    a:\n      versions:\n"
                 "        1.0.0: {package: {content: x}, install: i, remove: r}\n"
                 "steps:\n  - reboot:\n  - wait: 1.5\n"
                 "  - fault: {kind: sas-expired, app: a, version: 1.0.0}\n"
                 "  - fault: {kind: network-cut}\n")
    scenario = load_scenario(path)
    assert scenario.images == ("debian-12",)
    assert (scenario.location, scenario.vm_location) == ("westeurope", "westeurope")
    assert (scenario.command_timeout, scenario.interpreter, scenario.config_naming) == (
        900, "/bin/sh", "underscore")
    app = scenario.apps["a"]
    assert (app.os, app.description) == ("Linux", "")
    version = app.versions["1.0.0"]
    assert version.package == model.BlobSpec(content="x")
    assert (version.update, version.config) == (None, None)
    assert version.profile == {"manageActions": {"install": version.install,
                                                 "remove": version.remove}}
    assert [s.title for s in scenario.steps] == [
        "reboot", "wait 1.5s", "fault sas-expired a@1.0.0", "fault network-cut"]


def test_step_errors_for_faults_and_checks(tmp_path: Path, no_spawn: None) -> None:
    path = write(tmp_path, "s.yaml", "description: d\ngallery:\n  applications:\n    a:\n"
                 "      versions:\n"
                 "        1.0.0: {package: {content: x}, install: i, remove: r}\n"
                 "        1.0.1: {package: {url: 'https://x/p'}, install: i, remove: r}\n"
                 "steps:\n"
                 "  - fault: {kind: blob-missing}\n"
                 "  - fault: {kind: network-cut, app: a}\n"
                 "  - fault: {kind: sas-expired, app: a, version: latest}\n"
                 "  - remove: [b]\n"
                 "  - expect:\n      checks:\n        - {file: /x, mode: rwxr-xr-x}\n"
                 "  - []\n"
                 "  - fault: {kind: blob-missing, app: a}\n"
                 "  - fault: {kind: sas-expired, app: a, version: 1.0.1}\n"
                 "  - fault: {kind: sas-expired, app: a, version: 1.0.0}\n")
    with pytest.raises(ConfigErrors) as caught:
        load_scenario(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:9 steps[0].fault: a blob-missing fault names the 'app' whose blobs it breaks",
        f"{path}:10 steps[1].fault.app: a network-cut fault concerns the whole VM; drop 'app'",
        f"{path}:11 steps[2].fault.version: application 'a' has no version 'latest' "
        "(defined: 1.0.0, 1.0.1)",
        f"{path}:12 steps[3].remove[0]: unknown application 'b'; define it under "
        "gallery.applications",
        f"{path}:15 steps[4].expect.checks[0].mode: 'rwxr-xr-x' is not an octal mode like "
        "\"0755\"",
        f"{path}:16 steps[5]: a step is a mapping with exactly one of: deploy, update, remove, "
        "publish, reboot, wait, fault, expect",
        f"{path}:17 steps[6].fault.kind: a@1.0.1 is an existing URL the harness did not upload; "
        "a blob-missing fault needs a package it builds or uploads",
        f"{path}:18 steps[7].fault.kind: a@1.0.1 is an existing URL the harness did not upload; "
        "a sas-expired fault needs a package it builds or uploads"]


def test_version_names_and_package_sources_are_checked(tmp_path: Path, no_spawn: None) -> None:
    (tmp_path / "packages" / "golang").mkdir(parents=True)
    path = write(tmp_path, "s.yaml", "description: d\ngallery:\n  applications:\n    a:\n"
                 "      versions:\n"
                 "        '1.0': {package: {content: x}, install: i, remove: r}\n"
                 "        1.0.1: {package: {source: golag}, install: i, remove: r}\n"
                 "        1.0.2: {package: {source: golang, format: file}, install: i, "
                 "remove: r}\n"
                 "        1.0.3: {package: {content: x, url: 'http://x'}, install: i, "
                 "remove: r}\n"
                 "steps:\n  - deploy: [{app: a, version: '1.0'}]\n  - []\n")
    with pytest.raises(ConfigErrors) as caught:
        load_scenario(path)
    v = "gallery.applications.a.versions"
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:6 {v}.1.0: version '1.0' is not Major.Minor.Patch (whole numbers of ASCII "
        "digits up to 2147483647, e.g. 1.0.0)",
        f"{path}:7 {v}.1.0.1.package.source: no package source folder packages/golag beside "
        "the scenario file (did you mean 'golang'?)",
        f"{path}:8 {v}.1.0.2.package: 'member' (the file to publish) goes with format: file, "
        "and only with it",
        f"{path}:9 {v}.1.0.3.package: give exactly one of 'source' (a folder of packages/ "
        "beside the scenario, built), 'file' (a ready-made package file, uploaded as is), "
        "'content' (inline text) or 'url' (an existing blob)",
        f"{path}:12 steps[1]: a step is a mapping with exactly one of: deploy, update, remove, "
        "publish, reboot, wait, fault, expect"]


def test_load_all_collects_errors_of_every_file(tmp_path: Path, no_spawn: None) -> None:
    good = write(tmp_path, "good.yaml", "description: d\ngallery:\n  applications:\n    a:\n"
                 "      versions:\n"
                 "        1.0.0: {package: {content: x}, install: i, remove: r}\n"
                 "steps:\n  - deploy: [{app: a, version: 1.0.0}]\n")
    bad1 = write(tmp_path, "bad1.yaml", "description: [1\n")
    bad2 = write(tmp_path, "bad2.yaml", "description: d\nsteps: 3\n")
    assert [s.name for s in load_all([good])] == ["good"]
    with pytest.raises(ConfigErrors) as caught:
        load_all([bad1, good, bad2])
    assert [str(e) for e in caught.value.errors] == [
        f"{bad1}:2: invalid YAML: expected ',' or ']', but got '<stream end>'",
        f"{bad2}:1 gallery: no applications: define gallery.applications or include a file "
        "that does",
        f"{bad2}:2 steps: must be a list, got 3"]


def test_scenario_files_expands_folders_only(tmp_path: Path) -> None:
    write(tmp_path, "b.yaml", "")
    write(tmp_path, "a.yaml", "")
    write(tmp_path, "shared/c.yaml", "")
    write(tmp_path, "notes.txt", "")
    single = write(tmp_path, "other/x.yml", "")
    assert scenario_files([tmp_path, single]) == [tmp_path / "a.yaml", tmp_path / "b.yaml",
                                                   single]


def test_publish_expectations_load_as_version_and_text(tmp_path: Path, no_spawn: None) -> None:
    path = write(tmp_path, "empty.yaml", """\
description: an empty package is refused when published
gallery:
  applications:
    empty:
      versions:
        1.0.0: {package: {content: ""}, install: "true", remove: "true"}
        2.0.0: {package: {content: "x"}, install: "true", remove: "true"}
steps:
  - expect:
      publish_errors: {empty@1.0.0: "is empty.", empty@2.0.0: null}
""")
    (expect,) = load_scenario(path).steps
    assert expect.publish_errors == (("empty@1.0.0", "is empty."), ("empty@2.0.0", None))

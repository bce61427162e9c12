"""Every file in invalid/ is rejected with exactly the errors listed here, before any process."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import cli
from harness.errors import ConfigError, ConfigErrors
from harness.scenario.load import load_scenario

HERE = Path(__file__).parent / "invalid"
SHARED = HERE / "shared"
ALLOWED_KEYS = ("config, configFileName, endOfLifeDate, excludeFromLatest, install, package, "
                "packageFileName, remove, replicaCount, scriptBehaviorAfterReboot, "
                "storageAccountType, targetRegions, update")
STEPS = "deploy, update, remove, publish, reboot, wait, fault, expect"
V1 = "gallery.applications.hello.versions.1.0.0"
ARM = f"{V1}.properties.publishingProfile"
IMAGE_VERSION_HINT = ("Major.Minor.Patch (a build's, e.g. 2026.1203.64347: `vmapp images list` "
                      "shows them)")

# file -> its errors, this file's by line and then included files', each written as
# "<where> <field>: <problem>" where <where> is ":<line>" in this file or a full "<file>:<line>".
EXPECTED: dict[str, list[str]] = {
    "misspelt-key.yaml": [
        ":6 gallery.applications.hello.supportedOsType: unknown key (did you mean "
        "'supportedOSType'?); allowed: description, supportedOSType, versions"],
    "unknown-step.yaml": [
        f":12 steps[0].deplyo: unknown step (did you mean 'deploy'?); steps are: {STEPS}"],
    "missing-required.yaml": [f":7 {V1}: missing required key 'remove'"],
    "wrong-type.yaml": [":14 steps[1].wait: must be an integer or a number, got '30s'"],
    "unknown-app.yaml": [
        ":13 steps[0].deploy[0].app: unknown application 'go_linx' (did you mean "
        "'go_linux'?); define it under gallery.applications"],
    "unknown-version.yaml": [
        ":13 steps[0].deploy[0].version: application 'go_linux' has no version '2.0.0' "
        "(defined: 1.0.0, or 'latest')"],
    "check-two-kinds.yaml": [
        ":17 steps[1].expect.checks[1]: a check names exactly one of file, command, package, "
        "service, user, registry, product; this one names file, command"],
    "bad-yaml.yaml": [":9: invalid YAML: expected ',' or '}', but got ':'"],
    "template-syntax.yaml": [
        ":12: template error: Encountered unknown tag 'endfro'. Jinja was looking for the "
        "following tags: 'endfor' or 'else'. The innermost block that needs to be closed is "
        "'for'."],
    "template-undefined.yaml": [":8: template error: 'greeting' is undefined"],
    "duplicate-key.yaml": [f":10 {V1}.install: duplicate key 'install'"],
    "several-errors.yaml": [
        ":3 imagse: unknown key (did you mean 'images'?); allowed: agent, description, "
        "gallery, images, include, markers, rule, steps, vm",
        ":5 agent.interpreter: must be one of '/bin/sh', '/bin/bash', got '/bin/zsh' "
        "(did you mean '/bin/sh'?)",
        ":16 steps[0].deploy[0].app: unknown application 'helo' (did you mean 'hello'?); "
        "define it under gallery.applications",
        ":20 steps[2].expect.applications.hello.version: application 'hello' has no version "
        "'9.9.9' (defined: 1.0.0)",
        ":22 steps[2].expect.checks[0].exists: a command check cannot assert 'exists'; it can "
        "assert: exit_code, stdout_contains, stderr_contains",
        f":23 steps[3].restart: unknown step; steps are: {STEPS}"],
    "arm-two-sources.yaml": [
        f":12 {ARM}.source.mediaLink: give either properties.publishingProfile.source.mediaLink"
        " or the harness's 'package', not both"],
    "arm-no-source.yaml": [
        f":9 {V1}: missing properties.publishingProfile.source.mediaLink (or a harness "
        "'package' built from packages/ beside the scenario, or a 'file')",
        f":10 {V1}.location: 'East US' is not the gallery's location 'westeurope'; set "
        "gallery.location or drop this one"],
    "arm-schema.yaml": [
        ":6 gallery.applications.hello.properties.supportedOSType: must be one of 'Linux', "
        "'Windows', got 'linux' (did you mean 'Linux'?)",
        f":12 {ARM}.manageActions: missing required key 'remove'",
        f":13 {ARM}.settings.packageFilename: unknown key (did you mean 'packageFileName'?); "
        "allowed: configFileName, packageFileName, scriptBehaviorAfterReboot",
        f":13 {ARM}.settings.scriptBehaviorAfterReboot: must be one of 'None', 'Rerun', got "
        "'rerun' (did you mean 'Rerun'?)"],
    "publish-errors.yaml": [
        ":14 steps[0].expect.publish_errors.hello: name a version as 'app@version', got 'hello'",
        ":15 steps[0].expect.publish_errors.helo@1.0.0: unknown application 'helo' (did you "
        "mean 'hello'?); define it under gallery.applications",
        ":16 steps[0].expect.publish_errors.hello@2.0.0: application 'hello' has no version "
        "'2.0.0' (defined: 1.0.0)"],
    "image-refs.yaml": [
        ":5 vm.imageReference: give vm.image or vm.imageReference, not both",
        ":8 gallery.images.debian-21: no image recipe named 'debian-21' (did you mean "
        "'debian-13'?) (known: debian-11, debian-12, debian-13, debian-testing, windows-wine); "
        "an image definition is a recipe's name",
        ":12 gallery.images.debian-12.versions.newst: 'newst' is not newest or a version name "
        f"{IMAGE_VERSION_HINT} (did you mean 'newest'?)",
        ":14 gallery.images.debian-13.needs_versions: must be at least 1, got 0",
        ":16 gallery.images.debian-13.versions.1.0.0.excludeFromLatst: unknown key (did you "
        "mean 'excludeFromLatest'?); allowed: endOfLifeDate, excludeFromLatest, replicaCount, "
        "storageAccountType, targetRegions"],
    "image-version.yaml": [
        f":3 vm.image.version: '1.2' is not latest, newest or a version name {IMAGE_VERSION_HINT}"],
    "image-definition.yaml": [
        ":4 vm.image.definition: no image recipe named 'debain-12' (did you mean 'debian-12'?) "
        "(known: debian-11, debian-12, debian-13, debian-testing, windows-wine); an image "
        "definition is a recipe's name"],
    "image-reference.yaml": [
        ":4 vm.imageReference.id: names the image definition 'debian-13': the scenario runs on "
        "that image only (images: [debian-13], or leave images out)"],
    "include-conflict.yaml": [
        f":6 gallery.applications.hello: application 'hello' is already defined at "
        f"{SHARED / 'hello.yaml'}:4"],
    "include-broken.yaml": [
        f":3 include[1]: no such file {SHARED / 'missing.yaml'} (paths are relative to the "
        "scenario file)",
        f"{SHARED / 'broken.yaml'}:9 gallery.applications.broken.versions.1.0.0.remvoe: "
        f"unknown key (did you mean 'remove'?); allowed: {ALLOWED_KEYS}"],
}


def expected_lines(name: str) -> list[str]:
    return [line if line.startswith("/") else f"{HERE / name}{line}" for line in EXPECTED[name]]


def problems(path: Path) -> list[str]:
    try:
        load_scenario(path)
    except ConfigErrors as exc:
        return [str(e) for e in exc.errors]
    except ConfigError as exc:
        return [str(exc)]
    raise AssertionError(f"{path} loaded without errors")


def test_every_invalid_file_has_its_expected_errors_listed() -> None:
    assert sorted(p.name for p in HERE.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.usefixtures("no_spawn")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_invalid_scenario_reports_exact_errors(name: str) -> None:
    assert problems(HERE / name) == expected_lines(name)


def test_errors_carry_file_line_and_field_separately(no_spawn: None) -> None:
    with pytest.raises(ConfigErrors) as caught:
        load_scenario(HERE / "unknown-version.yaml")
    (error,) = caught.value.errors
    assert (error.file, error.line, error.field) == (
        str(HERE / "unknown-version.yaml"), 13, "steps[0].deploy[0].version")


def test_cli_run_rejects_invalid_file_with_exit_2(no_spawn: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["run", str(HERE / "several-errors.yaml")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "vmapp: 6 error(s):", *(f"  {line}" for line in expected_lines("several-errors.yaml"))]


def test_cli_run_reports_every_files_errors_together(no_spawn: None,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["run", str(HERE / "unknown-app.yaml"), str(HERE / "wrong-type.yaml")])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "vmapp: 2 error(s):",
        *(f"  {line}" for line in expected_lines("unknown-app.yaml")
          + expected_lines("wrong-type.yaml"))]


def test_cli_run_single_file_error_is_one_line(no_spawn: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["run", str(HERE / "no-such-file.yaml")])
    assert code == 2
    assert capsys.readouterr().err == (
        f"vmapp: {HERE / 'no-such-file.yaml'}: no such scenario file or folder\n")

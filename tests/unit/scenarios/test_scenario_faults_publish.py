"""The `command-fails`, `disk-full`, `disk-freed` and `storage-restart` faults and the `publish`
step: what loads, and every error they can raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigErrors
from harness.runner.faults import FAULT_HANDLERS
from harness.scenario import model
from harness.scenario.load import load_scenario
from harness.scenario.schema import FAULT_KEYS

APPS = ("description: d\ngallery:\n  applications:\n    a:\n      versions:\n"
        "        1.0.0: {package: {content: x}, install: i, remove: r}\n"
        "        1.1.0: {package: {content: y}, install: i, remove: r, update: u}\n"
        "steps:\n")


def load(tmp_path: Path, steps: str) -> model.Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(APPS + steps)
    return load_scenario(path)


def errors(tmp_path: Path, steps: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load(tmp_path, steps)
    return [str(e).split(" ", 1)[1] for e in caught.value.errors]


def test_every_fault_kind_of_the_schema_has_a_handler_and_no_handler_is_orphaned() -> None:
    assert set(FAULT_KEYS) == set(FAULT_HANDLERS)


def test_command_fails_loads_with_its_defaults_and_options(tmp_path: Path, no_spawn: None) -> None:
    scenario = load(tmp_path, "  - fault: {kind: command-fails, app: a}\n"
                    "  - fault: {kind: command-fails, app: a, version: 1.1.0, operation: update,"
                    " exit_code: 42}\n")
    faults = [step.fault for step in scenario.steps]
    assert faults == [
        model.Fault(kind="command-fails", app="a"),
        model.Fault(kind="command-fails", app="a", version="1.1.0", operation="update",
                    exit_code=42)]
    assert [s.title for s in scenario.steps] == [
        "fault command-fails a install (exit 1)",
        "fault command-fails a@1.1.0 update (exit 42)"]


def test_command_fails_errors(tmp_path: Path, no_spawn: None) -> None:
    assert errors(tmp_path, "  - fault: {kind: command-fails}\n"
                  "  - fault: {kind: command-fails, app: a, version: 1.0.0, operation: update}\n"
                  "  - fault: {kind: command-fails, app: a, exit_code: 0}\n"
                  "  - fault: {kind: command-fails, app: a, operation: uninstall}\n"
                  "  - fault: {kind: blob-missing, app: a, exit_code: 3}\n"
                  "  - fault: {kind: network-cut, operation: install}\n") == [
        "steps[0].fault: a command-fails fault names the 'app' whose command fails",
        "steps[1].fault.operation: no version of 'a' named here has an update command to fail",
        "steps[2].fault.exit_code: must be at least 1, got 0",
        "steps[3].fault.operation: must be one of 'install', 'update', 'remove', got "
        "'uninstall' (did you mean 'install'?)",
        "steps[4].fault.exit_code: a blob-missing fault takes 'app', 'version'; drop 'exit_code'",
        "steps[5].fault.operation: a network-cut fault concerns the whole VM; drop 'operation'"]


def test_disk_and_storage_faults_load_with_their_defaults_and_options(tmp_path: Path,
                                                                      no_spawn: None) -> None:
    scenario = load(tmp_path, "  - fault: {kind: disk-full}\n"
                    "  - fault: {kind: disk-full, free_kib: 32}\n"
                    "  - fault: {kind: disk-freed}\n"
                    "  - fault: {kind: storage-restart}\n"
                    "  - fault: {kind: storage-restart, seconds: 2.5}\n")
    assert [step.fault for step in scenario.steps] == [
        model.Fault(kind="disk-full", free_kib=4), model.Fault(kind="disk-full", free_kib=32),
        model.Fault(kind="disk-freed"), model.Fault(kind="storage-restart", seconds=10.0),
        model.Fault(kind="storage-restart", seconds=2.5)]
    assert [s.title for s in scenario.steps] == [
        "fault disk-full (4 KiB free)", "fault disk-full (32 KiB free)", "fault disk-freed",
        "fault storage-restart (back 10 s into the next goal state)",
        "fault storage-restart (back 2.5 s into the next goal state)"]


def test_disk_and_storage_fault_errors(tmp_path: Path, no_spawn: None) -> None:
    assert errors(tmp_path, "  - fault: {kind: disk-freed}\n"
                  "  - fault: {kind: disk-full, free_kib: 2}\n"
                  "  - fault: {kind: disk-freed}\n"
                  "  - fault: {kind: disk-freed}\n"
                  "  - fault: {kind: disk-full, app: a}\n"
                  "  - fault: {kind: storage-restart, seconds: -1}\n"
                  "  - fault: {kind: storage-restart, free_kib: 8}\n") == [
        "steps[0].fault.kind: a disk-freed fault gives back the room a disk-full fault took; "
        "no disk-full fault is in force here",
        "steps[1].fault.free_kib: must be at least 4, got 2",
        "steps[3].fault.kind: a disk-freed fault gives back the room a disk-full fault took; "
        "no disk-full fault is in force here",
        "steps[4].fault.app: a disk-full fault takes 'free_kib'; drop 'app'",
        "steps[5].fault.seconds: must be at least 0, got -1",
        "steps[6].fault.free_kib: a storage-restart fault takes 'seconds'; drop 'free_kib'"]


def test_publish_holds_its_versions_back_until_the_step(tmp_path: Path, no_spawn: None) -> None:
    scenario = load(tmp_path, "  - deploy: [{app: a, version: 1.0.0, "
                    "enableAutomaticUpgrade: true}]\n  - publish: [{app: a, version: 1.1.0}]\n")
    assert scenario.held_back == {"a@1.1.0"}
    assert scenario.steps[1].title == "publish a@1.1.0"
    assert scenario.steps[0].profile[0].enable_automatic_upgrade


def test_publish_errors(tmp_path: Path, no_spawn: None) -> None:
    assert errors(tmp_path, "  - publish: [{app: a, version: 2.0.0}, {app: b, version: 1.0.0}]\n"
                  "  - publish: [{app: a, version: 1.1.0}]\n"
                  "  - publish: [{app: a, version: 1.1.0}]\n"
                  "  - publish: [{app: a}]\n") == [
        "steps[0].publish[0].version: application 'a' has no version '2.0.0' "
        "(defined: 1.0.0, 1.1.0)",
        "steps[0].publish[1].app: unknown application 'b'; define it under gallery.applications",
        "steps[2].publish[0]: a@1.1.0 is published by an earlier publish step",
        "steps[3].publish[0]: missing required key 'version'"]

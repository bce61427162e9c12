"""Goal-state validation (every bad field named), CLI errors, and the agent file's own limits."""

from __future__ import annotations

import ast
import copy
import sys
from typing import Any

import pytest
from agent_guest import AGENT, Guest

from harness.agent import vmapp_agent
from harness.agent.vmapp_agent import AgentError, validate_goal_state


def minimal() -> dict[str, Any]:
    return {"sequenceNumber": 1, "os": "linux", "applications": [
        {"name": "go", "version": "1.0.0", "packageReferenceId": "/x/go/versions/1.0.0",
         "packageUrl": "http://127.0.0.1:1/go", "install": "true", "remove": "true"}]}


def test_minimal_goal_state_gets_the_seed_defaults() -> None:
    goal = validate_goal_state(minimal(), "linux")
    assert goal["options"] == {"interpreter": "/bin/sh", "configNaming": "underscore",
                               "commandTimeoutSeconds": 900.0, "downloadRetrySeconds": 120}
    app = goal["applications"][0]
    assert (app["order"], app["configUrl"], app["update"], app["packageFileName"]) == (
        None, None, None, None)
    assert (app["treatFailureAsDeploymentFailure"], app["scriptBehaviorAfterReboot"]) == (
        False, "None")


def test_empty_optional_strings_mean_absent() -> None:
    goal = minimal()
    goal["applications"][0].update(update="", configUrl="", packageFileName="")
    app = validate_goal_state(goal, "linux")["applications"][0]
    assert (app["update"], app["configUrl"], app["packageFileName"]) == (None, None, None)


BAD = [
    (lambda g: g.pop("sequenceNumber"), "sequenceNumber: required, a non-negative integer"),
    (lambda g: g.update(sequenceNumber=True), "sequenceNumber: required"),
    (lambda g: g.update(os="windows"), "os: the goal state is for windows but this agent runs "
                                       "as linux"),
    (lambda g: g.update(extra=1), "extra: unknown field"),
    (lambda g: g.update(options={"interpreter": "/bin/zsh"}), "options.interpreter: must be one "
                                                              "of /bin/sh, /bin/bash"),
    (lambda g: g.update(options={"configNaming": "dot"}), "options.configNaming:"),
    (lambda g: g.update(options={"commandTimeoutSeconds": 0}), "options.commandTimeoutSeconds:"),
    (lambda g: g.update(applications={}), "applications: required, a list"),
    (lambda g: g["applications"][0].pop("install"), "applications[0].install: required"),
    (lambda g: g["applications"][0].update(remove="  "), "applications[0].remove: must not be"),
    (lambda g: g["applications"][0].update(install="x" * 4097), "at most 4096 characters"),
    (lambda g: g["applications"][0].update(order="1"), "applications[0].order: must be an "
                                                       "integer or null"),
    (lambda g: g["applications"][0].update(order=True), "applications[0].order:"),
    (lambda g: g["applications"][0].update(name="../etc"), "applications[0].name: must be"),
    (lambda g: g["applications"][0].update(name="app."), "applications[0].name:"),
    (lambda g: g["applications"][0].update(version="1.0"), "applications[0].version:"),
    (lambda g: g["applications"][0].update(version="1.0.4294967296"), "32-bit integer"),
    (lambda g: g["applications"][0].update(packageUrl="ftp://x/y"), "applications[0].packageUrl"),
    (lambda g: g["applications"][0].update(packageFileName="a/b"), "plain file name"),
    (lambda g: g["applications"][0].update(configFileName="go", configUrl="http://h/c"),
     "applications[0].configFileName: same as the package file name"),
    (lambda g: g["applications"][0].update(scriptBehaviorAfterReboot="Always"),
     "applications[0].scriptBehaviorAfterReboot: must be 'None' or 'Rerun'"),
    (lambda g: g["applications"][0].update(treatFailureAsDeploymentFailure="yes"),
     "applications[0].treatFailureAsDeploymentFailure: must be true or false"),
    (lambda g: g["applications"][0].update(colour="red"), "applications[0].colour: unknown field"),
    (lambda g: g["applications"].append(copy.deepcopy(g["applications"][0])),
     "applications[1].name: 'go' appears more than once"),
    # Hostile values: each must be refused here, not fail (or pass) later.
    (lambda g: g.update(sequenceNumber=10**300), "sequenceNumber: required, a non-negative"),
    (lambda g: g["applications"][0].update(name="go\n"), "applications[0].name: must be"),
    (lambda g: g["applications"][0].update(version="1.0.0\n"), "applications[0].version:"),
    (lambda g: g["applications"][0].update(version="\u0661.0.0"), "applications[0].version:"),
    (lambda g: g["applications"][0].update(install="true\x00"),
     "applications[0].install: must not contain NUL"),
    (lambda g: g["applications"][0].update(packageFileName="go\x00"),
     "applications[0].packageFileName: must be a plain file name"),
    (lambda g: g["applications"][0].update(packageUrl="http://[::1/go"),
     "applications[0].packageUrl: must be a valid URL"),
    (lambda g: g["applications"][0].update(packageUrl="http://h:99999/go"),
     "applications[0].packageUrl: must be a valid URL"),
    (lambda g: g["applications"][0].update(packageUrl="http://h/a b"),
     "applications[0].packageUrl: must be a valid URL"),
    (lambda g: g["applications"][0].update(packageUrl="http:///go"),
     "applications[0].packageUrl: must be a valid URL"),
    (lambda g: g["applications"][0].update(packageUrl="http://h/\u00fc"),
     "applications[0].packageUrl: must be a valid URL"),
    (lambda g: g.update(options={"commandTimeoutSeconds": float("nan")}),
     "options.commandTimeoutSeconds: must be a positive number"),
    (lambda g: g.update(options={"commandTimeoutSeconds": float("inf")}),
     "options.commandTimeoutSeconds:"),
    (lambda g: g.update(options={"commandTimeoutSeconds": 10**400}),
     "options.commandTimeoutSeconds:"),
    (lambda g: g.update(options={"downloadRetrySeconds": float("nan")}),
     "options.downloadRetrySeconds: must be a number >= 0"),
    (lambda g: g.update(options={"downloadRetrySeconds": float("inf")}),
     "options.downloadRetrySeconds:"),
]


@pytest.mark.parametrize(("mutate", "expected"), BAD)
def test_malformed_goal_state_names_the_field(mutate: Any, expected: str) -> None:
    goal = minimal()
    mutate(goal)
    with pytest.raises(AgentError) as err:
        validate_goal_state(goal, "linux")
    assert expected in str(err.value)


def test_every_problem_is_reported_at_once() -> None:
    goal = minimal()
    goal["applications"][0].pop("install")
    goal["applications"][0]["version"] = "x"
    with pytest.raises(AgentError) as err:
        validate_goal_state(goal, "linux")
    assert str(err.value) == ("invalid goal state: applications[0].version: must be "
                              "Major.Minor.Patch, each a 32-bit integer; "
                              "applications[0].install: required")


def test_cli_rejects_unreadable_and_invalid_goal_states_with_one_line(guest: Guest) -> None:
    bad_json = guest.tmp / "bad.json"
    bad_json.write_text("{not json")
    for path, text in ((bad_json, "cannot read goal state"),
                       (guest.tmp / "absent.json", "No such file or directory")):
        done = guest.run("apply", str(path))
        assert done.returncode == 2
        assert done.stderr.startswith("vmapp_agent: error: ") and text in done.stderr
        assert done.stderr.count("\n") == 1
    invalid = guest.goal(1, [guest.app("go")])
    del invalid["applications"][0]["remove"]
    done = guest.apply(invalid, expect_rc=2)
    assert "applications[0].remove: required" in done.stderr
    assert not (guest.ext / "mrseq").exists()


def test_stale_or_conflicting_sequence_numbers_are_refused(guest: Guest) -> None:
    guest.apply(guest.goal(5, [guest.app("a")]))
    older = guest.apply(guest.goal(4, [guest.app("a")]), expect_rc=2)
    assert "sequenceNumber 4 is not newer than the most recent one (5)" in older.stderr
    changed = guest.apply(guest.goal(5, [guest.app("b")]), expect_rc=2)
    assert "already applied with a different goal state" in changed.stderr
    assert guest.trace_lines() == ["a:install:1.0.0"]


def test_agent_file_is_python38_syntax_and_stdlib_only() -> None:
    source = AGENT.read_text()
    tree = ast.parse(source, feature_version=(3, 8))
    modules = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert modules - {"__future__"} <= set(sys.stdlib_module_names)
    assert "from __future__ import annotations" in source
    # Library calls newer than Python 3.8 that type checkers would not flag for 3.11:
    for newer in (".removeprefix(", ".removesuffix(", "is_relative_to(", "functools.cache",
                  "strict=", "datetime.UTC", "process_group="):
        assert newer not in source, newer


def test_agent_module_has_no_side_effects_on_import() -> None:
    assert vmapp_agent.AGENT_VERSION == "1.0.0"
    assert callable(vmapp_agent.main)

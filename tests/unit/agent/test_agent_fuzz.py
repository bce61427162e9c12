"""A short seeded fuzz of goal states: whatever the host (or an attacker) sends, ``apply`` ends
with exit 0 (applied) or 2 (refused, one line), never 1 (internal error) or a traceback, and in
bounded time.

Each input is a valid goal state with one to three random mutations: a value swapped for a
hostile one (wrong types, huge numbers, NaN, NUL, lone surrogates, newlines, non-ASCII digits,
malformed links, JSON nested up to 100,000 deep), a field dropped or added, an app duplicated, a
value wrapped in a list or an object.  The agent runs in-process (``main``) against a fresh root
per input, so 300 inputs take seconds; packages come from ``file:`` links or the tests' HTTP
blob server, so a valid input really downloads and runs its commands.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from agent_guest import BlobServer

from harness.agent import vmapp_agent

SEED = 20261203
INPUTS = 300
DEEP = "__DEEP__"
HOSTILE: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63, 10**300, 1.5, -0.0, 1e308, float("nan"),
    float("inf"), float("-inf"), "", " ", "\x00", "a\x00b", "go\n", "1.0.0\n", "\u0661.0.0",
    "1.0.0", "\u00fcn\u00efc\u00f8d\u00e9", "\ud800", "x" * 5000, "../../etc", "/", ".", "..",
    "stdout", "stderr", "http://[::1/go", "http://h:99999/go", "http:///go", "ftp://h/go",
    "file:///vmapp-no-such-file", "None", "Rerun", "hyphen", "/bin/bash", "windows", [], {},
    [1, "a"], {"a": None}, DEEP,
]


def valid_goal(package: str) -> dict[str, Any]:
    def app(name: str, order: int | None) -> dict[str, Any]:
        return {"name": name, "version": "1.0.0", "packageReferenceId": f"/x/{name}/1.0.0",
                "order": order, "packageUrl": package, "configUrl": None,
                "install": "true", "remove": "true", "update": None, "packageFileName": None,
                "configFileName": None, "treatFailureAsDeploymentFailure": False,
                "enableAutomaticUpgrade": False, "scriptBehaviorAfterReboot": "None",
                "tags": ""}

    return {"sequenceNumber": 1, "os": "linux",
            "options": {"interpreter": "/bin/sh", "configNaming": "underscore",
                        "commandTimeoutSeconds": 30, "downloadRetrySeconds": 0},
            "applications": [app("a", 1), app("b", None)]}


def containers(node: Any) -> list[Any]:
    """Every dict and list in ``node``, ``node`` included."""
    found = [node] if isinstance(node, (dict, list)) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(containers(child))
    return found


def mutate(rng: random.Random, goal: dict[str, Any]) -> None:
    target = rng.choice(containers(goal))
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    kind = rng.random()
    if not keys or kind < 0.1:
        if isinstance(target, dict):
            target[rng.choice(["extra", "\ud800", "sequenceNumber", "x" * 300])] = \
                rng.choice(HOSTILE)
        else:
            target.append(json.loads(json.dumps(rng.choice(HOSTILE))))
        return
    key = rng.choice(keys)
    if kind < 0.2:
        del target[key]
    elif kind < 0.3:
        target[key] = rng.choice([[target[key]], {"v": target[key]}])
    elif kind < 0.4 and isinstance(target[key], str) and target[key]:
        text = target[key]
        cut = rng.randrange(len(text))
        insert = rng.choice(["\x00", "\n", "\u0662", "\u00fc", "\ud83d", "%", "%00", "\\", "["])
        target[key] = text[:cut] + insert + text[cut:]
    else:
        target[key] = rng.choice(HOSTILE)


def goal_text(rng: random.Random, packages: list[str]) -> str:
    goal = valid_goal(rng.choice(packages))
    if rng.random() < 0.05:
        goal["applications"].append(json.loads(json.dumps(goal["applications"][0])))
    for _ in range(rng.randint(1, 3)):
        mutate(rng, goal)
    depth = rng.choice([10, 1000, 100_000])
    return json.dumps(goal).replace(json.dumps(DEEP), "[" * depth + "]" * depth)


def test_fuzzed_goal_states_are_applied_or_refused_never_an_internal_error(
        tmp_path: Path, blob_server: BlobServer, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(vmapp_agent.signal, "signal", lambda *args: None)  # pytest's own
    package = tmp_path / "package"
    package.write_bytes(b"package")
    packages = [package.as_uri(), blob_server.put(f"{tmp_path.name}/package", b"package")]
    boot = tmp_path / "boot_id"
    boot.write_text("boot-1\n")
    rng = random.Random(SEED)
    codes: dict[int, int] = {}
    started = time.monotonic()
    for index in range(INPUTS):
        case = tmp_path / str(index)
        case.mkdir()
        text = goal_text(rng, packages)
        (case / "goal.json").write_text(text)
        began = time.monotonic()
        code = vmapp_agent.main(["--root", str(case / "root"), "--boot-id-file", str(boot),
                                 "--lock-wait", "0", "apply", str(case / "goal.json")])
        elapsed = time.monotonic() - began
        err = capsys.readouterr().err
        where = f"input {index}: {text[:300]!r}"
        assert code in (0, 2), f"{where}: exit {code}: {err}"
        assert "Traceback" not in err and err.count("\n") <= 1, f"{where}: {err}"
        assert elapsed < 10, f"{where}: took {elapsed:.1f}s"
        codes[code] = codes.get(code, 0) + 1
    assert codes.get(0, 0) >= 10 and codes.get(2, 0) >= 100, codes  # both paths exercised
    assert time.monotonic() - started < 60

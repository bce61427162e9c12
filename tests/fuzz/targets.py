"""The interfaces fuzzed: what one input is, how it is made from the seeds, and what a clean
refusal looks like (anything else raised is a traceback).

* ``scenario`` -- a scenario file (with an include and a package folder beside it) through
  ``load_scenario``, as ``vmapp run``/``coverage``/pytest collection read it;
* ``replay`` -- a request file's bytes through what ``vmapp gallery replay`` does, with storage
  and link checks in memory;
* ``goal-state`` -- scenarios that validate, through the host side of a deployment: the
  cell's gallery (every version PUT), each deploy step's profile resolved, the agent's goal
  state built and serialised;
* ``results`` -- a results.json through ``read_results`` (the reader ``report``, ``coverage``
  and ``--merge`` use), and a file it accepts through the compatibility report (``compat``).
"""

from __future__ import annotations

import json
import random
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import yaml

from harness.errors import ConfigError, ConfigErrors
from harness.gallery import GalleryService, ServiceError
from harness.gallery.jsonfile import load_json
from harness.gallery.replay import Replayer, parse_requests
from harness.report.compat import Source, build_compat, write_compat
from harness.report.results import read_results
from harness.runner import goal
from harness.runner.publish import BlobRef, Published
from harness.runner.steps import merged_profile
from harness.scenario import model
from harness.scenario.load import load_scenario, render
from harness.settings import REPO_ROOT
from harness.storage.blobs import BlobProbe
from tests.fuzz.mutate import Mutator, dump_json, dump_yaml

CLEAN = (ConfigError, ConfigErrors)
NOW = datetime(2024, 6, 1, tzinfo=UTC)
ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"
INCLUDED = ("gallery:\n  applications:\n    tool:\n      versions:\n"
            "        1.0.0: {package: {content: t}, install: i, remove: r}\n")
RESULTS_SEED = {
    "schemaVersion": 1, "run_id": "20261122-000000-abcd", "started": "2026-11-22T00:00:00Z",
    "seconds": 12.5, "accel": "tcg", "accel_reason": "", "host": {"cpus": "2"},
    "cells": [{"scenario": "tar-golang", "image": "debian-12", "outcome": "failed",
               "message": "expected x; got y", "seconds": 3.0, "description": "d",
               "file": "scenarios/tar-golang.yaml", "markers": ["demo"], "artifacts": "a",
               "steps": [{"index": 0, "kind": "deploy", "title": "deploy a@1.0.0", "line": 3,
                          "commands": [{"app": "a", "version": "1.0.0", "operation": "install",
                                        "command": "i", "exit_code": 0, "result": "ok",
                                        "stdout": "", "stderr": ""}]}],
               "retries": [{"error": "boot", "stage": "boot", "seconds": 1.0}],
               "timings": {"boot": 1.0}, "packages": {"a": "1.0.0"}, "image_key": "k1",
               "image_facts": {"kernel": "6.1.0-28-amd64", "package_count": "412"}}],
}


class Target:
    """One interface: ``make`` draws an input from the seeds, ``feed`` runs it."""

    name = ""

    def __init__(self, rng: random.Random, work: Path) -> None:
        self.rng, self.work, self.mutate = rng, work, Mutator(rng)

    def make(self) -> Any:
        raise NotImplementedError

    def feed(self, case: Any) -> None:
        raise NotImplementedError


def scenario_seeds() -> list[Any]:
    files = sorted((REPO_ROOT / "scenarios").glob("*.yaml"))
    return [yaml.safe_load(render(path, path.parent)) for path in files]


class Scenarios(Target):
    name = "scenario"

    def __init__(self, rng: random.Random, work: Path) -> None:
        super().__init__(rng, work)
        self.seeds = scenario_seeds()
        (work / "shared").mkdir(parents=True, exist_ok=True)
        (work / "shared" / "defs.yaml").write_text(INCLUDED)
        for name in ("golang", "greeter-script", "hello-debs", "pyhello-deb", "zipapp"):
            (work / "packages" / name).mkdir(parents=True, exist_ok=True)
        (work / "packages" / "golang" / "run.sh").write_text("echo {{ version }}\n")

    def make(self) -> str:
        doc = self.rng.choice(self.seeds)
        if self.rng.random() < 0.6:
            doc = self.mutate.structure(doc)
        text = dump_yaml(doc, self.rng)
        for _ in range(self.rng.choice([0, 1, 1, 2])):
            text = self.mutate.text(text)
        return text

    def load(self, text: str) -> model.Scenario:
        path = self.work / "s.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        return load_scenario(path)

    def feed(self, case: str) -> None:
        scenario = self.load(case)
        # what the report writes of an accepted scenario must be text
        for text in (scenario.description, scenario.rule, *(s.title for s in scenario.steps)):
            text.encode("utf-8")


class GoalStates(Scenarios):
    name = "goal-state"

    def make(self) -> str:
        return dump_yaml(self.mutate.values_only(self.rng.choice(self.seeds)), self.rng)

    def feed(self, case: str) -> None:
        scenario = self.load(case)
        published = Published("c")
        for app in scenario.apps.values():
            for version in app.versions.values():
                key = f"{app.name}@{version.version}"
                published.blobs[key] = BlobRef(url=f"{ENDPOINT}/c/{key}")
                if version.config is not None:
                    published.blobs[f"{key}#config"] = BlobRef(url=f"{ENDPOINT}/c/{key}.config")
        with mock.patch.object(goal, "probe", present):
            cell = goal.CellGallery(scenario, published, store=None)  # type: ignore[arg-type]
            deploy(cell, scenario, published)


def present(url: str) -> BlobProbe:
    """Every link is a readable 1 KiB block blob."""
    return BlobProbe(url=url, status=200, size=1024, blob_type="BlockBlob")


def deploy(cell: goal.CellGallery, scenario: model.Scenario, published: Published) -> None:
    """Each deploy/update step as the runner does it, up to the goal state sent to the agent."""
    current: dict[str, model.ProfileEntry] = {}
    accepted: list[dict[str, Any]] = []
    for seq, step in enumerate(s for s in scenario.steps if s.kind in ("deploy", "update")):
        entries = merged_profile(current, step.profile)
        wanted = [{"packageReferenceId": cell.version_id(e.app, e.version),
                   **({"order": e.order} if e.order is not None else {}),
                   **({"tags": e.tags} if e.tags else {}),
                   "treatFailureAsDeploymentFailure": e.treat_failure_as_deployment_failure,
                   "enableAutomaticUpgrade": e.enable_automatic_upgrade} for e in entries]
        try:
            resolved = cell.resolve(wanted, accepted)
        except ServiceError:
            continue
        current, accepted = {e.app: e for e in entries}, wanted
        state = goal.goal_state(seq + 1, scenario, resolved, published, None,  # type: ignore
                                goal.Faults())
        json.dumps(state, allow_nan=False).encode("utf-8")


class MemoryBlobs:
    """Blob requests kept in memory; links point at them and ``probe`` answers for them."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[str, int]] = {}

    def create(self, container: str, name: str, *, blob_type: str, content: bytes | None,
               size: int | None) -> int:
        stored = len(content or b"") if size is None else size
        self.blobs[f"{container}/{name}"] = (blob_type, stored)
        return stored

    def url(self, container: str, name: str, mode: str) -> str:
        base = f"{ENDPOINT}/{urllib.parse.quote(container)}/{urllib.parse.quote(name)}"
        expiry = "2000-01-01" if mode == "expired" else "2099-01-01"
        return base if mode == "nosas" else f"{base}?sv=2022-11-02&sp=r&se={expiry}&sig=AAAA"

    def probe(self, url: str) -> BlobProbe:
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
        found = self.blobs.get(path.removeprefix("/devstoreaccount1/"))
        if found is None:
            return BlobProbe(url=url, status=404)
        return BlobProbe(url=url, status=200, blob_type=found[0], size=found[1])


class Requests(Target):
    name = "replay"

    def __init__(self, rng: random.Random, work: Path) -> None:
        super().__init__(rng, work)
        self.seeds = [json.loads(p.read_text())
                      for p in sorted((REPO_ROOT / "examples" / "gallery").glob("*.json"))]

    def make(self) -> bytes:
        doc = self.rng.choice(self.seeds)
        if self.rng.random() < 0.8:
            doc = self.mutate.structure(doc, self.rng.choice([1, 2, 4]))
        text = dump_json(doc)
        if self.rng.random() < 0.3:
            text = self.mutate.text(text)
        encoding = self.rng.choice(["utf-8"] * 8 + ["utf-8-sig", "utf-16", "latin-1"])
        return text.encode(encoding, errors="surrogatepass" if "utf" in encoding else "replace")

    def feed(self, case: bytes) -> None:
        data = load_json(case, "requests.json")
        requests = parse_requests(data, "requests.json")
        blobs = MemoryBlobs()
        service = GalleryService(now=NOW, link_probe=blobs.probe)
        for answer in Replayer(service, blobs).run(requests):
            json.dumps(answer)


class Results(Target):
    name = "results"

    def make(self) -> str:
        doc = self.mutate.structure(RESULTS_SEED) if self.rng.random() < 0.9 else RESULTS_SEED
        text = dump_json(doc)
        return self.mutate.text(text) if self.rng.random() < 0.2 else text

    def feed(self, case: str) -> None:
        path = self.work / "results.json"
        path.write_text(case, encoding="utf-8", errors="surrogatepass")
        run = read_results(path)
        write_compat(build_compat([Source(run, self.work)], self.work), self.work)


TARGETS: dict[str, Callable[[random.Random, Path], Target]] = {
    t.name: t for t in (Scenarios, Requests, GoalStates, Results)}

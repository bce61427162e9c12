"""Pure parts of the step handlers: the profile a deploy step PUTs, publish expectations."""

from __future__ import annotations

import subprocess

from harness.runner.goal import Faults
from harness.runner.steps import _judge_publish, automatic_upgrades, merged_profile
from harness.scenario.model import ProfileEntry


def entry(app: str, version: str = "1.0.0", order: int | None = None) -> ProfileEntry:
    return ProfileEntry(app=app, version=version, order=order)


def test_deploy_replaces_named_apps_in_place_and_appends_new_ones() -> None:
    current = {"a": entry("a"), "b": entry("b"), "c": entry("c")}
    step = [entry("d"), entry("b", "2.0.0", order=1)]
    assert merged_profile(current, step) == [
        entry("a"), entry("b", "2.0.0", order=1), entry("c"), entry("d")]


def test_an_app_named_twice_by_one_step_is_put_twice() -> None:
    """The service must see both entries to refuse them (one version per app on a VM)."""
    twice = [entry("a", "1.0.0"), entry("a", "2.0.0")]
    assert merged_profile({}, twice) == twice
    assert merged_profile({"a": entry("a"), "b": entry("b")}, twice) == [*twice, entry("b")]


def test_publish_expectation_matches_a_part_of_the_answer() -> None:
    answer = "The blob referenced by source uri http://h/c/b?sv=1&sig=x is empty."
    assert _judge_publish(answer, "e@1.0.0", "is empty.") == (
        "publish e@1.0.0: refused, the answer containing 'is empty.'",
        f"publish e@1.0.0: refused: {answer!r}", True)
    assert not _judge_publish(answer, "e@1.0.0", "is too big")[2]
    assert not _judge_publish(None, "e@1.0.0", "is empty.")[2]


def test_publish_expectation_null_means_the_version_was_accepted() -> None:
    assert _judge_publish(None, "e@1.0.0", None) == (
        "publish e@1.0.0: published", "publish e@1.0.0: published", True)
    assert not _judge_publish("refused", "e@1.0.0", None)[2]


def test_automatic_upgrade_moves_only_apps_that_ask_for_it_and_only_upward() -> None:
    profile = {
        "auto": ProfileEntry(app="auto", version="1.0.0", enable_automatic_upgrade=True),
        "pinned": ProfileEntry(app="pinned", version="1.0.0"),
        "follows": ProfileEntry(app="follows", version="latest", enable_automatic_upgrade=True),
        "newest": ProfileEntry(app="newest", version="2.0.0", enable_automatic_upgrade=True),
    }
    running = {"auto": "1.0.0", "pinned": "1.0.0", "follows": "1.2.0", "newest": "2.0.0"}
    latest = {"auto": "1.10.0", "pinned": "1.1.0", "follows": "1.10.0", "newest": "1.9.0"}
    entries, moves = automatic_upgrades(profile, running, latest.get)
    assert [(e.app, e.version) for e in entries] == [
        ("auto", "1.10.0"), ("pinned", "1.0.0"), ("follows", "latest"), ("newest", "2.0.0")]
    assert moves == ["auto 1.0.0 -> 1.10.0", "follows 1.2.0 -> 1.10.0"]


def test_nothing_moves_when_no_newer_version_is_published() -> None:
    profile = {"auto": ProfileEntry(app="auto", version="1.0.0", enable_automatic_upgrade=True)}
    assert automatic_upgrades(profile, {"auto": "1.0.0"}, {"auto": "1.0.0"}.get) == (
        [profile["auto"]], [])


def test_a_command_fails_fault_replaces_only_its_command_and_keeps_the_original_visible() -> None:
    faults = Faults(failing={("a@1.0.0", "install"): 42})
    original = "tar -xzf a && echo 'it''s done' \"$HOME\""
    failing = faults.command("a@1.0.0", "install", original)
    assert failing is not None
    ran = subprocess.run(["/bin/sh", "-c", failing], capture_output=True, text=True, check=False)
    assert ran.returncode == 42
    assert ran.stderr == ("vmapp-harness: injected fault: this install command exits 42 instead "
                          f"of running: {original}\n")
    assert faults.command("a@1.0.0", "remove", "rm -rf x") == "rm -rf x"
    assert faults.command("a@2.0.0", "install", "tar -xzf a") == "tar -xzf a"
    assert faults.command("a@1.0.0", "update", None) is None

"""Pure parts of the step handlers: the profile a deploy step PUTs, publish expectations."""

from __future__ import annotations

from harness.runner.steps import _judge_publish, merged_profile
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

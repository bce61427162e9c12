"""The seeds' ``order`` table, cell by cell: install meaning and failure meaning."""

from __future__ import annotations

from agent_guest import Guest


def failing(guest: Guest, name: str) -> str:
    """A command that leaves a trace line and then fails with exit status 7."""
    return f"{guest.mark(name + ':install:1.0.0')}; exit 7"


def failed(guest: Guest, name: str) -> str:
    """The status result of ``failing(guest, name)``, as the real extension words it."""
    return (f"Install FAILED Error executing command '{failing(guest, name)}': "
            "command terminated with exit status=7")


# -- No order specified -----------------------------------------------------------------------


def test_unordered_apps_all_install_after_ordered_ones(guest: Guest) -> None:
    apps = [guest.app("u1"), guest.app("o2", order=2), guest.app("u2"), guest.app("o1", order=1)]
    guest.apply(guest.goal(1, apps))
    lines = guest.trace_lines()
    assert lines[:2] == ["o1:install:1.0.0", "o2:install:1.0.0"]
    assert sorted(lines[2:]) == ["u1:install:1.0.0", "u2:install:1.0.0"]
    assert set(guest.results(1).values()) == {"Install SUCCESS"}


def test_unordered_apps_are_unaffected_by_any_failure(guest: Guest) -> None:
    apps = [guest.app("o1", order=1, install=failing(guest, "o1")),
            guest.app("u1", install=failing(guest, "u1")),
            guest.app("u2")]
    guest.apply(guest.goal(1, apps))
    assert guest.trace_lines() == ["o1:install:1.0.0", "u1:install:1.0.0", "u2:install:1.0.0"]
    assert guest.results(1) == {"o1": failed(guest, "o1"), "u1": failed(guest, "u1"),
                                "u2": "Install SUCCESS"}


# -- Duplicate order values -------------------------------------------------------------------


def test_duplicate_orders_install_after_lower_and_before_higher(guest: Guest) -> None:
    apps = [guest.app("d", order=3), guest.app("b", order=2), guest.app("a", order=1),
            guest.app("c", order=2)]
    guest.apply(guest.goal(1, apps))
    lines = guest.trace_lines()
    assert lines[0] == "a:install:1.0.0"
    assert sorted(lines[1:3]) == ["b:install:1.0.0", "c:install:1.0.0"]
    assert lines[3] == "d:install:1.0.0"


def test_failure_within_a_duplicate_order_lets_its_peers_run_but_blocks_higher(
        guest: Guest) -> None:
    apps = [guest.app("a", order=1), guest.app("b", order=2, install=failing(guest, "b")),
            guest.app("c", order=2), guest.app("d", order=3)]
    guest.apply(guest.goal(1, apps))
    assert guest.trace_lines() == ["a:install:1.0.0", "b:install:1.0.0", "c:install:1.0.0"]
    results = guest.results(1)
    assert results["c"] == "Install SUCCESS"
    assert results["d"] == "Install SKIPPED: not attempted because 'b' (order 2) failed"
    assert guest.ops(1, "d")[0]["blockedBy"] == ["b"]
    assert guest.ops(1, "d")[0]["result"] == "SKIPPED"


def test_failure_at_lower_order_blocks_every_app_of_a_duplicate_order(guest: Guest) -> None:
    apps = [guest.app("a", order=1, install=failing(guest, "a")),
            guest.app("b", order=2), guest.app("c", order=2)]
    guest.apply(guest.goal(1, apps))
    assert guest.trace_lines() == ["a:install:1.0.0"]
    skipped = "Install SKIPPED: not attempted because 'a' (order 1) failed"
    assert guest.results(1) == {"a": failed(guest, "a"), "b": skipped, "c": skipped}


def test_two_failures_at_the_same_order_are_both_named(guest: Guest) -> None:
    apps = [guest.app("a", order=1, install=failing(guest, "a")),
            guest.app("b", order=1, install=failing(guest, "b")), guest.app("c", order=5)]
    guest.apply(guest.goal(1, apps))
    assert guest.results(1)["c"] == (
        "Install SKIPPED: not attempted because 'a' (order 1) and 'b' (order 1) failed")


# -- Increasing orders ------------------------------------------------------------------------


def test_increasing_orders_install_in_ascending_order_whatever_the_list_order(
        guest: Guest) -> None:
    apps = [guest.app("c", order=30), guest.app("a", order=-5), guest.app("b", order=7)]
    guest.apply(guest.goal(1, apps))
    assert guest.trace_lines() == ["a:install:1.0.0", "b:install:1.0.0", "c:install:1.0.0"]
    current = guest.message(1)["CurrentState"]
    assert [a["applicationName"] for a in current] == ["a", "b", "c"]


def test_failure_blocks_every_higher_order_but_not_lower_or_unordered(guest: Guest) -> None:
    apps = [guest.app("a", order=1), guest.app("b", order=2, install=failing(guest, "b")),
            guest.app("c", order=3), guest.app("d", order=4), guest.app("u")]
    guest.apply(guest.goal(1, apps))
    assert guest.trace_lines() == ["a:install:1.0.0", "b:install:1.0.0", "u:install:1.0.0"]
    results = guest.results(1)
    assert results["a"] == "Install SUCCESS"
    assert results["b"] == failed(guest, "b")
    for name in ("c", "d"):
        assert results[name] == "Install SKIPPED: not attempted because 'b' (order 2) failed"
    assert results["u"] == "Install SUCCESS"
    # Skipped apps are not recorded as installed: a later goal state tries them again.
    assert set(guest.registry()) == {"a", "b", "u"}
    assert guest.status(1)["status"] == "success"


def test_download_failure_counts_as_a_failure_for_order(guest: Guest) -> None:
    bad = guest.app("a", order=1, packageUrl=guest.server.url("status/404/a"))
    guest.apply(guest.goal(1, [bad, guest.app("b", order=2)]))
    assert guest.trace_lines() == []
    assert guest.results(1)["b"] == "Install SKIPPED: not attempted because 'a' (order 1) failed"


def test_an_app_still_failed_from_an_earlier_goal_state_keeps_blocking(guest: Guest) -> None:
    a = guest.app("a", order=1, install=failing(guest, "a"))
    guest.apply(guest.goal(1, [a, guest.app("b", order=2)]))
    guest.apply(guest.goal(2, [a, guest.app("b", order=2)]))
    assert guest.trace_lines() == ["a:install:1.0.0"]  # a not retried, b still blocked
    assert guest.results(2) == {
        "a": failed(guest, "a"), "b": "Install SKIPPED: not attempted because 'a' (order 1) failed"}

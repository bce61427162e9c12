"""What each scenario step does on a live VM, and how expectations are judged."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from harness.agent.client import Outcome
from harness.checks import CheckResult, host_for, run_check
from harness.checks_windows import run_windows_check
from harness.errors import GuestUnreachable
from harness.gallery import ServiceError
from harness.gallery.names import parse_version
from harness.ports import Channel, GuestOS
from harness.report.results import CommandRecord, StepRecord
from harness.runner.faults import FAULT_HANDLERS, ArmedFaults
from harness.runner.goal import goal_state
from harness.runner.live import LiveCell
from harness.runner.publish import upload
from harness.runner.state import CellState
from harness.scenario.model import AppExpectation, Check, ProfileEntry, Step
from harness.waiting import wait_until


def commands_of(outcome: Outcome) -> list[CommandRecord]:
    """The commands the agent really ran, in order, from its details file."""
    records = []
    for op in outcome.details.get("operations", []):
        if not op.get("command") or op.get("result") in ("SKIPPED", "PENDING"):
            continue  # never ran: the status message says why
        records.append(CommandRecord(
            app=op["app"], version=op.get("version") or op.get("appVersion", ""),
            operation=op.get("operation") or op.get("action", ""), command=op["command"],
            exit_code=op.get("exitCode"), result=op.get("result", ""),
            stdout=op.get("stdout", ""), stderr=op.get("stderr", ""),
            rebooted=bool(op.get("endedInReboot") or op.get("interruptedByReboot"))))
    return records


def merged_profile(current: dict[str, ProfileEntry], step: Sequence[ProfileEntry]
                   ) -> list[ProfileEntry]:
    """The entries a deploy step PUTs: each app it names replaced in place, new apps appended.

    An app the step names twice stays twice, so the service sees (and refuses) both entries.
    """
    entries: list[ProfileEntry] = []
    for app, entry in current.items():
        entries.extend([e for e in step if e.app == app] or [entry])
    return entries + [e for e in step if e.app not in current]


def profile_json(cell: LiveCell, profile: Sequence[ProfileEntry]) -> list[dict[str, Any]]:
    """The VM's ``applicationProfile.galleryApplications`` as a user would PUT it."""
    entries = []
    for entry in profile:
        item: dict[str, Any] = {
            "packageReferenceId": cell.gallery.version_id(entry.app, entry.version)}
        if entry.order is not None:
            item["order"] = entry.order
        if entry.config is not None:
            ref = upload(cell.ctx.store, cell.published.container,
                         f"{entry.app}.override-{cell.next_upload()}", entry.config, entry.version)
            item["configurationReference"] = ref.link(cell.ctx.store)
        if entry.treat_failure_as_deployment_failure:
            item["treatFailureAsDeploymentFailure"] = True
        if entry.enable_automatic_upgrade:
            item["enableAutomaticUpgrade"] = True
        if entry.tags:
            item["tags"] = entry.tags
        entries.append(item)
    return entries


def apply_profile(cell: LiveCell, state: CellState, profile: Sequence[ProfileEntry],
                  record: StepRecord) -> None:
    """PUT the profile to the gallery model; if it is accepted, the agent converges to it."""
    wanted = profile_json(cell, profile)
    try:
        resolved = cell.gallery.resolve(wanted, state.accepted, cell.machine.guest.name)
    except ServiceError as error:
        state.service_error = str(error)
        record.detail = f"the service refused the profile: {error}"
        return
    state.profile = {entry.app: entry for entry in profile}  # accepted: one entry per app
    state.accepted, state.service_error = wanted, None
    state.versions = {item.application: item.version for item in resolved}
    state.sequence += 1
    goal = goal_state(state.sequence, cell.scenario, resolved, cell.published, cell.ctx.store,
                      state.faults, os_name=cell.machine.guest.name)
    armed = ArmedFaults(cell, state, goal)
    outcome = cell.agent.apply(goal, timeout=cell.apply_timeout, on_reconnect=cell.reopen,
                               on_poll=armed.on_poll)
    outcome.events += armed.finish()
    state.outcome = outcome
    if outcome.events:
        record.detail = "; ".join(outcome.events)
    record.commands = commands_of(outcome)
    refused = [op["message"] for op in outcome.details.get("operations", [])
               if op.get("unsupported")]
    if refused:  # the stand-in could not run a command faithfully: the cell proves nothing
        record.outcome, record.detail = "skipped", "; ".join(dict.fromkeys(refused))
    record.extension_status = outcome.extension_status
    record.extension_message = outcome.message
    record.boot_ids = outcome.reboots
    if cell.ctx.options.idempotence:
        check_idempotence(cell, state, goal, record)


def check_idempotence(cell: LiveCell, state: CellState, goal: dict[str, Any],
                      record: StepRecord) -> None:
    """The goal state once more, under a new sequence number: a converged VM must run no
    command and report the same applications (Molecule's idempotence check, for goal states)."""
    state.sequence += 1
    again = cell.agent.apply({**goal, "sequenceNumber": state.sequence},
                             timeout=cell.apply_timeout, on_reconnect=cell.reopen)
    ran = [f"{c.app}@{c.version} {c.operation} ({c.command})" for c in commands_of(again)]
    before = state.outcome.message_body.get("CurrentState") if state.outcome else None
    changed = again.message_body.get("CurrentState") != before
    record.idempotence = "held" if not ran and not changed else \
        "ran again: " + ("; ".join(ran) if ran else "the applications' state changed")
    if record.idempotence != "held":
        record.failures.append(f"idempotence (the same goal state applied again runs nothing), "
                               f"got {record.idempotence}")


def do_deploy(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    apply_profile(cell, state, merged_profile(state.profile, step.profile), record)


def do_remove(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    profile = [entry for app, entry in state.profile.items() if app not in step.apps]
    apply_profile(cell, state, profile, record)


def do_reboot(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    agent = cell.agent
    before = agent.boot_id()
    cell.machine.reboot()

    def rebooted() -> bool:
        agent.reconnect()
        return agent.boot_id() != before

    wait_until(rebooted, stage="reboot", vm=cell.machine.name, interval=2,
               what="the guest to come back with a new boot id", timeout=cell.ready_timeout,
               retry_on=(GuestUnreachable,))
    cell.reopen(agent.channel)
    record.boot_ids = [agent.boot_id()]


def do_fault(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    assert step.fault is not None
    record.detail = FAULT_HANDLERS[step.fault.kind](cell, state, step.fault)


def automatic_upgrades(profile: dict[str, ProfileEntry], running: dict[str, str],
                       latest: Callable[[str], str | None]) -> tuple[list[ProfileEntry], list[str]]:
    """The profile after the platform moves each app with enableAutomaticUpgrade to a newer
    latest version (an entry naming ``latest`` stays as written), and what moved."""
    entries, moves = [], []
    for app, entry in profile.items():
        newest, current = latest(app) or "", running.get(app, "")
        new, old = parse_version(newest), parse_version(current)  # the service's ordering
        if entry.enable_automatic_upgrade and new and old and new > old:
            entries.append(entry if entry.version == "latest" else replace(entry, version=newest))
            moves.append(f"{app} {current} -> {newest}")
        else:
            entries.append(entry)
    return entries, moves


def do_publish(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    """PUT versions held back until now; then, as the platform does, move the apps that have
    enableAutomaticUpgrade to the newer version (a new goal state)."""
    notes = []
    for key in step.versions:
        app, _, version = key.partition("@")
        refused = cell.gallery.publish(app, version)
        notes.append(f"{key}: refused: {refused}" if refused else f"{key}: published")
    upgraded, moves = automatic_upgrades(state.profile, state.versions, cell.gallery.latest)
    if moves:
        notes.append("automatic upgrade: " + ", ".join(moves))
        apply_profile(cell, state, upgraded, record)
    else:
        notes.append("no automatic upgrade (no app with enableAutomaticUpgrade has a newer "
                     "latest version)")
    record.detail = "; ".join(notes + ([record.detail] if record.detail else []))


def _judge_app(state: CellState, want: AppExpectation) -> tuple[str, str, bool]:
    outcome = state.outcome
    body = outcome.message_body if outcome else {}
    current = {a["applicationName"]: a for a in body.get("CurrentState", [])}
    actions = {a["applicationName"]: a for a in body.get("ActionsPerformed", [])}
    seen = current.get(want.app) or actions.get(want.app)
    expected, actual, ok = [], [], True
    if want.present is not None:
        expected.append(f"present={want.present}")
        actual.append(f"present={want.app in current}")
        ok &= (want.app in current) == want.present
    if want.version is not None:
        got = seen["version"] if seen else None
        expected.append(f"version={want.version}")
        actual.append(f"version={got}")
        ok &= got == want.version
    result = seen["result"] if seen else "<not in status>"
    if want.result is not None:
        expected.append(f"result={want.result!r}")
        ok &= result == want.result
    if want.result_contains is not None:
        expected.append(f"result contains {want.result_contains!r}")
        ok &= want.result_contains in result
    actual.append(f"result={result!r}")
    return f"{want.app}: " + ", ".join(expected), f"{want.app}: " + ", ".join(actual), ok


def _judge_publish(answer: str | None, version: str, text: str | None) -> tuple[str, str, bool]:
    """The gallery's answer to the PUT of ``version`` (None: accepted) against the expectation."""
    ok = answer is None if text is None else answer is not None and text in answer
    expected = "published" if text is None else f"refused, the answer containing {text!r}"
    actual = "published" if answer is None else f"refused: {answer!r}"
    return f"publish {version}: {expected}", f"publish {version}: {actual}", ok


def do_expect(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    _expect(step, state, record, cell.gallery.publish_errors,
            lambda: checker_for(cell.machine.guest, cell.agent.channel, cell.machine.name))


# What an expect step says of the service's answers during the run, not of the VM's state.
NOT_RECHECKED = {"service_error": "the service's answer", "publish_errors": "publish answers",
                 "reboots": "reboots during the last deployment"}


def recheck_expect(guest: GuestOS, channel: Channel, vm: str, state: CellState, step: Step,
                   record: StepRecord) -> None:
    """An expect step against a kept VM as it is now (``state.outcome``: the newest status its
    agent holds): extension status, applications and checks; what the service answered during
    the run is not the VM's to tell again, and is left out (said in the record)."""
    left_out = [text for name, text in NOT_RECHECKED.items()
                if getattr(step, name) not in (None, ())]
    if left_out:
        record.detail = "not rechecked (answers during the run, not the VM's state): " + \
            ", ".join(left_out)
    _expect(replace(step, service_error=None, publish_errors=(), reboots=None), state, record,
            {}, lambda: checker_for(guest, channel, vm))


Checker = Callable[[Check], list[CheckResult]]


def checker_for(guest: GuestOS, channel: Channel, vm: str) -> Checker:
    """testinfra on a Linux guest (one host for the step's checks); cmd.exe and reg.exe on a
    Windows one (or its stand-in)."""
    if guest.name == "windows":
        windows = guest.checks_channel(channel)
        return lambda check: run_windows_check(windows, check)
    host = host_for(channel, vm)
    return lambda check: run_check(host, check)


def _expect(step: Step, state: CellState, record: StepRecord, publish_errors: dict[str, str],
            checker: Callable[[], Checker]) -> None:
    """Judge an expect step; ``checker`` is asked for only if the step has checks, so a
    scenario whose every profile the service refuses needs no machine."""
    if step.extension is not None:
        got = state.outcome.extension_status if state.outcome else "<no goal state yet>"
        _note(record, f"extension status = {step.extension}", f"extension status = {got}",
              got == step.extension)
    if step.service_error is not None:
        wanted = step.service_error.replace("{image_reference}", state.image_reference)
        _note(record, f"service error = {wanted!r}",
              f"service error = {state.service_error!r}", state.service_error == wanted)
    for version, text in step.publish_errors:
        _note(record, *_judge_publish(publish_errors.get(version), version, text))
    if step.reboots is not None:
        seen = len(state.outcome.reboots) if state.outcome else 0
        _note(record, f"reboots during the last deployment = {step.reboots}",
              f"reboots during the last deployment = {seen} (new boot ids)", seen == step.reboots)
    for want in step.app_expectations:
        _note(record, *_judge_app(state, want))
    if step.checks:
        run = checker()
        for check in step.checks:
            for result in run(check):
                where = f" (line {check.line})" if check.line else ""
                _note(record, f"{result.title}: {result.expected}{where}",
                      f"{result.title}: {result.actual}", result.passed)


def _note(record: StepRecord, expected: str, actual: str, ok: bool) -> None:
    record.expected.append(expected)
    record.actual.append(actual)
    if not ok:
        record.failures.append(f"{expected}, got {actual.split(': ', 1)[-1]}")


def do_wait(cell: LiveCell, state: CellState, step: Step, record: StepRecord) -> None:
    time.sleep(step.seconds)


HANDLERS = {"deploy": do_deploy, "update": do_deploy, "remove": do_remove,
            "publish": do_publish, "reboot": do_reboot, "fault": do_fault, "expect": do_expect,
            "wait": do_wait}


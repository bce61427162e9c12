"""Clean machines for one worker: boot once per image, snapshot, revert per cell.

A cell asks for "a clean machine of image X" and gives it back; whether that was a fresh boot or
a revert to the snapshot taken right after the first boot (agent pushed, system ready) is the
pool's business.  A revert restores disk and memory, so a cell sees nothing an earlier cell did;
the guest clock, which comes back at snapshot time, is set to now.  A machine that had an
infrastructure error, or one the cell keeps for an engineer, leaves the pool; the next cell of
its image boots a new one.  ``reuse=False`` (``--fresh-vm``) boots a machine per cell.  Machines
are pooled by image build: a cell that boots an older build of a recipe (an older image version)
gets a machine of that build, never one of the recipe's current build.
"""

from __future__ import annotations

import contextlib
import itertools
import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from harness import stopping
from harness.agent.client import AgentClient
from harness.errors import CleanupErrors, GuestUnreachable, HarnessError, InfrastructureError
from harness.ports import Channel, Machine, Provider
from harness.waiting import wait_until

SNAPSHOT = "vmapp-clean"
Slot = tuple[str, str | None]  # (image, build key; None: the recipe's current build)
Timer = Callable[[str], AbstractContextManager[None]]


class RunStopped(HarnessError):
    """A cell asked for a machine after the run was stopped (Ctrl-C, SIGTERM)."""


@dataclass
class Lease:
    """A clean, ready machine checked out to one cell, with the agent in place."""

    image: str
    machine: Machine
    agent: AgentClient
    agent_version: str
    how: str  # "booted" | "warm" (a kept copy of a ready machine) | "reverted" | "kept" (a
    # machine an earlier run kept, adopted as it is)
    pooled: bool
    console_offset: int = 0
    facts: dict[str, str] = field(default_factory=dict)  # the image's, read once per machine
    build: str | None = None  # the build's cache key; None: the recipe's current build

    def console_text(self) -> bytes:
        """What the serial console printed during this lease."""
        try:
            with self.machine.console_log.open("rb") as log:
                log.seek(self.console_offset)
                return log.read()
        except OSError:
            return b""


@dataclass
class _Idle:
    machine: Machine
    agent_version: str
    facts: dict[str, str]


@dataclass
class MachinePool:
    provider: Provider
    folder: Path
    prefix: str  # e.g. vmapp-<run>-w1: every machine's name starts with it
    reuse: bool = True
    idle: dict[Slot, _Idle] = field(default_factory=dict)
    leased: dict[str, Machine] = field(default_factory=dict)  # name -> machine out to a cell
    stopped: bool = False
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def has_idle(self, image: str, build: str | None = None) -> bool:
        return (image, build) in self.idle

    def acquire(self, image: str, *, timer: Timer, console: Path, label: str = "",
                ready_seconds: int | None = None, build: str | None = None) -> Lease:
        """A clean machine of ``image`` (of its cached build ``build``, None: the recipe's
        current one).  ``ready_seconds`` (a scenario's own readiness deadline) asks for a
        machine of its own, booted for this cell and never pooled.  If a machine fails to come
        up, its console log is copied to ``console``."""
        if self.stopped:
            raise RunStopped("the run was stopped: no machine is started any more")
        idle = self.idle.pop((image, build), None) if ready_seconds is None else None
        if idle is None:
            lease = self._boot(image, build, label, ready_seconds, timer, console)
        else:
            with timer("revert"):
                lease = self._revert(image, idle, console)
            lease.build = build
        self.leased[lease.machine.name] = lease.machine
        return lease

    def _boot(self, image: str, build: str | None, label: str, ready_seconds: int | None,
              timer: Timer, console: Path) -> Lease:
        pooled = self.reuse and ready_seconds is None
        # A pooled machine serves every cell of its image: named after the image, not a cell.
        who = image if pooled else (label or image)
        name = f"{self.prefix}-{next(self._counter)}-{who}"[:80].rstrip("-")
        with timer("image"):  # includes making the machine's definition (adding a box, ...)
            machine = self.provider.create(image, name=name, folder=self.folder / name,
                                           ready_seconds=ready_seconds, build=build)
        try:
            stopping.check()
            agent_digest = AgentClient.source_digest(machine.guest)
            with timer("boot"):
                warm = pooled and machine.resume_warm(SNAPSHOT, agent_digest)
                if not warm:
                    machine.boot()
            with timer("ready"):
                if warm:
                    agent = self._answering(machine)
                    version = agent.version()
                else:
                    agent, version = self._first_start(machine, pooled, agent_digest)
                facts = machine.guest.facts(agent.channel)
        except BaseException:
            _give_up(machine, console)
            raise
        return Lease(image, machine, agent, version, "warm" if warm else "booted", pooled,
                     facts=facts, build=build)

    def _client(self, machine: Machine) -> AgentClient:
        """A client of ``machine``'s agent that reconnects through it until the run is stopped:
        a cell waiting to reconnect to a machine ``stop`` pulled then ends at once (seen: a
        SIGTERMed run's worker kept waiting out its deadline)."""
        def connect() -> Channel:
            if self.stopped:
                raise InfrastructureError(stage="connect", vm=machine.name, detail="the run "
                                          "was stopped: the machine was destroyed")
            return machine.connect()

        return AgentClient(connect, machine.guest, vm=machine.name)

    def _first_start(self, machine: Machine, pooled: bool, agent_digest: str
                     ) -> tuple[AgentClient, str]:
        """Wait until ready, push the agent, apply goal state 0; a pooled machine is then
        snapshotted (and kept warm for later runs)."""
        agent = self._client(machine)
        machine.guest.wait_ready(agent.channel, machine.ready_seconds)
        agent.install()
        version = agent.version()
        agent.warm_up(timeout=machine.ready_seconds)
        if pooled:  # no connection inside the snapshot: each revert opens its own
            agent.channel.close()
            machine.snapshot(SNAPSHOT)
            machine.save_warm(SNAPSHOT, agent_digest)
            agent.reconnect()
        return agent, version

    def _answering(self, machine: Machine) -> AgentClient:
        """The agent client of a machine just reverted to the snapshot, its clock set to now."""
        agent = wait_until(
            lambda: self._client(machine),
            stage="revert", vm=machine.name, what="the guest to answer after the revert",
            timeout=machine.ready_seconds, interval=0.25, retry_on=(GuestUnreachable,))
        machine.guest.set_clock(agent.channel, time.time())
        return agent

    def _revert(self, image: str, idle: _Idle, console: Path) -> Lease:
        machine = idle.machine
        offset = machine.console_log.stat().st_size if machine.console_log.exists() else 0
        try:
            machine.revert(SNAPSHOT)
            agent = self._answering(machine)
        except BaseException:
            _give_up(machine, console)
            raise
        return Lease(image, machine, agent, idle.agent_version, "reverted", True, offset,
                     idle.facts)

    def adopt(self, image: str, machine: Machine) -> Lease:
        """A machine an earlier run kept, as it is: nothing reverted, its agent already in
        place; it never joins the pool (release it with ``keep``)."""
        offset = machine.console_log.stat().st_size if machine.console_log.exists() else 0
        agent = self._client(machine)
        lease = Lease(image, machine, agent, agent.version(), "kept", False, offset,
                      machine.guest.facts(agent.channel))
        self.leased[machine.name] = machine
        return lease

    def release(self, lease: Lease, *, keep: bool, healthy: bool) -> None:
        """Give a machine back: kept ones leave the pool as they are; a healthy pooled one waits
        for the next cell of its image; any other is destroyed (its cleanup errors raised)."""
        self.leased.pop(lease.machine.name, None)
        try:
            lease.agent.channel.close()
        except GuestUnreachable:
            healthy = False
        if keep:
            return
        slot = (lease.image, lease.build)
        if lease.pooled and healthy and slot not in self.idle:
            self.idle[slot] = _Idle(lease.machine, lease.agent_version, lease.facts)
            return
        remove(lease.machine)

    def close(self) -> None:
        """Destroy every idle machine, collecting every failure."""
        self._remove_all([self.idle.popitem()[1].machine for _ in range(len(self.idle))])

    def stop(self) -> None:
        """The run is being stopped: no new machine, and every machine goes now, the ones
        cells are using too (their cells then end with an error instead of running on)."""
        self.stopped = True
        machines = [*self.leased.values(),
                    *[self.idle.popitem()[1].machine for _ in range(len(self.idle))]]
        self.leased.clear()
        for machine in machines:  # first pull every plug (instant), then clean up at leisure
            with contextlib.suppress(HarnessError):
                machine.power_off()
        self._remove_all(machines)

    @staticmethod
    def _remove_all(machines: list[Machine]) -> None:
        failures: list[BaseException] = []
        for machine in machines:
            try:
                remove(machine)
            except CleanupErrors as exc:
                failures.extend(exc.failures)
        if failures:
            raise CleanupErrors(failures)


def remove(machine: Machine) -> None:
    """Destroy a machine and drop its folder (the folder goes even if destroying fails), with
    interrupts held until both are done."""
    with stopping.deferred():
        try:
            if machine.started:
                machine.destroy()
        finally:
            shutil.rmtree(machine.folder, ignore_errors=True)


def _give_up(machine: Machine, console: Path) -> None:
    """A machine that failed to come up goes, its console log kept for the report; the error
    that made it fail is what counts, not a cleanup error after it."""
    console.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        shutil.copyfile(machine.console_log, console)
    with contextlib.suppress(CleanupErrors):
        remove(machine)

"""One error hierarchy for the whole harness.

Errors carry structured fields and build their message in ``__str__`` (as pycloudlib does), so
reports can show the fields separately.  Two families matter to users:

* :class:`InfrastructureError` -- the machinery failed (boot timeout, SSH refused, image build);
  reported as an *error*, retried once in a fresh VM.
* an unmet expectation is not an exception: the cell records it as data and is a *failure*
  (JUnit ``<failure type="ProductFailure">``), never retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class HarnessError(Exception):
    """Base class of every error the harness raises on purpose."""

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        return self.args[0] if self.args else type(self).__name__


@dataclass(eq=False)
class ConfigError(HarnessError):
    """Bad user input: a scenario, request or settings file.  Names file, line and field."""

    problem: str
    file: str = ""
    line: int | None = None
    field: str = ""

    def message(self) -> str:
        where = self.file
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.field) if p]
        prefix = " ".join(parts)
        return f"{prefix}: {self.problem}" if prefix else self.problem


@dataclass(eq=False)
class ConfigErrors(HarnessError):
    """Several :class:`ConfigError` found at once (validation reports everything together)."""

    errors: Sequence[ConfigError]

    def message(self) -> str:
        return "\n".join(str(e) for e in self.errors)


@dataclass(eq=False)
class InfrastructureError(HarnessError):
    """The machinery failed: not the product's fault.  ``stage`` names what was being done."""

    stage: str
    detail: str
    vm: str = ""

    def message(self) -> str:
        who = f" [{self.vm}]" if self.vm else ""
        return f"{self.stage}{who}: {self.detail}"


@dataclass(eq=False)
class CommandError(InfrastructureError):
    """A host process the harness needed exited badly."""

    command: Sequence[str] = field(default_factory=tuple)
    exit_code: int | None = None
    output: str = ""

    def message(self) -> str:
        cmd = " ".join(self.command)
        tail = self.output.strip()[-2000:]
        ended = f"exited {self.exit_code}" if self.exit_code is not None else "failed"
        text = f"{self.stage}: `{cmd}` {ended}: {self.detail}"
        return f"{text}\n{tail}" if tail else text


@dataclass(eq=False)
class WaitTimeout(InfrastructureError):
    """A wait ran out of time; ``check`` names the condition that never became true."""

    check: str = ""
    seconds: float = 0.0
    last_error: str = ""

    def message(self) -> str:
        text = f"{self.stage}: timed out after {self.seconds:.0f}s waiting for {self.check}"
        return f"{text} (last error: {self.last_error})" if self.last_error else text


@dataclass(eq=False)
class CleanupErrors(HarnessError):
    """Cleanup keeps going after a failure and reports every failure at the end."""

    failures: Sequence[BaseException]

    def message(self) -> str:
        lines = [f"{len(self.failures)} cleanup step(s) failed:"]
        lines += [f"  - {type(f).__name__}: {f}" for f in self.failures]
        return "\n".join(lines)


@dataclass(eq=False)
class GuestUnreachable(InfrastructureError):
    """The guest stopped answering (rebooting, crashed, network gone); callers may reconnect."""

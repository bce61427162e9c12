"""The one place that starts host processes.

Unit tests patch :data:`ALLOW_SPAWN` to False so that any accidental process start fails loudly.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from harness.errors import CommandError, HarnessError

ALLOW_SPAWN = True
PR_SET_PDEATHSIG = 1


class SpawnForbidden(HarnessError):
    """Raised when code tries to start a process where that is not allowed (unit tests)."""


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def _guard(args: Sequence[str]) -> None:
    if not ALLOW_SPAWN:
        raise SpawnForbidden(f"process spawning is disabled here: {' '.join(args)}")


def _env(extra: Mapping[str, str] | None) -> dict[str, str] | None:
    if not extra:
        return None
    env = dict(os.environ)
    env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    stage: str,
    check: bool = True,
    timeout: float | None = None,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
) -> Completed:
    """Run a command to completion, capturing text output.

    A non-zero exit (when ``check``), a missing executable or a timeout becomes a
    :class:`CommandError` naming ``stage``.
    """
    argv = tuple(str(a) for a in args)
    _guard(argv)
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd,
            env=_env(env),
            input=input_text,
            stdin=None if input_text is not None else subprocess.DEVNULL,
            check=False,
            preexec_fn=_die_with_parent,  # a killed harness leaves no `vagrant up` running on
        )
    except FileNotFoundError as exc:
        raise CommandError(stage=stage, detail="executable not found", command=argv) from exc
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        raise CommandError(
            stage=stage, detail=f"timed out after {timeout}s", command=argv, output=out
        ) from exc
    done = Completed(argv, proc.returncode, proc.stdout, proc.stderr)
    if check and proc.returncode != 0:
        raise CommandError(
            stage=stage,
            detail="command failed",
            command=argv,
            exit_code=proc.returncode,
            output=(proc.stdout + proc.stderr),
        )
    return done


def spawn(
    args: Sequence[str],
    *,
    log: Path,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running background process with output going to ``log``."""
    argv = tuple(str(a) for a in args)
    _guard(argv)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        try:
            return subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=_env(env),
                start_new_session=True,
                preexec_fn=_die_with_parent,  # a SIGKILLed run leaves no server behind
            )
        except FileNotFoundError as exc:
            raise CommandError(stage="spawn", detail="executable not found", command=argv) from exc


def capture(args: Sequence[str], *, stage: str, timeout: float | None = None,
            input_bytes: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run a command to completion with binary input and output: (exit code, stdout, stderr).

    A missing executable or a timeout is a :class:`CommandError`; any exit code is returned.
    """
    argv = tuple(str(a) for a in args)
    _guard(argv)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, input=input_bytes,
                              stdin=None if input_bytes is not None else subprocess.DEVNULL,
                              check=False)
    except FileNotFoundError as exc:
        raise CommandError(stage=stage, detail="executable not found", command=argv) from exc
    except subprocess.TimeoutExpired as exc:
        raise CommandError(stage=stage, detail=f"timed out after {timeout}s",
                           command=argv) from exc
    return done.returncode, done.stdout, done.stderr


def _die_with_parent() -> None:
    """In the child: SIGKILL when the thread that started it dies (Linux prctl)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def spawn_attached(args: Sequence[str], *, stdout: IO[bytes]) -> subprocess.Popen[bytes]:
    """Start a background process that stays the caller's child (its pid is what the caller
    follows) and is killed if the caller dies, however (a SIGKILLed run leaks nothing);
    output to ``stdout``."""
    argv = tuple(str(a) for a in args)
    _guard(argv)
    try:
        return subprocess.Popen(argv, stdout=stdout, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    except FileNotFoundError as exc:
        raise CommandError(stage="spawn", detail="executable not found", command=argv) from exc


def process_stamp(pid: int | None = None) -> str:
    """``"PID START"`` of a process (this one by default), START its start time in clock ticks
    since boot: a pid reused later by another process does not match (OSError: no such pid)."""
    pid = os.getpid() if pid is None else pid
    stat = Path(f"/proc/{pid}/stat").read_text()
    return f"{pid} {stat.rsplit(')', 1)[1].split()[19]}"


def stamp_alive(stamp: str) -> bool:
    """Whether the process a :func:`process_stamp` names still runs (a bare pid: that pid);
    a damaged stamp names none."""
    pid, _, started = stamp.strip().partition(" ")
    if not pid.isdigit() or len(pid) > 9:
        return False
    try:
        now = process_stamp(int(pid))
    except (OSError, ValueError, IndexError):
        return False
    return not started or now == f"{pid} {started}"

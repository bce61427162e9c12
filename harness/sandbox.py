"""Templates users write (scenario files, package sources), rendered where they cannot reach out.

jinja2's immutable sandbox refuses attribute paths such as ``cycler.__init__.__globals__`` and
calls that change data; on top of it the operators that can ask for unbounded memory or time
(``*`` on sequences, ``**``, ``%`` with a huge width) are bounded, and so is the rendered text.
Rendering also has a deadline (:data:`MAX_SECONDS`, in the main thread: a SIGALRM timer), for
loops that produce nothing (``{% for i in range(99999) %}{% for j in range(99999) %}``).
Every refusal is a :class:`jinja2.sandbox.SecurityError` (a ``TemplateError``).
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_ITEMS = 2**20  # items (characters) a ``*`` may make of a string or list
MAX_POWER_BITS = 2**16  # bits of an integer ``**`` may make
MAX_SECONDS = 10.0  # one template's rendering
_WIDE = re.compile(r"%[-#0 +]*(\d{5,}|\*)")  # a printf width or precision of 10000 and more


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def _too_big(operator: str, left: Any, right: Any) -> bool:
    if operator == "*":
        for seq, times in ((left, right), (right, left)):
            size = _size(seq)
            if size is not None and isinstance(times, int) and size * times > MAX_ITEMS:
                return True
    if operator == "**" and isinstance(left, int) and isinstance(right, int):
        return abs(left) > 1 and right * max(left.bit_length(), 1) > MAX_POWER_BITS
    return operator == "%" and isinstance(left, str) and bool(_WIDE.search(left))


class Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with bounded ``*``, ``**`` and ``%``."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any,
                   right: Any) -> Any:
        if _too_big(operator, left, right):
            raise SecurityError(f"the result of {operator!r} would be too large")
        return super().call_binop(context, operator, left, right)


def environment(loader: jinja2.BaseLoader | None = None) -> Sandbox:
    """Strict (an undefined name is an error, not an empty string), trailing newline kept."""
    return Sandbox(loader=loader, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """SecurityError in the main thread after ``seconds``; elsewhere, or when a timer is
    already set (someone else's), nothing."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getitimer(signal.ITIMER_REAL)[0]:
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise SecurityError(f"rendering took longer than {seconds:g} seconds")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def render(template: jinja2.Template, limit: int, **variables: Any) -> str:
    """The template's text, refused past ``limit`` characters or :data:`MAX_SECONDS`."""
    chunks, size = [], 0
    with _deadline(MAX_SECONDS):
        for chunk in template.generate(**variables):
            size += len(chunk)
            if size > limit:
                raise SecurityError(f"the rendered text is longer than {limit} characters")
            chunks.append(chunk)
    return "".join(chunks)

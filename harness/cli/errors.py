"""How every `vmapp` verb shows a harness error: one format, one set of exit statuses."""

from __future__ import annotations

import sys

from harness.errors import ConfigError, ConfigErrors, HarnessError

INPUT_ERROR = 2  # the user's files or arguments are wrong: nothing was started
HARNESS_ERROR = 3  # the harness or its infrastructure failed
CLOSED_PIPE = 141  # stdout's reader went away (as a shell reports a process killed by SIGPIPE)


def print_error(exc: HarnessError, prefix: str = "vmapp") -> int:
    """Print ``exc`` on stderr (each error of several on its own line); return the exit status."""
    if isinstance(exc, ConfigErrors) and len(exc.errors) > 1:
        print(f"{prefix}: {len(exc.errors)} error(s):", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return INPUT_ERROR
    shown = exc.errors[0] if isinstance(exc, ConfigErrors) and exc.errors else exc
    print(f"{prefix}: {shown}", file=sys.stderr)
    return INPUT_ERROR if isinstance(exc, (ConfigError, ConfigErrors)) else HARNESS_ERROR

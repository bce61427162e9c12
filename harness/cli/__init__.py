"""The `vmapp` command: thin verbs over the runner, images, reports and gallery."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata

from harness.cli.errors import CLOSED_PIPE, print_error
from harness.errors import HarnessError


def version() -> str:
    try:
        return metadata.version("vmapp-harness")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    from harness.cli import cell, compat, coverage, gallery, images, maintenance, run, select

    parser = argparse.ArgumentParser(prog="vmapp", description=__doc__)
    parser.add_argument("--version", action="version", version=f"vmapp {version()}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in (run, select, images, maintenance, cell, gallery, coverage, compat):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except HarnessError as exc:
        return print_error(exc)
    except KeyboardInterrupt:
        print("vmapp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `vmapp ... | head`: the reader has all it wanted
        _drop_stdout()
        return CLOSED_PIPE


def _drop_stdout() -> None:
    """Point stdout at /dev/null, so Python's own flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a file (tests): nothing is flushed into it at exit

"""The `vmapp` command: thin verbs over the runner, images, reports and gallery."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.cli.errors import print_error
from harness.errors import HarnessError


def build_parser() -> argparse.ArgumentParser:
    from harness.cli import coverage, gallery, images, maintenance, run

    parser = argparse.ArgumentParser(prog="vmapp", description=__doc__)
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for module in (run, images, maintenance, gallery, coverage):
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

"""The `vmapp` command: thin verbs over the runner, images, reports and gallery."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from harness.errors import ConfigError, ConfigErrors, HarnessError


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
    except ConfigErrors as exc:
        print(f"vmapp: {len(exc.errors)} error(s):", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    except ConfigError as exc:
        print(f"vmapp: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        print(f"vmapp: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("vmapp: interrupted", file=sys.stderr)
        return 130

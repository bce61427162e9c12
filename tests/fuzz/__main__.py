"""``make fuzz``: every interface on N seeded inputs; one line of figures per interface.

Exit status 1 when any input gave a traceback or hung; the first findings are printed.
"""

from __future__ import annotations

import argparse
import resource
import sys

from tests.fuzz.engine import fuzz
from tests.fuzz.targets import TARGETS


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--iterations", type=int, default=10_000, help="inputs per interface")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=sorted(TARGETS), action="append",
                        help="this interface only (repeatable)")
    parser.add_argument("--memory-mb", type=int, default=3072,
                        help="address-space limit of the run (a MemoryError is a finding)")
    parser.add_argument("--show", type=int, default=3, help="findings shown per interface")
    args = parser.parse_args()
    limit = args.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    failed = False
    for interface in args.only or list(TARGETS):
        stats = fuzz(interface, args.iterations, args.seed)
        print(stats.line(), flush=True)
        for finding in stats.findings[:args.show]:
            print(f"  #{finding.index} {finding.kind}: {finding.case!r:.300}\n"
                  f"    {finding.detail.strip().splitlines()[-1]}", flush=True)
        failed |= bool(stats.tracebacks or stats.hangs)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

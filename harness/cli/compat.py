"""`vmapp compat`: the compatibility report per OS image (image versions side by side) from one
or more runs' results."""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.cli.coverage import default_results
from harness.errors import ConfigError
from harness.report.compat import Source, build_compat, write_compat
from harness.report.results import read_results


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("compat", help="compatibility report per OS image: each image version's "
                       "results and facts side by side, what changed from the version before")
    p.add_argument("--results", nargs="+", action="extend", type=Path, metavar="FILE",
                   help="results.json file(s), e.g. a run on an older build of an image and "
                   "one on the new build (default: reports/latest/results.json)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="where compat.html and compat.json go (default: beside the results "
                   "file, when there is one; needed with several)")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    paths = args.results if args.results is not None else default_results()
    if not paths:
        raise ConfigError(problem="no results: no run yet (reports/latest/results.json is "
                          "missing); give results files", field="--results")
    if args.out is None and len(paths) > 1:
        raise ConfigError(problem=f"{len(paths)} results files given: say where the report "
                          "goes with --out DIR", field="--out")
    out = args.out if args.out is not None else paths[0].parent
    sources = [Source(read_results(path), path.parent) for path in paths]
    try:
        out.mkdir(parents=True, exist_ok=True)
        report = build_compat(sources, out)
        data, page = write_compat(report, out)
    except OSError as exc:
        raise ConfigError(problem=f"cannot write the report: {exc}", file=str(out),
                          field="--out") from exc
    versions = sum(len(image.versions) for image in report.images)
    changes = sum(len(image.changes) for image in report.images)
    print(f"compat: {page} and {data.name} ({len(report.images)} image(s), {versions} "
          f"version(s), {changes} change(s) between versions)")
    return 0

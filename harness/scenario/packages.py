"""Packages and configs of a scenario: built from a source folder, a ready-made file, inline
text or an existing blob.  Every path a scenario names is checked here, before any VM boots, to
stay inside the scenario's folder tree (``root``: the folder of the scenario file run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.confine import inside
from harness.errors import ConfigError
from harness.packages.build import SOURCES, PackageSpec, ready_file, source_folder
from harness.scenario import model
from harness.schema import Validator, suggest
from harness.yamldoc import PathKey

KINDS = ("source", "file", "content", "url")
ONLY_WITH_SOURCE = ("format", "member", "vars")


def _sources(root: Path) -> list[str]:
    folder = root / SOURCES
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _found(check: Validator, path: PathKey, find: Callable[[Path, str], Path], root: Path,
           name: str) -> None:
    """Report at ``path`` why ``find(root, name)`` fails, if it does."""
    try:
        find(root, name)
    except ConfigError as exc:
        check.fail(path, exc.problem)


def _built(check: Validator, raw: dict[str, Any], path: PathKey, root: Path) -> PackageSpec:
    name = raw["source"]
    try:
        folder: Path | None = source_folder(root, name)
    except ConfigError as exc:
        folder = None
        others = [s for s in _sources(root) if s != name]
        check.fail((*path, "source"), exc.problem + suggest(name, others))
    if (raw.get("format") == "file") != ("member" in raw):
        check.fail(path, "'member' (the file to publish) goes with format: file, and only "
                   "with it")
    elif folder is not None and "member" in raw:
        _found(check, (*path, "member"), inside, folder, raw["member"])
    return PackageSpec(root=root, source=name, format=raw.get("format", "tar.gz"),
                       vars={k: str(v) for k, v in raw.get("vars", {}).items()},
                       member=raw.get("member", ""))


def _ready(check: Validator, raw: dict[str, Any], path: PathKey, root: Path) -> PackageSpec:
    for key in ONLY_WITH_SOURCE:
        if key in raw:
            check.fail((*path, key), f"{key!r} goes with 'source'; a 'file' is uploaded as is")
    _found(check, (*path, "file"), ready_file, root, raw["file"])
    return PackageSpec(root=root, file=raw["file"])


def blob(check: Validator, raw: dict[str, Any] | None, path: PathKey,
         root: Path) -> model.BlobSpec | None:
    """A package or config as the model holds it; problems go to ``check``."""
    if raw is None:
        return None
    if len([k for k in KINDS if k in raw]) != 1:
        check.fail(path, "give exactly one of 'source' (a folder of packages/ beside the "
                   "scenario, built), 'file' (a ready-made package file, uploaded as is), "
                   "'content' (inline text) or 'url' (an existing blob)")
        return None
    spec = None
    if "source" in raw:
        spec = _built(check, raw, path, root)
    elif "file" in raw:
        spec = _ready(check, raw, path, root)
    return model.BlobSpec(package=spec, content=raw.get("content"), url=raw.get("url"),
                          blob_type=raw.get("blobType", "BlockBlob"),
                          pad=raw.get("pad", True))

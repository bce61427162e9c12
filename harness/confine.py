"""Paths a user's file names, confined to that file's own folder tree.

A scenario names package sources, package files and includes.  Each must stay inside the
scenario's folder once symlinks are followed: no absolute path, no ``..`` that climbs out, no
symlink that points out.  Names the filesystem would refuse (over 255 bytes a component, a NUL,
text that is not UTF-8) are refused here, as one clean :class:`ConfigError`, instead of as an
``OSError`` later.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from harness.errors import ConfigError

NAME_MAX = 255  # bytes in one path component (Linux)
PATH_MAX = 4096  # bytes in a whole path (Linux)


def _refuse(name: str, why: str) -> ConfigError:
    return ConfigError(problem=f"{name!r} {why}")


def check_name(name: str) -> PurePosixPath:
    """``name`` as a relative path the filesystem can take; a ConfigError saying why not."""
    if not name:
        raise _refuse(name, "is empty")
    if "\0" in name:
        raise _refuse(name, "contains a NUL character")
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(name, "is not valid text (a lone surrogate)") from None
    if len(encoded) > PATH_MAX:
        raise _refuse(name[:40] + "...", f"is longer than {PATH_MAX} bytes")
    pure = PurePosixPath(name)
    if pure.is_absolute():
        raise _refuse(name, "is absolute; name a path relative to the scenario's folder")
    for part in pure.parts:
        if len(part.encode("utf-8")) > NAME_MAX:
            raise _refuse(part[:40] + "...", f"is longer than {NAME_MAX} bytes (a file "
                          "name's limit)")
    return pure


def inside(root: Path, name: str, base: str = "") -> Path:
    """``root / base / name`` (symlinks followed) if it stays inside ``root``; else a
    ConfigError.  ``name`` is the user's; ``base`` the harness's (``packages`` for sources)."""
    pure = check_name(name)
    try:
        real_root = root.resolve()
        target = (real_root / base / pure).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (RuntimeError before 3.13)
        raise _refuse(name, f"cannot be resolved: {exc}") from None
    if not target.is_relative_to(real_root):
        how = "climbs out of" if ".." in pure.parts else "points out of"
        raise _refuse(name, f"{how} {real_root} (to {target}); paths must stay inside the "
                      "scenario's folder tree")
    return target


def walk(root: Path, top: Path) -> list[Path]:
    """Every path under ``top`` (sorted), each checked to stay inside ``root`` (a symlink in
    the tree that points out is refused)."""
    real_root = root.resolve()
    found = []
    for folder, dirs, files in os.walk(top):
        for entry in [*dirs, *files]:
            path = Path(folder) / entry
            inside(real_root, os.path.relpath(path, real_root))
            found.append(path)
    return sorted(found)

"""The Windows command launcher (images/windows/vmapp-launch.c), built with mingw-w64.

The agent's Windows side runs every command string through it: the string is read from a file
(so no quoting layer touches it), run as ``cmd.exe /c <string>`` with output to files, and the
full 32-bit exit code is written to a side file.  Builds are cached by the hash of the source
and the compiler command, so a changed source is rebuilt and an unchanged one never is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness import proc
from harness.settings import REPO_ROOT, cache_dir

SOURCE = REPO_ROOT / "images" / "windows" / "vmapp-launch.c"
COMPILER = "x86_64-w64-mingw32-gcc"
FLAGS = ("-municode", "-O2", "-s", "-Wall", "-Wextra", "-Werror")
NAME = "vmapp-launch.exe"


def build_launcher(cache: Path | None = None, source: Path = SOURCE) -> Path:
    """The launcher executable, built once per source version."""
    digest = hashlib.sha256(source.read_bytes() + " ".join((COMPILER, *FLAGS)).encode())
    folder = (cache or cache_dir()) / "launcher" / digest.hexdigest()[:16]
    exe = folder / NAME
    if exe.is_file():
        return exe
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{NAME}.part"
    proc.run([COMPILER, *FLAGS, "-o", str(partial), str(source)],
             stage="build the Windows launcher")
    partial.replace(exe)
    return exe

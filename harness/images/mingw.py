"""Windows programs of our own (``images/windows/*.c``), built on the host with mingw-w64.

- the launcher (``vmapp-launch.c``): the agent's Windows side runs every command string through
  it: the string is read from a file (so no quoting layer touches it), run as
  ``cmd.exe /c <string>`` with output to files, and the full 32-bit exit code is written to a
  side file;
- ``tar.exe`` (``vmapp-tar.c``): the wine stand-in's zip-only stand-in for the bsdtar that
  Windows ships as ``C:\\Windows\\System32\\tar.exe`` and wine lacks (docs/windows.md).

Builds are cached by the hash of the source and the compiler command, so a changed source is
rebuilt and an unchanged one never is.  Libraries are linked statically: the guest gets one
file, no DLL beside it.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from harness import proc
from harness.settings import REPO_ROOT, cache_dir

SOURCES = REPO_ROOT / "images" / "windows"
COMPILER = "x86_64-w64-mingw32-gcc"
FLAGS = ("-municode", "-O2", "-s", "-Wall", "-Wextra", "-Werror")


@dataclass(frozen=True)
class Program:
    source: Path
    name: str  # the executable's file name
    libraries: tuple[str, ...] = ()  # linker arguments after the source


LAUNCHER = Program(SOURCES / "vmapp-launch.c", "vmapp-launch.exe")
TAR = Program(SOURCES / "vmapp-tar.c", "tar.exe", ("-static", "-lz"))  # zlib: libz-mingw-w64-dev


def build_program(program: Program, cache: Path | None = None) -> Path:
    """The program's executable, built once per source version."""
    command = (COMPILER, *FLAGS, *program.libraries)
    digest = hashlib.sha256(program.source.read_bytes() + " ".join(command).encode())
    folder = (cache or cache_dir()) / "windows" / digest.hexdigest()[:16]
    exe = folder / program.name
    if exe.is_file():
        return exe
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{program.name}.{uuid.uuid4().hex}.part"  # builders may race: last wins
    proc.run([COMPILER, *FLAGS, "-o", str(partial), str(program.source), *program.libraries],
             stage=f"build the Windows program {program.name} (mingw-w64)")
    partial.replace(exe)
    return exe

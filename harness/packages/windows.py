"""Windows installers built from a rendered source folder: an MSI with wixl, an exe with makensis.

* ``msi``: the folder has exactly one ``*.wxs``; ``wixl -a x64`` builds it with the folder as
  the source of the files it names.
* ``exe``: the folder has exactly one ``*.nsi``; ``makensis -DOUTFILE=<path>`` builds it (the
  script says ``OutFile "${OUTFILE}"``).  Its ``Target`` line decides 32 or 64 bits.

Both tools stamp the build time into their output, so these builds are not byte-for-byte
repeatable the way tar.gz, zip and deb are.
"""

from __future__ import annotations

from pathlib import Path

from harness import proc
from harness.errors import ConfigError

WINDOWS_FORMATS = ("msi", "exe")
_SCRIPTS = {"msi": "*.wxs", "exe": "*.nsi"}


def _script(tree: Path, fmt: str) -> Path:
    found = sorted(tree.glob(_SCRIPTS[fmt]))
    if len(found) != 1:
        raise ConfigError(problem=f"format {fmt} needs exactly one {_SCRIPTS[fmt]} at the top of "
                          f"the source folder; found {len(found)}", field="package.source")
    return found[0]


def build_windows(fmt: str, tree: Path, work: Path) -> bytes:
    """The installer's bytes, built from the rendered ``tree`` (``work`` is scratch space)."""
    script = _script(tree, fmt)
    out = work / f"package.{fmt}"
    if fmt == "msi":
        proc.run(["wixl", "-a", "x64", "-o", str(out), script.name], cwd=tree,
                 stage="build package: wixl")
    else:
        proc.run(["makensis", "-V2", "-NOCD", f"-DOUTFILE={out}", script.name], cwd=tree,
                 stage="build package: makensis")
    return out.read_bytes()

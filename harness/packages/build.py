"""Build a package from a source folder: tar.gz, zip, a single file, a .deb, a tar of .debs,
or a Windows installer (msi, exe: :mod:`harness.packages.windows`); or take a ready-made package
file as it is.

Sources are folders under ``packages/`` beside the scenario file; ready-made files are named
relative to the scenario file.  Both stay inside the scenario's folder tree (harness.confine).
Text files in the source are rendered with jinja2's sandbox (``{{ version }}`` and the
scenario's vars), so one source serves several versions.  File modes are kept; timestamps are
fixed for stable output.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from harness import proc, sandbox
from harness.confine import inside, walk
from harness.errors import ConfigError
from harness.packages.windows import WINDOWS_FORMATS, build_windows

SOURCES = "packages"  # the folder of package sources, beside the scenario file
FORMATS = ("tar.gz", "zip", "file", "deb", "debs", *WINDOWS_FORMATS)
EPOCH = 1_700_000_000
MAX_RENDERED = 64 * 2**20  # characters one rendered file of a source may grow to


@dataclass(frozen=True)
class PackageSpec:
    """A package built from ``source`` (a folder of ``root/packages``) or the ready-made
    ``file`` (relative to ``root``); ``root`` is the scenario file's folder."""

    root: Path
    source: str = ""
    format: str = "tar.gz"
    vars: dict[str, str] = field(default_factory=dict)
    member: str = ""  # for "file": which file of the source is the package
    file: str = ""


def source_folder(root: Path, source: str) -> Path:
    """The source folder ``packages/<source>`` beside the scenario; a ConfigError if it leaves
    the scenario's folder tree or is not a folder."""
    folder = inside(root, source, base=SOURCES)
    if not folder.is_dir():
        raise ConfigError(problem=f"no package source folder {SOURCES}/{source} beside the "
                          "scenario file")
    return folder


def ready_file(root: Path, name: str) -> Path:
    """A ready-made package file named relative to the scenario file, inside its folder tree."""
    path = inside(root, name)
    if not path.is_file():
        raise ConfigError(problem=f"no such file {name!r} (relative to the scenario file)")
    return path


def _render_tree(root: Path, source: Path, dest: Path, variables: dict[str, str]) -> None:
    """Copy ``source`` to ``dest`` rendering text files; modes kept, times fixed to EPOCH.
    Every entry is checked to stay in ``root``: a symlink out of the scenario's tree is refused.
    """
    env = sandbox.environment()
    dirs: list[tuple[Path, Path]] = []
    for path in walk(root, source):
        target = dest / path.relative_to(source)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            dirs.append((path, target))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            target.write_bytes(data)
        else:
            try:
                target.write_text(sandbox.render(env.from_string(text), MAX_RENDERED, **variables))
            except Exception as exc:  # a template can raise anything Python can
                raise ConfigError(problem=f"template error in {path}: {exc}",
                                  field="package.vars") from exc
        shutil.copymode(path, target)
        os.utime(target, (EPOCH, EPOCH))
    for path, target in reversed(dirs):  # last: writing into a folder changes its time
        shutil.copymode(path, target)
        os.utime(target, (EPOCH, EPOCH))


def _tar_gz(tree: Path) -> bytes:
    buffer = io.BytesIO()
    # gzip stamps its header with the time unless told otherwise
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=EPOCH) as packed, \
            tarfile.open(fileobj=packed, mode="w") as tar:
        for path in sorted(tree.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(tree)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "root", "root"
            if path.is_file():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def _zip(tree: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(tree.rglob("*")):
            info = zipfile.ZipInfo(str(path.relative_to(tree)) + ("/" if path.is_dir() else ""),
                                   date_time=(2023, 11, 14, 0, 0, 0))
            info.external_attr = (path.stat().st_mode & 0xFFFF) << 16
            if not path.is_dir():  # a ZipInfo is stored, whatever the ZipFile says, unless told
                info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"" if path.is_dir() else path.read_bytes())
    return buffer.getvalue()


def _deb(tree: Path, work: Path) -> tuple[str, bytes]:
    """dpkg-deb --build on a tree with DEBIAN/control; returns (file name, bytes)."""
    for path in tree.rglob("*"):
        if path.is_dir():
            path.chmod(0o755)
    out = work / "out.deb"
    proc.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(out)],
             stage="build package: dpkg-deb", env={"SOURCE_DATE_EPOCH": str(EPOCH)})
    fields = proc.run(["dpkg-deb", "-f", str(out), "Package", "Version", "Architecture"],
                      stage="build package: dpkg-deb").stdout
    info = dict(line.split(": ", 1) for line in fields.splitlines() if ": " in line)
    return f"{info['Package']}_{info['Version']}_{info['Architecture']}.deb", out.read_bytes()


def _checked(field: str, find: Callable[[Path, str], Path], root: Path, name: str) -> Path:
    try:
        return find(root, name)
    except ConfigError as exc:
        raise ConfigError(problem=exc.problem, field=field) from None


def build_package(spec: PackageSpec, version: str) -> bytes:
    """The package's bytes, ready to upload."""
    if spec.file:
        return _checked("package.file", ready_file, spec.root, spec.file).read_bytes()
    if spec.format not in FORMATS:
        raise ConfigError(problem=f"unknown package format {spec.format!r}; use one of "
                          f"{', '.join(FORMATS)}", field="package.format")
    source = _checked("package.source", source_folder, spec.root, spec.source)
    variables = {"version": version, **spec.vars}
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        try:
            _render_tree(spec.root, source, tree, variables)
        except ConfigError as exc:
            if exc.field:
                raise
            raise ConfigError(problem=exc.problem, field="package.source") from None
        if spec.format == "tar.gz":
            return _tar_gz(tree)
        if spec.format == "zip":
            return _zip(tree)
        if spec.format == "file":
            _checked("package.member", inside, source, spec.member)
            member = tree / spec.member
            if not member.is_file():
                raise ConfigError(problem=f"{spec.source}/{spec.member}: not a file",
                                  field="package.member")
            return member.read_bytes()
        if spec.format == "deb":
            return _deb(tree, Path(tmp))[1]
        if spec.format in WINDOWS_FORMATS:
            return build_windows(spec.format, tree, Path(tmp))
        debs = Path(tmp) / "debs"
        debs.mkdir()
        for sub in sorted(p for p in tree.iterdir() if p.is_dir()):
            name, data = _deb(sub, Path(tmp))
            (debs / name).write_bytes(data)
        return _tar_gz(debs)

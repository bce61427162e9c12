"""Build a package from a source folder: tar.gz, zip, a single file, a .deb, a tar of .debs,
or a Windows installer (msi, exe: :mod:`harness.packages.windows`).

Text files in the source are rendered with jinja2 (``{{ version }}`` and the scenario's vars), so
one source serves several versions.  File modes are kept; timestamps are fixed for stable output.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from harness import proc
from harness.errors import ConfigError
from harness.packages.windows import WINDOWS_FORMATS, build_windows
from harness.settings import REPO_ROOT

SOURCES = REPO_ROOT / "scenarios" / "packages"
FORMATS = ("tar.gz", "zip", "file", "deb", "debs", *WINDOWS_FORMATS)
EPOCH = 1_700_000_000


@dataclass(frozen=True)
class PackageSpec:
    source: str
    format: str
    vars: dict[str, str] = field(default_factory=dict)
    member: str = ""  # for "file": which file of the source is the package


def _render_tree(source: Path, dest: Path, variables: dict[str, str]) -> None:
    """Copy ``source`` to ``dest`` rendering text files; modes kept, times fixed to EPOCH."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    dirs: list[tuple[Path, Path]] = []
    for path in sorted(source.rglob("*")):
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
                target.write_text(env.from_string(text).render(**variables))
            except jinja2.TemplateError as exc:
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


def build_package(spec: PackageSpec, version: str, sources: Path = SOURCES) -> bytes:
    """The package's bytes, ready to upload."""
    if spec.format not in FORMATS:
        raise ConfigError(problem=f"unknown package format {spec.format!r}; use one of "
                          f"{', '.join(FORMATS)}", field="package.format")
    source = sources / spec.source
    if not source.is_dir():
        raise ConfigError(problem=f"no package source folder {source}", field="package.source")
    variables = {"version": version, **spec.vars}
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        _render_tree(source, tree, variables)
        if spec.format == "tar.gz":
            return _tar_gz(tree)
        if spec.format == "zip":
            return _zip(tree)
        if spec.format == "file":
            member = tree / (spec.member or "")
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

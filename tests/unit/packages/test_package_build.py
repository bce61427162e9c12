"""Packages built for real (tarfile, zipfile, dpkg-deb) from a source folder, then taken apart."""

from __future__ import annotations

import io
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from harness import proc
from harness.errors import ConfigError
from harness.packages.build import EPOCH, PackageSpec, build_package
from harness.settings import REPO_ROOT

BINARY = bytes(range(256))


def make_tree(root: Path, files: dict[str, tuple[str | bytes, int]]) -> Path:
    for name, (content, mode) in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        path.chmod(mode)
    return root


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    root = tmp_path / "packages"
    make_tree(root / "app", {
        "app/bin/run": ("#!/bin/sh\necho app {{ version }} {{ flavour }}\n", 0o755),
        "app/README": ("version {{ version }}\n", 0o644),
        "app/data.bin": (BINARY, 0o600),
    })
    (root / "app" / "app" / "private").mkdir(mode=0o700)
    (root / "app" / "app" / "private").chmod(0o700)
    make_tree(root / "single", {"tool.sh": ("echo {{ version }}\n", 0o755)})
    make_tree(root / "deb", {
        "DEBIAN/control": ("Package: vmapp-hello\nVersion: {{ version }}\nArchitecture: all\n"
                           "Maintainer: t <t@example.com>\nDescription: test package\n", 0o644),
        "usr/bin/hello": ("#!/bin/sh\necho hello {{ version }}\n", 0o755),
    })
    for name in ("one", "two"):
        make_tree(root / "debs" / name, {
            "DEBIAN/control": (f"Package: vmapp-{name}\nVersion: {{{{ version }}}}\n"
                               "Architecture: all\nMaintainer: t <t@example.com>\n"
                               "Description: test\n", 0o644),
            f"opt/{name}/marker": (name, 0o644),
        })
    return root


def build(sources: Path, source: str, fmt: str, version: str = "1.2.3", **kw: str) -> bytes:
    spec = PackageSpec(root=sources.parent, source=source, format=fmt,
                       vars={"flavour": "plain"}, **kw)
    return build_package(spec, version)


def test_tar_gz_renders_templates_and_keeps_modes(sources: Path) -> None:
    data = build(sources, "app", "tar.gz")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert list(members) == ["app", "app/README", "app/bin", "app/bin/run", "app/data.bin",
                                 "app/private"]
        assert stat.S_IMODE(members["app/bin/run"].mode) == 0o755
        assert stat.S_IMODE(members["app/README"].mode) == 0o644
        assert stat.S_IMODE(members["app/data.bin"].mode) == 0o600
        assert stat.S_IMODE(members["app/private"].mode) == 0o700
        assert members["app/private"].isdir()
        for member in members.values():
            assert (member.uid, member.gid, member.uname, member.gname, member.mtime) == (
                0, 0, "root", "root", EPOCH)
        run = tar.extractfile("app/bin/run")
        readme = tar.extractfile("app/README")
        binary = tar.extractfile("app/data.bin")
        assert run is not None and readme is not None and binary is not None
        assert run.read() == b"#!/bin/sh\necho app 1.2.3 plain\n"
        assert readme.read() == b"version 1.2.3\n"
        assert binary.read() == BINARY


def test_tar_gz_unpacks_with_real_tar(sources: Path, tmp_path: Path) -> None:
    archive = tmp_path / "app.tar.gz"
    archive.write_bytes(build(sources, "app", "tar.gz", version="2.0.0"))
    out = tmp_path / "out"
    out.mkdir()
    proc.run(["tar", "-C", str(out), "-xzf", str(archive)], stage="test")
    assert proc.run([str(out / "app" / "bin" / "run")], stage="test").stdout == \
        "app 2.0.0 plain\n"


def test_builds_are_byte_for_byte_identical(sources: Path) -> None:
    first = {fmt: build(sources, "app", fmt) for fmt in ("tar.gz", "zip")}
    first["deb"] = build(sources, "deb", "deb")
    time.sleep(1.1)  # anything stamped with the build time would now differ
    assert build(sources, "app", "tar.gz") == first["tar.gz"]
    assert build(sources, "app", "zip") == first["zip"]
    assert build(sources, "deb", "deb") == first["deb"]
    assert build(sources, "app", "tar.gz", version="1.2.4") != first["tar.gz"]


def test_zip_keeps_modes_and_fixed_dates(sources: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(build(sources, "app", "zip"))) as archive:
        infos = {i.filename: i for i in archive.infolist()}
        assert list(infos) == ["app/", "app/README", "app/bin/", "app/bin/run", "app/data.bin",
                               "app/private/"]
        assert stat.S_IMODE(infos["app/bin/run"].external_attr >> 16) == 0o755
        assert stat.S_IMODE(infos["app/data.bin"].external_attr >> 16) == 0o600
        assert stat.S_ISDIR(infos["app/private/"].external_attr >> 16)
        assert {i.date_time for i in infos.values()} == {(2023, 11, 14, 0, 0, 0)}
        assert {i.compress_type for i in infos.values() if not i.is_dir()} == {
            zipfile.ZIP_DEFLATED}
        assert archive.read("app/bin/run") == b"#!/bin/sh\necho app 1.2.3 plain\n"
        assert archive.read("app/data.bin") == BINARY


def test_zip_unpacks_with_real_unzip_keeping_modes(sources: Path, tmp_path: Path) -> None:
    archive = tmp_path / "app.zip"
    archive.write_bytes(build(sources, "app", "zip"))
    out = tmp_path / "out"
    proc.run(["unzip", "-q", str(archive), "-d", str(out)], stage="test")
    assert stat.S_IMODE((out / "app/bin/run").stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "app/data.bin").stat().st_mode) == 0o600
    assert (out / "app/README").read_text() == "version 1.2.3\n"


def test_file_is_one_rendered_member(sources: Path) -> None:
    assert build(sources, "single", "file", member="tool.sh") == b"echo 1.2.3\n"


def test_file_member_must_exist(sources: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build(sources, "single", "file", member="nope.sh")
    assert str(caught.value) == "package.member: single/nope.sh: not a file"


def test_deb_is_a_real_package(sources: Path, tmp_path: Path) -> None:
    deb = tmp_path / "hello.deb"
    deb.write_bytes(build(sources, "deb", "deb", version="3.1.0"))
    fields = proc.run(["dpkg-deb", "-f", str(deb), "Package", "Version"], stage="test").stdout
    assert fields == "Package: vmapp-hello\nVersion: 3.1.0\n"
    listing = proc.run(["dpkg-deb", "-c", str(deb)], stage="test").stdout.splitlines()
    entries = {line.split()[-1]: line.split()[:2] for line in listing}
    assert entries["./usr/bin/hello"] == ["-rwxr-xr-x", "root/root"]
    assert entries["./usr/bin/"] == ["drwxr-xr-x", "root/root"]
    out = tmp_path / "x"
    proc.run(["dpkg-deb", "-x", str(deb), str(out)], stage="test")
    assert (out / "usr/bin/hello").read_text() == "#!/bin/sh\necho hello 3.1.0\n"


def test_debs_is_a_tarball_of_named_packages(sources: Path, tmp_path: Path) -> None:
    data = build(sources, "debs", "debs", version="0.9.1")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert tar.getnames() == ["vmapp-one_0.9.1_all.deb", "vmapp-two_0.9.1_all.deb"]
        member = tar.extractfile("vmapp-two_0.9.1_all.deb")
        assert member is not None
        deb = tmp_path / "two.deb"
        deb.write_bytes(member.read())
    assert proc.run(["dpkg-deb", "-f", str(deb), "Package"], stage="test").stdout == \
        "vmapp-two\n"


def test_shipped_golang_source(tmp_path: Path) -> None:
    data = build_package(PackageSpec(root=REPO_ROOT / "scenarios", source="golang",
                                     format="tar.gz"), "1.0.0")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["go", "go/VERSION", "go/bin", "go/bin/go"]
        assert stat.S_IMODE(tar.getmember("go/bin/go").mode) == 0o755
        version = tar.extractfile("go/VERSION")
        assert version is not None and version.read() == b"go1.0.0\n"
    assert (REPO_ROOT / "scenarios" / "packages" / "golang").is_dir()


@pytest.mark.parametrize(("source", "fmt", "message"), [
    ("app", "rar",
     "package.format: unknown package format 'rar'; use one of tar.gz, zip, file, deb, debs, "
     "msi, exe"),
    ("nope", "zip",
     "package.source: no package source folder packages/nope beside the scenario file"),
])
def test_bad_specs(sources: Path, source: str, fmt: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_package(PackageSpec(root=sources.parent, source=source, format=fmt), "1.0.0")
    assert str(caught.value) == message


def test_undefined_template_variable(sources: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        build_package(PackageSpec(root=sources.parent, source="app", format="zip"), "1.0.0")
    assert str(caught.value) == (f"package.vars: template error in "
                                 f"{sources / 'app/app/bin/run'}: 'flavour' is undefined")

"""A scenario cannot run code on the host nor package host files outside its own folder tree."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from harness import sandbox
from harness.errors import ConfigError, ConfigErrors
from harness.packages.build import PackageSpec, build_package
from harness.scenario.load import load_scenario

ESCAPE = "{{{{ cycler.__init__.__globals__.os.system('id > {}') }}}}"
APP = ("gallery:\n  applications:\n    a:\n      versions:\n"
       "        1.0.0: {{package: {package}, install: i, remove: r}}\n"
       "steps:\n  - deploy: [{{app: a, version: 1.0.0}}]\n")
V = "gallery.applications.a.versions.1.0.0.package"


def scenario(folder: Path, package: str = "{content: x}", head: str = "description: d\n") -> Path:
    path = folder / "s.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(head + APP.format(package=package))
    return path


def errors(path: Path) -> list[str]:
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        load_scenario(path)
    found = caught.value
    return [str(e) for e in (found.errors if isinstance(found, ConfigErrors) else [found])]


@pytest.mark.usefixtures("no_spawn")
def test_description_cannot_run_a_command(tmp_path: Path) -> None:
    flag = tmp_path / "F"
    path = scenario(tmp_path / "s", head=f"description: >\n  {ESCAPE.format(flag)}\n")
    assert errors(path) == [f"{path}:2: template error: access to attribute '__init__' of "
                            "'type' object is unsafe."]
    assert not flag.exists()


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
])
def test_other_escapes_are_refused(tmp_path: Path, template: str) -> None:
    path = scenario(tmp_path, head=f"description: \"{template}\"\n")
    (error,) = errors(path)
    assert error.startswith(f"{path}:1: template error: ") and "unsafe" in error


def test_package_template_cannot_run_a_command(tmp_path: Path) -> None:
    flag = tmp_path / "F"
    source = tmp_path / "packages" / "evil"
    source.mkdir(parents=True)
    (source / "run.sh").write_text(ESCAPE.format(flag) + "\n")
    with pytest.raises(ConfigError) as caught:
        build_package(PackageSpec(root=tmp_path, source="evil"), "1.0.0")
    assert str(caught.value) == (f"package.vars: template error in {source / 'run.sh'}: "
                                 "access to attribute '__init__' of 'type' object is unsafe.")
    assert not flag.exists()


@pytest.mark.parametrize(("template", "problem"), [
    ("{{ 'a' * 100000000 }}", "the result of '*' would be too large"),
    ("{{ 10 ** 1000000 }}", "the result of '**' would be too large"),
    ("{{ '%0999999999d' % 1 }}", "the result of '%' would be too large"),
])
def test_templates_cannot_ask_for_unbounded_memory(tmp_path: Path, template: str,
                                                   problem: str) -> None:
    path = scenario(tmp_path, head=f"description: \"{template}\"\n")
    assert errors(path) == [f"{path}:1: template error: {problem}"]


def test_rendered_text_is_bounded(tmp_path: Path) -> None:
    path = scenario(tmp_path, head="description: \"{% for i in range(99999) %}{{ 'x' * 99999 }}"
                    "{% endfor %}\"\n")
    assert errors(path) == [f"{path}: template error: the rendered text is longer than "
                            "262144 characters"]


def test_rendering_time_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "MAX_SECONDS", 0.5)
    path = scenario(tmp_path, head="description: \"{% for i in range(99999) %}"
                    "{% for j in range(99999) %}{% endfor %}{% endfor %}\"\n")
    assert errors(path) == [f"{path}:1: template error: rendering took longer than 0.5 seconds"]


def test_scenario_file_size_is_bounded(tmp_path: Path) -> None:
    path = scenario(tmp_path, head=f"description: {'x' * 300_000}\n")
    assert errors(path) == [f"{path}: template: 's.yaml' is larger than 262144 bytes"]


def test_jinja_include_stays_inside_the_folder(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password\n")
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "link.txt").symlink_to(secret)
    for name in (str(secret), "../secret.txt", "link.txt"):
        path = scenario(tmp_path / "s", head=f"description: \"{{% include '{name}' %}}\"\n")
        (error,) = errors(path)
        assert error.startswith(f"{path}: template: '{name}' ")
        assert "paths must stay inside" in error or "is absolute" in error


# -- package paths: source, member, file, include ------------------------------------------

@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder with a private key, beside (not inside) the scenario's folder."""
    folder = tmp_path / "home" / ".ssh"
    folder.mkdir(parents=True)
    (folder / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    return folder


@pytest.fixture
def here(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "packages" / "app").mkdir(parents=True)
    (folder / "packages" / "app" / "run.sh").write_text("echo {{ version }}\n")
    return folder


def test_source_absolute_is_refused(here: Path, outside: Path) -> None:
    path = scenario(here, f"{{source: '{outside}'}}")
    assert errors(path) == [f"{path}:6 {V}.source: '{outside}' is absolute; name a path "
                            "relative to the scenario's folder"]


def test_source_climbing_out_is_refused(here: Path, outside: Path) -> None:
    path = scenario(here, "{source: ../../home/.ssh}")
    assert errors(path) == [f"{path}:6 {V}.source: '../../home/.ssh' climbs out of {here} (to "
                            f"{outside}); paths must stay inside the scenario's folder tree"]


def test_source_symlink_out_is_refused(here: Path, outside: Path) -> None:
    (here / "packages" / "keys").symlink_to(outside)
    path = scenario(here, "{source: keys}")
    assert errors(path) == [f"{path}:6 {V}.source: 'keys' points out of {here} (to "
                            f"{outside}); paths must stay inside the scenario's folder tree"]


def test_symlink_out_inside_a_source_is_refused_when_built(here: Path, outside: Path) -> None:
    (here / "packages" / "app" / "key").symlink_to(outside / "id_rsa")
    load_scenario(scenario(here, "{source: app}"))  # the folder itself is inside
    with pytest.raises(ConfigError) as caught:
        build_package(PackageSpec(root=here, source="app"), "1.0.0")
    assert str(caught.value) == (f"package.source: 'packages/app/key' points out of {here} (to "
                                 f"{outside / 'id_rsa'}); paths must stay inside the scenario's "
                                 "folder tree")


def test_symlinks_inside_the_tree_are_allowed(here: Path) -> None:
    (here / "shared").mkdir()
    (here / "shared" / "notes.txt").write_text("v{{ version }}\n")
    (here / "packages" / "alias").symlink_to(here / "packages" / "app")
    (here / "packages" / "app" / "notes.txt").symlink_to(here / "shared" / "notes.txt")
    (spec,) = [v.package.package for v in load_scenario(scenario(here, "{source: alias}"))
               .apps["a"].versions.values()]
    assert spec == PackageSpec(root=here, source="alias")
    with tarfile.open(fileobj=io.BytesIO(build_package(spec, "2.0.0")), mode="r:gz") as tar:
        notes = tar.extractfile("notes.txt")
        assert notes is not None and notes.read() == b"v2.0.0\n"


def test_member_climbing_out_is_refused(here: Path, outside: Path) -> None:
    path = scenario(here, "{source: app, format: file, member: ../../../home/.ssh/id_rsa}")
    (error,) = errors(path)
    assert error.startswith(f"{path}:6 {V}.member: '../../../home/.ssh/id_rsa' climbs out of "
                            f"{here / 'packages' / 'app'}")
    with pytest.raises(ConfigError) as caught:
        build_package(PackageSpec(root=here, source="app", format="file",
                                  member="../../../home/.ssh/id_rsa"), "1.0.0")
    assert str(caught.value).startswith("package.member: '../../../home/.ssh/id_rsa' climbs")


def test_names_over_255_bytes_are_refused(here: Path) -> None:
    long = "é" * 128  # 256 bytes
    for package in (f"{{source: {long}}}", f"{{file: {long}}}"):
        (error,) = errors(scenario(here, package))
        assert error.endswith(f"'{'é' * 40}...' is longer than 255 bytes (a file name's limit)")
    path = scenario(here, head=f"description: d\ninclude: [{long}.yaml]\n")
    assert errors(path) == [f"{path}:2 include[0]: '{'é' * 40}...' is longer than 255 bytes "
                            "(a file name's limit)"]


@pytest.mark.parametrize("name", ["{outside}/../.ssh/id_rsa", "../home/.ssh/id_rsa", "key"])
def test_file_out_of_the_tree_is_refused(here: Path, outside: Path, name: str) -> None:
    (here / "key").symlink_to(outside / "id_rsa")
    path = scenario(here, f"{{file: '{name.format(outside=outside)}'}}")
    (error,) = errors(path)
    assert error.startswith(f"{path}:6 {V}.file: ")
    assert "is absolute" in error or "paths must stay inside" in error
    with pytest.raises(ConfigError) as caught:
        build_package(PackageSpec(root=here, file=name.format(outside=outside)), "1.0.0")
    assert str(caught.value).startswith("package.file: ")


@pytest.mark.parametrize("name", ["{outside}/id_rsa", "../home/.ssh/id_rsa", "link.yaml"])
def test_include_out_of_the_tree_is_refused(here: Path, outside: Path, name: str) -> None:
    (outside / "x.yaml").write_text("gallery: {applications: {}}\n")
    (here / "link.yaml").symlink_to(outside / "x.yaml")
    path = scenario(here, head=f"description: d\ninclude: ['{name.format(outside=outside)}']\n")
    (error,) = errors(path)
    assert error.startswith(f"{path}:2 include[0]: ")
    assert "is absolute" in error or "paths must stay inside" in error


def test_file_package_with_source_keys_is_refused(here: Path) -> None:
    (here / "hello.deb").write_bytes(b"!<arch>\n")
    path = scenario(here, "{file: hello.deb, format: deb}")
    assert errors(path) == [f"{path}:6 {V}.format: 'format' goes with 'source'; a 'file' is "
                            "uploaded as is"]


# -- packages from anywhere (issue 12) ---------------------------------------------------------

def test_scenario_outside_the_repo_builds_from_its_own_packages(here: Path) -> None:
    (version,) = load_scenario(scenario(here, "{source: app}")).apps["a"].versions.values()
    assert version.package.package is not None
    with tarfile.open(fileobj=io.BytesIO(build_package(version.package.package, "1.0.0")),
                      mode="r:gz") as tar:
        run = tar.extractfile("run.sh")
        assert run is not None and run.read() == b"echo 1.0.0\n"


def test_ready_made_file_is_uploaded_as_is(here: Path) -> None:
    data = b"!<arch>\ndebian-binary   {{ version }}\n\x00\xff"
    (here / "debs").mkdir()
    (here / "debs" / "hello_1.0_all.deb").write_bytes(data)
    (version,) = load_scenario(scenario(here, "{file: debs/hello_1.0_all.deb}")
                               ).apps["a"].versions.values()
    assert version.package.package == PackageSpec(root=here, file="debs/hello_1.0_all.deb")
    assert build_package(version.package.package, "1.0.0") == data


def test_missing_ready_made_file(here: Path) -> None:
    path = scenario(here, "{file: nope.deb}")
    assert errors(path) == [f"{path}:6 {V}.file: no such file 'nope.deb' (relative to the "
                            "scenario file)"]


def test_relative_scenario_path(here: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario(here, "{source: app}")
    monkeypatch.chdir(here)
    assert load_scenario(Path("s.yaml")).apps["a"].versions["1.0.0"].package.package == \
        PackageSpec(root=Path("."), source="app")
    assert os.path.samefile(Path("."), here)

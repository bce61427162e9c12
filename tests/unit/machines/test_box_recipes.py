"""Recipes for a user's Windows box (``guest: windows``, images/examples/windows-box.yaml.example):
the example loads where a user puts it, each mistake is refused naming file, line and field,
and "building" one records the box (no debootstrap), saying so when its file is missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import images as cli_images
from harness.cli import main
from harness.errors import ConfigError, ConfigErrors
from harness.images.build import cached, ensure_image
from harness.images.recipe import RECIPES_DIR, find_recipe, image_title
from harness.images.userbox import BoxRecipe
from harness.machines.kvm import kernel_for_probe
from tests.unit.machines.conftest import tiny_box

EXAMPLE = RECIPES_DIR / "examples" / "windows-box.yaml.example"


def place(folder: Path, *edits: tuple[str, str], box: Path | None = None) -> Path:
    """The example as ``folder/windows-box.yaml``, its box file at ``box`` (made), edited."""
    text = EXAMPLE.read_text()
    if box is not None:
        box.write_bytes(b"a box")
        text = text.replace("/srv/boxes/windows-2022-libvirt.box", str(box))
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "windows-box.yaml"
    path.write_text(text)
    return path


def refused(path: Path) -> str:
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        find_recipe(path.stem, path.parent)
    return str(caught.value)


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_the_example_loads_where_a_user_puts_it(tmp_path: Path) -> None:
    recipe = find_recipe("windows-box", place(tmp_path).parent)
    assert isinstance(recipe, BoxRecipe)
    assert (recipe.guest, recipe.label, recipe.box_file, recipe.box_name) == (
        "windows", "real Windows", Path("/srv/boxes/windows-2022-libvirt.box"), None)
    assert (recipe.login.communicator, recipe.login.user, recipe.login.password_env,
            recipe.login.guest_port) == ("winrm", "vagrant", "VMAPP_WINDOWS_PASSWORD", 5985)
    assert (recipe.python, recipe.python_zip, recipe.memory_mib) == (
        "C:\\Python311\\python.exe", None, 4096)
    assert "windows-box" not in [p.stem for p in RECIPES_DIR.glob("*.yaml")]  # never built here


def test_an_embeddable_zip_a_box_name_and_openssh(tmp_path: Path) -> None:
    place(tmp_path, ("  file: /srv", "  # file: /srv"),
          ("  # name: my-org", "  name: my-org"),
          ("  # version:", "  version:"), ("python: 'C:", "# python: 'C:"),
          ("# python_zip:", "python_zip:"), ("communicator: winrm", "communicator: ssh"),
          ("winrm:\n", "ssh:\n"), ("port: 5985", "port: 2222"))
    recipe = find_recipe("windows-box", tmp_path)
    assert isinstance(recipe, BoxRecipe)
    assert (recipe.box_name, recipe.box_version, recipe.box_file) == (
        "my-org/windows-2022", "2024.06.1", None)
    assert (recipe.python, recipe.python_zip) == (
        "C:\\vmapp\\python\\python.exe", Path("/srv/boxes/python-3.11.9-embed-amd64.zip"))
    assert (recipe.login.communicator, recipe.login.user, recipe.login.guest_port) == (
        "ssh", "vagrant", 2222)


OPENSSH = [("communicator: winrm", "communicator: ssh"), ("winrm:\n", "ssh:\n"),
           ("port: 5985", "port: 22")]
ZIP_LINE = "# python_zip: /srv/boxes/python-3.11.9-embed-amd64.zip"
MISTAKES = [  # edits, field, the text of the line it is on ("": no line), problem
    ([("\n  password_env: VMAPP", "\n  password: vagrant\n  password_env: VMAPP")],
     "winrm.password", "password: vagrant", "a password is never written in a recipe"),
    ([("  # name: my-org", "  name: my-org")], "box", "box:", "give exactly one of 'file'"),
    ([("  file: /srv", "  # file: /srv"), ("  # version:", "  version:")], "box", "box:",
     "give exactly one of 'file'"),
    ([("  # version:", "  version:")], "box.version", "version:", "only with 'name'"),
    ([("winrm:\n", "winrn:\n")], "winrn", "winrn:", "unknown key (did you mean 'winrm'?)"),
    ([("communicator: winrm", "communicator: ssh")], "", "",
     "missing required key 'ssh' (communicator ssh: user, password_env, port)\n"),
    ([("communicator: winrm", "communicator: rdp")], "communicator", "communicator:",
     "must be one of 'winrm', 'ssh'"),
    ([("password_env: VMAPP_WINDOWS_PASSWORD", "password_env: $PASSWORD")],
     "winrm.password_env", "password_env:",
     "must be an environment variable's name, got '$PASSWORD'"),
    ([("port: 5985", "port: 70000")], "winrm.port", "port: 70000", "must be at most 65535"),
    ([("# python_zip:", "python_zip:")], "", "", "give exactly one of 'python'"),
    ([("python: 'C:\\Python311\\python.exe'", "python: python3")], "python", "python:",
     "must be the absolute Windows path of python.exe, got 'python3'"),
    ([("python: 'C:\\Python311\\python.exe'", "python: 'C:\\" + "x" * 120 + "\\python.exe'")],
     "python", "python:", "at most 120 characters"),
    ([("python: 'C:", "# python: 'C:"), (ZIP_LINE, "python_zip: /srv/python.tar.gz")],
     "python_zip", "python_zip:", "must be a .zip"),
    ([("name: windows-box", "name: windows-2022")], "name", "name:",
     "must match the file name"),
    ([("memory_mib: 4096", "suite: bookworm\nmemory_mib: 4096")], "suite", "suite:",
     "unknown key"),
]


@pytest.mark.parametrize(("edits", "field", "text", "problem"), MISTAKES)
def test_each_mistake_is_named_with_file_line_and_field(
        tmp_path: Path, edits: list[tuple[str, str]], field: str, text: str, problem: str
        ) -> None:
    path = place(tmp_path, *edits)
    message = refused(path)
    prefix = f"{path}:{line_of(path, text)} {field}: " if field else \
        f"{path}:{line_of(path, 'name:')}: "  # the document as a whole: its first line
    assert message.startswith(prefix), (message, prefix)
    assert problem in message


def test_the_cache_key_follows_the_box_file(tmp_path: Path) -> None:
    box = tmp_path / "my.box"
    path = place(tmp_path, box=box)
    before = find_recipe("windows-box", path.parent).key
    box.write_bytes(b"a newer box, another size")
    assert find_recipe("windows-box", path.parent).key != before


def test_building_a_missing_box_says_so_and_builds_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    path = place(tmp_path, ("/srv/boxes/windows-2022-libvirt.box", str(tmp_path / "gone.box")))
    recipe = find_recipe("windows-box", tmp_path)
    with pytest.raises(ConfigErrors) as caught:
        ensure_image(recipe)
    assert str(caught.value).startswith(
        f"{path}:{line_of(path, 'gone.box')} box.file: no such box file: {tmp_path}/gone.box "
        "(the box is yours to provide")
    assert cached(recipe) is None and not (tmp_path / "cache" / "build").exists()


def test_building_records_the_box_for_vagrant(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    box = tmp_path / "my.box"
    recipe = find_recipe("windows-box", place(tmp_path, box=box).parent)
    image = ensure_image(recipe)
    assert cached(recipe) == image and image.box_file.resolve() == box
    assert image.box_name == f"vmapp/windows-box-{recipe.key}"
    assert json.loads((image.folder / "image.json").read_text())["guest"] == "windows"
    (tmp_path / "named").mkdir()
    named = place(tmp_path / "named", ("  file: /srv", "  # file: /srv"),
                  ("  # name: my-org", "  name: my-org"))
    assert ensure_image(find_recipe("windows-box", named.parent)).box_name == \
        "my-org/windows-2022"


def test_an_unset_password_variable_is_named_with_the_recipe_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VMAPP_WINDOWS_PASSWORD", raising=False)
    path = place(tmp_path)
    recipe = find_recipe("windows-box", tmp_path)
    assert isinstance(recipe, BoxRecipe)
    with pytest.raises(ConfigError) as caught:
        recipe.login.password()
    assert str(caught.value) == (
        f"{path}:{line_of(path, 'password_env:')} winrm.password_env: the environment variable "
        "VMAPP_WINDOWS_PASSWORD (the winrm password of the box) is not set")
    monkeypatch.setenv("VMAPP_WINDOWS_PASSWORD", "s3cret")
    assert recipe.login.password() == "s3cret"


def test_reports_title_a_box_by_its_label() -> None:
    assert image_title("windows-wine") == "windows-wine (wine stand-in)"  # unchanged


def test_images_build_adds_the_user_s_box_to_vagrant(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """``vmapp images build NAME`` of a box recipe (here in a scratch recipes folder and
    VAGRANT_HOME): real ``vagrant box add`` of the user's file and ``vagrant validate`` of its
    Vagrantfile; a missing file is exit 2."""
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(cli_images, "find_recipe", lambda name: find_recipe(name, tmp_path))
    path = place(tmp_path, ("/srv/boxes/windows-2022-libvirt.box", str(tmp_path / "my.box")),
                 *OPENSSH)  # Vagrant's WinRM needs gems Debian's vagrant lacks (see there)
    assert main(["images", "build", "windows-box"]) == 2
    assert f"{path}:{line_of(path, 'my.box')} box.file: no such box file" in \
        capsys.readouterr().err
    tiny_box(tmp_path / "my.box", tmp_path / "parts")
    key = find_recipe("windows-box", tmp_path).key
    assert main(["images", "build", "windows-box"]) == 0
    assert capsys.readouterr().out == (
        f"windows-box: a user's Windows box, in Vagrant as vmapp/windows-box-{key}\n")
    assert (tmp_path / "cache" / "vagrant.d" / "boxes" /
            f"vmapp-VAGRANTSLASH-windows-box-{key}").is_dir()


def test_kvm_is_probed_with_some_linux_kernel_when_the_box_has_none(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Windows box has no kernel of ours: the KVM probe boots a cached Linux build's (or the
    host's), and without any the run says so rather than probing nothing."""
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    image = ensure_image(find_recipe("windows-box", place(tmp_path, box=tmp_path / "my.box")
                                     .parent))
    host = kernel_for_probe(image)  # this host's /boot, if it has one
    assert host is None or host[0].parent == Path("/boot")
    linux = tmp_path / "cache" / "images" / "debian-12-000000000000"
    linux.mkdir(parents=True)
    for name in ("image.json", "vmlinuz", "initrd.img"):
        (linux / name).write_text("{}")
    assert kernel_for_probe(image) == (linux / "vmlinuz", linux / "initrd.img")

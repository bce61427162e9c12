"""The Vagrantfile of a user's Windows box: WinRM or OpenSSH, the password left in its
environment variable, the libvirt settings of the Linux machines that still apply; checked as
text, by ``ruby -c`` and by ``vagrant validate`` (Vagrant and vagrant-libvirt are on this
host; Debian's vagrant lacks the WinRM communicator's gems, which the harness says)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.errors import InfrastructureError
from harness.images.recipe import RECIPES_DIR, find_recipe
from harness.images.userbox import BoxRecipe
from harness.machines import windowsbox

EXAMPLE = RECIPES_DIR / "examples" / "windows-box.yaml.example"
DESCRIPTION = "vmapp-harness run=run-1 owner=1 2 folder=/state/o'brien #{x}"  # a path's quote


def recipe(tmp_path: Path, *edits: tuple[str, str]) -> BoxRecipe:
    text = EXAMPLE.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    (tmp_path / "windows-box.yaml").write_text(text)
    found = find_recipe("windows-box", tmp_path)
    assert isinstance(found, BoxRecipe)
    return found


def render(box: BoxRecipe, tmp_path: Path, driver: str = "kvm") -> str:
    return windowsbox.render_vagrantfile(
        box, windowsbox.TEMPLATE.read_text(), box_name="vmapp/windows-box-abc", domain="vm-1",
        run_id="run-1", description=DESCRIPTION, vagrant_home=tmp_path / "vagrant.d", port=41234,
        driver=driver, cpus=2, memory_mib=1024, console_log=tmp_path / "console.log")


def ruby_ok(text: str, tmp_path: Path) -> None:
    ruby = shutil.which("ruby")
    if ruby is None:
        pytest.skip("no ruby on this host")
    (tmp_path / "Vagrantfile").write_text(text)
    done = subprocess.run([ruby, "-c", str(tmp_path / "Vagrantfile")], capture_output=True,
                          text=True, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "Syntax OK"), done.stderr


def test_winrm_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VMAPP_WINDOWS_PASSWORD", "never-in-the-file")
    text = render(recipe(tmp_path), tmp_path)
    for line in ['config.vm.box = \'vmapp/windows-box-abc\'', "config.vm.guest = :windows",
                 'config.vm.communicator = "winrm"', 'config.winrm.host = "127.0.0.1"',
                 "config.winrm.port = VMAPP_PORT", "config.winrm.guest_port = 5985",
                 "config.winrm.username = 'vagrant'",
                 "config.winrm.password = ENV.fetch('VMAPP_WINDOWS_PASSWORD', \"\")",
                 "config.winrm.transport = :plaintext", "config.winrm.basic_auth_only = true",
                 'lv.cpu_mode = "host-passthrough"', "lv.memory = 4096",  # the box's minimum
                 "lv.description = "
                 "'vmapp-harness run=run-1 owner=1 2 folder=/state/o\\'brien #{x}'",
                 "lv.mgmt_attach = false",
                 'lv.qemuargs :value => "user,id=vmappnet,'
                 'hostfwd=tcp:127.0.0.1:41234-:5985"',
                 'lv.qemuargs :value => "e1000e,netdev=vmappnet,bus=pci.0,addr=0x1e"',
                 f':source => {{ :path => "{tmp_path}/console.log" }}',
                 'sock.write("POST /wsman HTTP/1.1']:
        assert line in text, line
    assert "never-in-the-file" not in text and "restrict=on" not in text
    assert "config.ssh" not in text and "cmd_line" not in text  # no Linux kernel to boot
    ruby_ok(text, tmp_path)


def openssh_by_name(tmp_path: Path) -> BoxRecipe:
    return recipe(tmp_path, ("  file: /srv", "  # file: /srv"),
                  ("  # name: my-org", "  name: my-org"), ("  # version:", "  version:"),
                  ("communicator: winrm", "communicator: ssh"), ("winrm:\n", "ssh:\n"),
                  ("port: 5985", "port: 22"))


def test_openssh_box_by_name_under_tcg(tmp_path: Path) -> None:
    text = render(openssh_by_name(tmp_path), tmp_path, driver="qemu")
    for line in ['config.vm.communicator = "winssh"', "config.vm.box_version = '2024.06.1'",
                 "config.ssh.username = 'vagrant'", 'config.winssh.shell = "cmd"',
                 "config.ssh.password = ENV.fetch('VMAPP_WINDOWS_PASSWORD', \"\")",
                 "config.ssh.guest_port = 22", 'lv.cpu_model = "Nehalem"',
                 'expected = "SSH-"',
                 '"user,id=vmappnet,restrict=on,hostfwd=tcp:127.0.0.1:41234-:22"']:
        assert line in text, line
    assert "config.winrm" not in text
    ruby_ok(text, tmp_path)


def test_hostile_recipe_strings_stay_ruby_string_literals(tmp_path: Path) -> None:
    box = recipe(tmp_path, ("user: vagrant", "user: \"x'#{system('id')}\\\\\""))
    assert box.login.user == "x'#{system('id')}\\"
    text = render(box, tmp_path)
    ruby_ok(text, tmp_path)
    literal = next(line.split(" = ", 1)[1] for line in text.splitlines()
                   if line.startswith("  config.winrm.username = "))
    ruby = shutil.which("ruby")
    assert ruby is not None
    printed = subprocess.run([ruby, "-e", f"print {literal}"], capture_output=True, text=True,
                             check=True).stdout
    assert printed == box.login.user  # nothing interpolated, nothing run


def test_vagrant_validates_the_openssh_box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    windowsbox.check_vagrant(openssh_by_name(tmp_path), "my-org/windows-2022")


def test_a_vagrant_without_the_winrm_communicator_is_said_before_a_boot(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's vagrant runs on the system Ruby, which has no winrm gem here: the harness says
    what to do; with the gems (HashiCorp's Vagrant) the WinRM Vagrantfile validates."""
    monkeypatch.setenv("VMAPP_CACHE_DIR", str(tmp_path / "cache"))
    ruby = shutil.which("ruby")
    gems = ruby is not None and subprocess.run([ruby, "-e", 'require "winrm"'],
                                               capture_output=True, check=False).returncode == 0
    if gems:
        windowsbox.check_vagrant(recipe(tmp_path), "vmapp/windows-box-abc")
        return
    with pytest.raises(InfrastructureError) as caught:
        windowsbox.check_vagrant(recipe(tmp_path), "vmapp/windows-box-abc")
    assert "this Vagrant has no WinRM communicator" in str(caught.value)
    assert "communicator: ssh" in str(caught.value)

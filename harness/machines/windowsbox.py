"""A user's Windows box under Vagrant: its Vagrantfile, its channel and its guest OS, from its
recipe (harness/images/userbox.py).  NOT YET RUN ON A REAL WINDOWS MACHINE (docs/windows.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness.errors import CommandError, InfrastructureError
from harness.images.userbox import BoxRecipe, Login
from harness.machines.vagrantcli import run_vagrant, vagrant_home, vagrantfile_environment
from harness.machines.windows import WindowsGuest
from harness.machines.winrm import WinRmChannel
from harness.machines.winssh import WindowsSshChannel
from harness.netutil import LOOPBACK
from harness.ports import Channel
from harness.settings import REPO_ROOT

TEMPLATE = REPO_ROOT / "vagrant" / "Vagrantfile-windows.j2"
# The host's 127.0.0.1 as QEMU's user-mode network shows it to the guest (the gateway).
HOST_FROM_GUEST = "10.0.2.2"


def render_vagrantfile(recipe: BoxRecipe, template: str, *, box_name: str, domain: str,
                       run_id: str, description: str, vagrant_home: Path, port: int,
                       driver: str, cpus: int, memory_mib: int, console_log: Path) -> str:
    """The Vagrantfile of one VM of the box; the password stays in its environment variable."""
    login = recipe.login
    return vagrantfile_environment().from_string(template).render(
        domain=domain, run_id=run_id, description=description, image=recipe.name,
        vagrant_home=vagrant_home, port=port, ready_seconds=recipe.ssh_seconds, box_name=box_name,
        box_version=recipe.box_version, communicator=login.communicator, user=login.user,
        password_env=login.password_env, guest_port=login.guest_port, driver=driver,
        cpus=cpus, memory_mib=max(memory_mib, recipe.memory_mib), console_log=console_log,
        nic_model=recipe.nic_model)


def check_vagrant(recipe: BoxRecipe, box_name: str) -> None:
    """Let Vagrant validate a Vagrantfile of the box before any boot: a Vagrant without the
    WinRM communicator's Ruby gems (Debian's vagrant package has none) is said here."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Vagrantfile").write_text(render_vagrantfile(
            recipe, TEMPLATE.read_text(), box_name=box_name, domain="vmapp-validate",
            run_id="validate", description="vmapp-harness validate", vagrant_home=vagrant_home(),
            port=1, driver="kvm", cpus=1, memory_mib=recipe.memory_mib,
            console_log=folder / "console.log"))
        try:
            run_vagrant(["validate"], stage="vagrant validate", cwd=folder, timeout=120)
        except CommandError as exc:
            if "cannot load such file -- winrm" not in exc.output:
                raise
            raise InfrastructureError(stage="vagrant validate", detail=(
                "this Vagrant has no WinRM communicator (Ruby's winrm gems; Debian's vagrant "
                "package lacks them): use HashiCorp's Vagrant, or `vagrant plugin install "
                "winrm winrm-fs winrm-elevated`, or communicator: ssh")) from exc


def connect(login: Login, *, port: int, vm: str) -> Channel:
    """A channel into the box through its forwarded port on 127.0.0.1."""
    if login.communicator == "winrm":
        return WinRmChannel(host=LOOPBACK, port=port, user=login.user,
                            password=login.password(), vm=vm, host_from_guest=HOST_FROM_GUEST)
    return WindowsSshChannel(port=port, user=login.user, key=None, password=login.password(),
                             vm=vm)


def windows_guest(recipe: BoxRecipe) -> WindowsGuest:
    return WindowsGuest(recipe.python, recipe.python_zip)


def login_hint(login: Login, folder: Path, vagrant_home: Path, port: int) -> str:
    env = f"VAGRANT_HOME={vagrant_home} {login.password_env}=..."
    if login.communicator == "winrm":
        return (f"cd {folder} && {env} vagrant winrm -c ipconfig\n  or: WinRM (Basic, HTTP) "
                f"at http://127.0.0.1:{port}/wsman as {login.user}")
    return f"cd {folder} && {env} vagrant ssh\n  or: ssh -p {port} {login.user}@127.0.0.1"

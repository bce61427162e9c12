"""Vagrant + vagrant-libvirt: a rendered Vagrantfile per VM, so engineers can `vagrant ssh`.

Vagrant is driven through its CLI (harness/machines/vagrantcli.py).  Each VM gets its own
folder holding the Vagrantfile, the serial console log and a README on how to log in.  A user's
Windows box (a ``guest: windows`` recipe) gets its own template and channel
(harness/machines/windowsbox.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import libvirt

from harness.errors import CleanupErrors, GuestUnreachable, InfrastructureError
from harness.images.build import (
    KERNEL_CMDLINE,
    BuiltImage,
    ensure_image,
    find_build,
    read_manifest,
)
from harness.images.recipe import AnyRecipe, find_recipe
from harness.images.userbox import BoxRecipe, Login
from harness.machines import libvirtd, warm, windowsbox
from harness.machines.linux import LinuxSystemd
from harness.machines.record import MachineGone, read_record, write_record
from harness.machines.ssh import SshChannel
from harness.machines.vagrantcli import (
    ensure_box,
    run_vagrant,
    vagrant_home,
    vagrantfile_environment,
)
from harness.machines.winestandin import WineStandin
from harness.netutil import free_port
from harness.ports import Channel, GuestOS
from harness.settings import REPO_ROOT

TEMPLATE = REPO_ROOT / "vagrant" / "Vagrantfile.j2"


@dataclass
class VagrantMachine:
    """A vagrant-libvirt VM in its own folder; power and snapshots go through libvirt."""

    name: str
    folder: Path
    image: BuiltImage
    ssh_port: int
    boot_seconds: int
    ready_seconds: int
    shape: warm.Shape | None = None  # what a warm copy of it must match (None: never warm)
    run_id: str = ""
    guest: GuestOS = field(default_factory=LinuxSystemd)
    login: Login | None = None  # a user's Windows box: WinRM or OpenSSH with a password
    started: bool = False  # `vagrant up` was attempted: there may be a domain to remove
    restored: bool = False  # defined from a warm copy through libvirt, not by `vagrant up`

    @property
    def image_key(self) -> str:
        return self.image.key

    @property
    def console_log(self) -> Path:
        return self.folder / "console.log"

    def connect(self) -> Channel:
        if self.login is not None:
            return windowsbox.connect(self.login, port=self.ssh_port, vm=self.name)
        return SshChannel(port=self.ssh_port, user="root", key=self.image.ssh_key,
                          vm=self.name)

    def login_hint(self) -> str:
        if self.login is not None:
            return windowsbox.login_hint(self.login, self.folder, vagrant_home(), self.ssh_port)
        ssh = (f"ssh -p {self.ssh_port} -i {self.image.ssh_key} "
               "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null vagrant@127.0.0.1")
        return f"cd {self.folder} && VAGRANT_HOME={vagrant_home()} vagrant ssh\n  or: {ssh}"

    def boot(self) -> None:
        self.started = True
        run_vagrant(["up", "--provider", "libvirt", "--no-provision"], stage="vagrant up",
                 cwd=self.folder, timeout=self.boot_seconds + self.ready_seconds, vm=self.name)

    def resume_warm(self, snapshot: str, agent: str) -> bool:
        """Come up from the warm copy of a ready machine of this shape and ``agent``, at
        ``snapshot``; False when there is none (then boot)."""
        if self.shape is None or not warm.saved(folder := self.shape.folder(agent)):
            return False
        self.started = self.restored = True
        record = read_record(self.folder)  # found again later (kept) as what it is
        write_record(self.folder, record["kind"], record["provider"],
                     {**record["machine"], "restored": True})
        uuid: list[str] = []
        try:
            self._libvirt(lambda conn: uuid.append(warm.restore(
                conn, folder, name=self.name, ssh_port=self.ssh_port,
                console_log=self.console_log,
                description=libvirtd.owner_description(self.run_id, self.folder))))
        except InfrastructureError:  # an unusable copy goes; this machine boots instead
            warm.discard(folder)
            self._libvirt(lambda conn: libvirtd.remove_domain(conn, self.name))
            self.restored = False
            write_record(self.folder, record["kind"], record["provider"], record["machine"])
            return False
        # What `vagrant up` would have left: `vagrant ssh` works here too (removal: destroy()).
        state = self.folder / ".vagrant" / "machines" / self.name / "libvirt"
        state.mkdir(parents=True, exist_ok=True)
        (state / "id").write_text(uuid[0])
        return True

    def save_warm(self, snapshot: str, agent: str) -> None:
        """Keep a copy of this machine, just snapshotted as ``snapshot``, for resume_warm."""
        if self.shape is None or warm.saved(folder := self.shape.folder(agent)):
            return

        def save(conn: libvirt.virConnect) -> None:
            domain = libvirtd.lookup_domain(conn, self.name)
            warm.save(domain, Path(libvirtd.disk_paths(domain)[0]), folder, snapshot,
                      self.image.key)

        self._libvirt(save)

    def _libvirt(self, action: Callable[[libvirt.virConnect], None]) -> None:
        conn = libvirtd.open_connection()
        try:
            action(conn)
        finally:
            conn.close()

    def reboot(self) -> None:
        channel = self.connect()
        try:
            with contextlib.suppress(GuestUnreachable):  # it may drop before it returns
                self.guest.request_reboot(channel)
        finally:
            channel.close()

    def power_off(self) -> None:
        self._libvirt(lambda conn: libvirtd.power(conn, self.name, "off"))

    def power_on(self) -> None:
        self._libvirt(lambda conn: libvirtd.power(conn, self.name, "on"))

    def reset(self) -> None:
        self._libvirt(lambda conn: libvirtd.power(conn, self.name, "reset"))

    def snapshot(self, name: str) -> None:
        self._libvirt(lambda conn: libvirtd.snapshot(conn, self.name, name))

    def revert(self, name: str) -> None:
        self._libvirt(lambda conn: libvirtd.revert(conn, self.name, name))

    def destroy(self) -> None:
        """`vagrant destroy`, then make sure through libvirt that nothing is left."""
        failures: list[BaseException] = []
        conn = libvirtd.open_connection()
        try:
            disks = libvirtd.domain_disks(conn, self.name)
            if not self.restored:  # made from a warm copy: libvirt only (vagrant destroy of
                try:               # a domain it did not define left libvirt a ghost of it)
                    run_vagrant(["destroy", "-f"], stage="vagrant destroy", cwd=self.folder,
                             timeout=300, vm=self.name)
                except InfrastructureError as exc:
                    failures.append(exc)
            try:
                libvirtd.remove_domain(conn, self.name)
            except CleanupErrors as exc:
                failures.extend(exc.failures)
            try:  # what is left of its disks: a warm copy's, which Vagrant did not make
                libvirtd.remove_disks(conn, disks)
            except CleanupErrors as exc:
                failures.extend(exc.failures)
        finally:
            conn.close()
        if failures:
            raise CleanupErrors(failures)


@dataclass
class VagrantProvider:
    """Fresh vagrant-libvirt VMs from the harness's own boxes (built offline, cached)."""

    run_id: str
    driver: str  # vagrant-libvirt driver: "kvm" or "qemu" (TCG)
    cpus: int = 2
    memory_mib: int = 1024
    kind: str = "vagrant-libvirt"

    def prepare(self, image: str) -> None:
        ensure_image(find_recipe(image))

    def create(self, image: str, *, name: str, folder: Path, ready_seconds: int | None = None,
               build: str | None = None) -> VagrantMachine:
        """Render the Vagrantfile into ``folder`` (not started yet), for the recipe's current
        build (built if needed) or the cached build ``build``."""
        recipe = find_recipe(image)
        built = ensure_image(recipe) if build is None else find_build(image, key=build)
        if built is None:
            raise InfrastructureError(stage="image", detail=f"no cached build {image}-{build} "
                                      "(pruned since the run began?)")
        ensure_box(built)
        if isinstance(recipe, BoxRecipe):  # said now, not after a boot
            recipe.login.password()
            windowsbox.check_vagrant(recipe, built.box_name)
        folder.mkdir(parents=True, exist_ok=True)
        ready = ready_seconds or recipe.ssh_seconds
        template = (windowsbox.TEMPLATE if isinstance(recipe, BoxRecipe) else TEMPLATE).read_text()
        shape = warm.Shape(image=image, image_key=built.key, driver=self.driver, cpus=self.cpus,
                           memory_mib=self.memory_mib, template=template)
        machine = VagrantMachine(name=name, folder=folder, image=built, ssh_port=free_port(),
                                 boot_seconds=recipe.boot_seconds, ready_seconds=ready,
                                 shape=shape, run_id=self.run_id, guest=_guest(recipe),
                                 login=recipe.login if isinstance(recipe, BoxRecipe) else None)
        description = libvirtd.owner_description(self.run_id, folder)
        if isinstance(recipe, BoxRecipe):
            text = windowsbox.render_vagrantfile(
                recipe, template, box_name=built.box_name, domain=name, run_id=self.run_id,
                description=description, vagrant_home=vagrant_home(), port=machine.ssh_port,
                driver=self.driver, cpus=self.cpus, memory_mib=self.memory_mib,
                console_log=machine.console_log)
        else:
            text = vagrantfile_environment().from_string(template).render(
                domain=name, run_id=self.run_id, description=description, image=built.name,
                vagrant_home=vagrant_home(), ssh_port=machine.ssh_port, ssh_timeout=ready,
                box_name=built.box_name, ssh_key=built.ssh_key, driver=self.driver,
                cpus=self.cpus, memory_mib=self.memory_mib, console_log=machine.console_log,
                kernel_cmdline=KERNEL_CMDLINE)
        (folder / "Vagrantfile").write_text(text)
        write_record(folder, self.kind, {"run_id": self.run_id, "driver": self.driver,
                                         "cpus": self.cpus, "memory_mib": self.memory_mib},
                     {"name": name, "image": str(built.folder), "ssh_port": machine.ssh_port,
                      "boot_seconds": machine.boot_seconds, "ready_seconds": ready})
        return machine

    def attach(self, folder: Path) -> VagrantMachine:
        """The kept VM of ``folder``, from the build of the image it was made of (even if the
        recipe changed since) and the SSH port its Vagrantfile forwards."""
        fields = read_record(folder)["machine"]
        try:
            image = Path(fields["image"])
            manifest = read_manifest(image)
            if manifest is None:
                raise MachineGone(stage="find kept machine", vm=fields["name"],
                                  detail=f"its image build {image} is gone (vmapp images prune?)")
            built = BuiltImage(name=str(manifest["name"]), key=str(manifest["key"]),
                               folder=image)
            recipe = find_recipe(built.name)
            return VagrantMachine(name=fields["name"], folder=folder, image=built,
                                  ssh_port=int(fields["ssh_port"]),
                                  boot_seconds=int(fields["boot_seconds"]),
                                  ready_seconds=int(fields["ready_seconds"]), started=True,
                                  restored=bool(fields.get("restored", False)),
                                  guest=_guest(recipe), login=recipe.login
                                  if isinstance(recipe, BoxRecipe) else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise MachineGone(stage="find kept machine",
                              detail=f"{folder}: damaged machine.json ({exc!r})") from exc


def _guest(recipe: AnyRecipe) -> GuestOS:
    """The guest OS side an image recipe names (``guest:``)."""
    if isinstance(recipe, BoxRecipe):
        return windowsbox.windows_guest(recipe)
    return WineStandin.built() if recipe.guest == "wine-standin" else LinuxSystemd()

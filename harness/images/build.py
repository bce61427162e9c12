"""Build a recipe into a vagrant-libvirt box, offline from Debian packages, cached by recipe key.

debootstrap -> configure in a chroot -> ext4 image made with ``mkfs.ext4 -d`` (no loop devices)
-> qcow2 -> box (box.img, metadata.json, Vagrantfile, vmlinuz, initrd.img) + a per-box SSH key.
The box boots its own kernel directly, so no bootloader is installed.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import proc
from harness.errors import InfrastructureError
from harness.images.recipe import AnyRecipe, Recipe, find_recipe, recipe_names, split_image
from harness.images.userbox import BoxRecipe, register_box
from harness.settings import cache_dir

# Not "quiet": the serial console (each cell's console.log) then holds the kernel's and systemd's
# boot messages from power-on, not only the login prompt.  Every VM's Vagrantfile sets it too,
# so boxes built with "quiet" before boot the same way.
KERNEL_CMDLINE = "root=/dev/vda rw console=ttyS0 net.ifnames=0"

BOX_VAGRANTFILE = f"""\
# Box defaults: boot the box's own kernel and initrd, with the root disk as /dev/vda.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.kernel = File.join(File.dirname(__FILE__), "vmlinuz")
    libvirt.initrd = File.join(File.dirname(__FILE__), "initrd.img")
    libvirt.cmd_line = "{KERNEL_CMDLINE}"
  end
end
"""


@dataclass(frozen=True)
class BuiltImage:
    name: str
    key: str
    folder: Path

    @property
    def box_file(self) -> Path:
        return self.folder / f"{self.name}.box"

    @property
    def ssh_key(self) -> Path:
        return self.folder / "ssh_key"

    @property
    def kernel(self) -> Path:
        return self.folder / "vmlinuz"

    @property
    def initrd(self) -> Path:
        return self.folder / "initrd.img"

    @property
    def box_name(self) -> str:
        """Ours, or the name a user's box has in its registry."""
        return str(self.manifest.get("box_name") or f"vmapp/{self.name}-{self.key}")

    @property
    def manifest(self) -> dict[str, object]:
        return read_manifest(self.folder) or {}

    @property
    def version(self) -> str:
        """The build as an image version of its recipe's image definition: ``built_at`` as
        ``YYYY.MMDD.HHMMSS``, each part an integer (2026-12-03T06:43:47Z -> 2026.1203.64347),
        so a newer build is a higher version by the gallery's ordering; "" when the build has
        no readable time."""
        return version_name(self.manifest.get("built_at"))


def version_name(built_at: object) -> str:
    """``built_at`` (``YYYY-MM-DDTHH:MM:SSZ``) as an image version name; "" if it is not one."""
    try:
        when = datetime.strptime(str(built_at), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return ""
    day, clock = when.month * 100 + when.day, when.hour * 10000 + when.minute * 100 + when.second
    return f"{when.year}.{day}.{clock}"


def images_dir() -> Path:
    return cache_dir() / "images"


def read_manifest(folder: Path) -> dict[str, object] | None:
    """A cached build's image.json; None when it is missing, unreadable or not a build's."""
    try:
        data = json.loads((folder / "image.json").read_text())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("name", "key")):
        return None
    return data


def cached(recipe: AnyRecipe) -> BuiltImage | None:
    """The recipe's build in the cache; a corrupt one does not count (it is built again)."""
    image = BuiltImage(recipe.name, recipe.key, images_dir() / f"{recipe.name}-{recipe.key}")
    return image if read_manifest(image.folder) is not None else None


def builds(name: str) -> list[BuiltImage]:
    """Every cached build of recipe ``name`` (the current key's and older keys'), oldest version
    first: the image versions of its image definition.  A build without a readable time has no
    version and is left out; of two built in the same second the one with the lower key
    counts."""
    found: dict[str, BuiltImage] = {}
    for manifest in sorted(images_dir().glob(f"{name}-*/image.json")):
        data = read_manifest(manifest.parent)
        if data is None or data["name"] != name:
            continue
        image = BuiltImage(name, str(data["key"]), manifest.parent)
        if image.version:
            found.setdefault(image.version, image)
    return [found[v] for v in sorted(found, key=lambda v: tuple(map(int, v.split("."))))]


def find_build(name: str, *, version: str | None = None, key: str | None = None
               ) -> BuiltImage | None:
    """The cached build of recipe ``name`` that has this image version (or cache key)."""
    return next((b for b in builds(name) if (version is None or b.version == version)
                 and (key is None or b.key == key)), None)


def version_of(image: str, key: str) -> str:
    """The image version of the build ``key`` of ``image`` (a recipe, or ``NAME@VERSION``); ""
    when it is no cached build (a local machine's "host")."""
    found = find_build(split_image(image)[0], key=key)
    return found.version if found else ""


def corrupt_images() -> list[BuiltImage]:
    """Cache folders whose image.json cannot be read (a cut write, a hand edit), named by their
    folder (``<name>-<key>``)."""
    found = []
    for manifest in sorted(images_dir().glob("*/image.json")):
        if read_manifest(manifest.parent) is None:
            name, _, key = manifest.parent.name.rpartition("-")
            found.append(BuiltImage(name, key, manifest.parent))
    return found


def stale_images() -> list[BuiltImage]:
    """Cached builds that no recipe produces any more (the recipe changed, or is gone), and
    corrupt ones."""
    current = {f"{name}-{find_recipe(name).key}" for name in recipe_names()}
    stale = corrupt_images()
    for manifest in sorted(images_dir().glob("*/image.json")):
        data = read_manifest(manifest.parent)
        if data is not None and manifest.parent.name not in current:
            stale.append(BuiltImage(str(data["name"]), str(data["key"]), manifest.parent))
    return sorted(stale, key=lambda image: image.folder)


@contextmanager
def _host_lock(name: str) -> Iterator[None]:
    """Serialise builds of the same image across processes."""
    images_dir().mkdir(parents=True, exist_ok=True)
    with (images_dir() / f".{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_image(recipe: AnyRecipe, *, log: Path | None = None) -> BuiltImage:
    """Return the cached image for ``recipe``, building it first if needed (a user's box is
    not built: its files are checked and it is recorded, every time)."""
    with _host_lock(recipe.name):
        if isinstance(recipe, BoxRecipe):
            return BuiltImage(recipe.name, recipe.key, register_box(recipe, images_dir()))
        found = cached(recipe)
        if found:
            return found
        return _build(recipe, log)


def _step(args: list[str], stage: str, log: Path | None, timeout: float = 1800) -> None:
    done = proc.run(args, stage=f"image build: {stage}", timeout=timeout)
    if log:
        with log.open("a") as out:
            out.write(f"$ {' '.join(args)}\n{done.stdout}{done.stderr}\n")


def _build(recipe: Recipe, log: Path | None) -> BuiltImage:
    started = time.monotonic()
    final = images_dir() / f"{recipe.name}-{recipe.key}"
    work = cache_dir() / "build" / f"{recipe.name}-{recipe.key}"
    shutil.rmtree(work, ignore_errors=True)
    root, box = work / "root", work / "box"
    box.mkdir(parents=True)
    apt_cache = cache_dir() / "debootstrap" / recipe.suite
    apt_cache.mkdir(parents=True, exist_ok=True)
    _step(["debootstrap", "--variant=minbase", f"--cache-dir={apt_cache}",
           f"--include={','.join(recipe.packages)}", recipe.suite, str(root), recipe.mirror],
          "debootstrap", log)
    if recipe.late_packages:
        _step(["chroot", str(root), "/usr/bin/env", "DEBIAN_FRONTEND=noninteractive", "apt-get",
               "install", "-y", "-q", "--no-install-recommends",
               *recipe.late_packages], "late packages", log)
    _step(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"vmapp-{recipe.name}",
           "-f", str(box / "ssh_key")], "ssh key", log)
    pubkey = (box / "ssh_key.pub").read_text().strip()
    for script in recipe.scripts:
        shutil.copy(script, root / "tmp" / "configure.sh")
        _step(["chroot", str(root), "/usr/bin/env", f"VMAPP_PUBKEY={pubkey}", "/bin/sh",
               "/tmp/configure.sh"], f"configure ({script.name})", log)
    kernels = sorted((root / "boot").glob("vmlinuz-*"))
    initrds = sorted((root / "boot").glob("initrd.img-*"))
    if not kernels or not initrds:
        raise InfrastructureError(stage="image build: kernel", detail=f"no kernel in {root}/boot")
    shutil.copy(kernels[-1], box / "vmlinuz")
    shutil.copy(initrds[-1], box / "initrd.img")
    raw = work / "root.ext4"
    _step(["truncate", "-s", f"{recipe.disk_gib}G", str(raw)], "disk", log)
    _step(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(root), str(raw)], "mkfs", log)
    _step(["qemu-img", "convert", "-O", "qcow2", str(raw), str(box / "box.img")], "qcow2", log)
    raw.unlink()
    (box / "metadata.json").write_text(json.dumps(
        {"provider": "libvirt", "format": "qcow2", "virtual_size": recipe.disk_gib}))
    (box / "Vagrantfile").write_text(BOX_VAGRANTFILE)
    out = work / "out"
    out.mkdir()
    _step(["tar", "-cf", str(out / f"{recipe.name}.box"), "-C", str(box),
           "box.img", "metadata.json", "Vagrantfile", "vmlinuz", "initrd.img"], "box", log)
    for name in ("ssh_key", "vmlinuz", "initrd.img"):
        shutil.copy(box / name, out / name)
    (out / "ssh_key").chmod(0o600)
    (out / "image.json").write_text(json.dumps({
        "name": recipe.name, "key": recipe.key, "suite": recipe.suite,
        "description": recipe.description, "packages": list(recipe.packages),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": round(time.monotonic() - started, 1),
        "box_bytes": (out / f"{recipe.name}.box").stat().st_size,
    }, indent=2))
    shutil.rmtree(final, ignore_errors=True)
    out.rename(final)
    shutil.rmtree(work, ignore_errors=True)
    return BuiltImage(recipe.name, recipe.key, final)

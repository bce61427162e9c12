"""Is hardware acceleration usable?  Decided by booting, never by /dev/kvm existing.

On nested hosts /dev/kvm can exist and still hang stock kernels at decompression, so the probe
boots the image's own kernel under KVM with ``panic=-1`` and no init: a working KVM reaches the
kernel panic and QEMU exits by itself within seconds; a broken one times out.
"""

from __future__ import annotations

import json
import platform
import tempfile
from pathlib import Path

from harness import proc
from harness.errors import CommandError
from harness.images.build import BuiltImage, images_dir
from harness.settings import cache_dir

PROBE_SECONDS = 30
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def _cache_file() -> Path:
    return cache_dir() / "kvm-probe.json"


def kernel_for_probe(image: BuiltImage) -> tuple[Path, Path] | None:
    """A Linux kernel and initrd to probe with: the image's own; for a user's Windows box, which
    has none, any cached build's, else the host's (Debian's /boot names); None when there is
    none at all."""
    release = platform.release()
    candidates = [(image.kernel, image.initrd),
                  *((found.parent / "vmlinuz", found.parent / "initrd.img")
                    for found in sorted(images_dir().glob("*/image.json"))),
                  (Path(f"/boot/vmlinuz-{release}"), Path(f"/boot/initrd.img-{release}"))]
    return next(((kernel, initrd) for kernel, initrd in candidates
                 if kernel.is_file() and initrd.is_file()), None)


def probe_kvm(kernel: Path, initrd: Path, *, timeout: float = PROBE_SECONDS) -> tuple[bool, str]:
    """Boot ``kernel`` under KVM; returns (usable, reason).  Cached per host boot."""
    host_boot = BOOT_ID.read_text().strip() if BOOT_ID.exists() else ""
    cache = _cache_file()
    if cache.exists():
        data = json.loads(cache.read_text())
        if data.get("host_boot") == host_boot:
            return bool(data["usable"]), str(data["reason"])
    usable, reason = _boot(kernel, initrd, timeout)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"host_boot": host_boot, "usable": usable, "reason": reason}))
    return usable, reason


def _boot(kernel: Path, initrd: Path, timeout: float) -> tuple[bool, str]:
    if not Path("/dev/kvm").exists():
        return False, "/dev/kvm does not exist"
    with tempfile.TemporaryDirectory() as tmp:
        console = Path(tmp) / "console.log"
        args = ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "256",
                "-display", "none", "-no-reboot", "-serial", f"file:{console}",
                "-kernel", str(kernel), "-initrd", str(initrd),
                "-append", "console=ttyS0 panic=-1 rdinit=/vmapp-no-init init=/vmapp-no-init"]
        try:
            done = proc.run(args, stage="kvm probe", check=False, timeout=timeout)
        except CommandError as exc:
            return False, f"KVM boot did not finish in {timeout:.0f}s ({exc.detail})"
        text = console.read_text(errors="replace") if console.exists() else ""
        if "Kernel panic" in text or "Run /vmapp-no-init" in text:
            return True, "KVM boot reached the kernel's init stage"
        return False, f"KVM boot failed (qemu exit {done.returncode}): " \
            f"{(done.stderr or text).strip()[-300:]}"

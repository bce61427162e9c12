"""The Vagrant command line and its boxes, shared by every Vagrant machine: driven through
harness.proc (the one process runner; python-vagrant would be a second one), with its own
VAGRANT_HOME under the cache.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jinja2

from harness import proc
from harness.errors import CommandError
from harness.images.build import BuiltImage
from harness.settings import cache_dir

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\r")


def vagrant_home() -> Path:
    """Outside /root: libvirt-qemu must read the box's kernel and initrd from here."""
    return cache_dir() / "vagrant.d"


def _env() -> dict[str, str]:
    return {"VAGRANT_HOME": str(vagrant_home()), "VAGRANT_CHECKPOINT_DISABLE": "1",
            "VAGRANT_NO_COLOR": "1", "VAGRANT_DEFAULT_PROVIDER": "libvirt"}


def run_vagrant(args: list[str], *, stage: str, cwd: Path | None = None,
                timeout: float = 900, vm: str = "") -> str:
    try:
        done = proc.run(["vagrant", *args, "--machine-readable"], stage=stage, cwd=cwd,
                        env=_env(), timeout=timeout)
    except CommandError as exc:
        exc.output = _readable(exc.output)
        exc.vm = vm
        raise
    return done.stdout


def _ruby_string(value: object) -> str:
    """A single-quoted Ruby literal: nothing in it is interpolated (recipes are untrusted)."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def vagrantfile_environment() -> jinja2.Environment:
    """How every Vagrantfile template renders: a missing value is an error, ``| ruby`` quotes."""
    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["ruby"] = _ruby_string
    return env


def _readable(output: str) -> str:
    """Machine-readable vagrant output -> the human lines, without progress noise."""
    lines = []
    for raw in ANSI.sub("", output).splitlines():
        parts = raw.split(",", 4)
        text = parts[4] if len(parts) == 5 and parts[0].isdigit() else raw
        text = text.replace("%!(VAGRANT_COMMA)", ",").replace("\\n", "\n")
        if "Progress:" not in text:
            lines.append(text)
    return "\n".join(lines)


@contextmanager
def _boxes_locked() -> Iterator[None]:
    """Host-wide lock over Vagrant's boxes: parallel runs share them."""
    home = vagrant_home()
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".vmapp-box.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _has_box(name: str) -> bool:
    return f",box-name,{name}\n" in run_vagrant(["box", "list"], stage="vagrant box list") + "\n"


def ensure_box(image: BuiltImage) -> None:
    """Add the image's box to Vagrant once: its file, or a user's box by name from its registry
    (``vagrant box add NAME``)."""
    manifest = image.manifest
    version = ["--box-version", str(manifest["box_version"])] \
        if manifest.get("box_version") else []
    with _boxes_locked():
        if not _has_box(image.box_name):
            source = [image.box_name, "--provider", "libvirt", *version] \
                if manifest.get("box_name") else ["--name", image.box_name, str(image.box_file)]
            run_vagrant(["box", "add", "--force", *source], stage="vagrant box add",
                        timeout=3600)


def remove_box(image: BuiltImage) -> bool:
    """Remove the image's box from Vagrant; False when Vagrant did not have it."""
    with _boxes_locked():
        if not _has_box(image.box_name):
            return False
        run_vagrant(["box", "remove", "--force", "--all", image.box_name],
                    stage="vagrant box remove")
        return True

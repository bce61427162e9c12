"""Recipes for a user's own Windows Vagrant box (``guest: windows``): nothing is built here.

No Windows image can be made or obtained where the harness is developed, so a Windows image is
a box the user already has, as a file or by its name in a box registry, reached with Vagrant's
WinRM communicator (or OpenSSH), and the Python the agent runs with on it: one installed on the
box, or an embeddable Python zip the harness pushes and unpacks to ``C:\\vmapp\\python``.
"Building" the image records the box in the cache and adds it to Vagrant (``register_box``).

A password is never written in a recipe: ``password_env`` names the environment variable that
holds it, read when a machine is made and connected to (the Vagrantfile reads it too).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from harness.errors import ConfigError, ConfigErrors
from harness.images.identity import GalleryIdentity, gallery_identity
from harness.schema import Field, Validator
from harness.yamldoc import YamlDoc

BOX_BUILDER_VERSION = "1"
COMMUNICATORS = ("winrm", "ssh")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ZIP_PYTHON = "C:\\vmapp\\python\\python.exe"  # where an embeddable zip's python.exe ends up
# schtasks /tr takes 261 characters: the python path, the agent's path and its arguments.
MAX_PYTHON_PATH = 120

LOGIN = Field(dict, keys={
    "user": Field(str, required=True),
    "password_env": Field(str, required=True),
    "port": Field(int, minimum=1, maximum=65535),
})
SCHEMA = {
    "name": Field(str, required=True),
    "description": Field(str),
    "guest": Field(str, required=True, choices=("windows",)),
    "label": Field(str),
    "box": Field(dict, required=True, keys={
        "file": Field(str), "name": Field(str), "version": Field(str)}),
    "communicator": Field(str, choices=COMMUNICATORS),
    "winrm": LOGIN,
    "ssh": LOGIN,
    "python": Field(str),
    "python_zip": Field(str),
    "memory_mib": Field(int, minimum=1024, maximum=262144),
    "nic_model": Field(str, choices=("e1000e", "virtio-net-pci")),
    "readiness": Field(dict, keys={
        "boot_seconds": Field(int, minimum=10),
        "ssh_seconds": Field(int, minimum=10),
    }),
}


@dataclass(frozen=True)
class Login:
    """How the harness and Vagrant log in: the communicator, its account and guest port."""

    communicator: str  # winrm | ssh
    user: str
    password_env: str  # the environment variable holding the password
    guest_port: int
    source: str  # file:line of password_env, for the error when it is unset

    def password(self) -> str:
        value = os.environ.get(self.password_env)
        if not value:
            raise ConfigError(problem=f"the environment variable {self.password_env} (the "
                              f"{self.communicator} password of the box) is not set",
                              file=self.source, field=f"{self.communicator}.password_env")
        return value


@dataclass(frozen=True)
class BoxRecipe:
    """A user's Windows box, in the same places a built recipe is (``images/<name>.yaml``)."""

    name: str
    description: str
    label: str
    box_file: Path | None  # a .box file on this host ...
    box_name: str | None  # ... or a box by name (Vagrant Cloud or another registry)
    box_version: str | None
    login: Login
    python: str  # the Windows path of the python.exe the agent runs with
    python_zip: Path | None  # an embeddable Python the harness pushes, or None
    memory_mib: int
    nic_model: str
    boot_seconds: int
    ssh_seconds: int  # how long the communicator may take to answer after a boot
    source: Path
    lines: dict[str, int | None]  # the line of each field, for errors found after loading

    guest = "windows"

    @property
    def gallery(self) -> GalleryIdentity:
        """Its image definition in a scenario's gallery: the defaults, OS type Windows."""
        return gallery_identity(self.name, self.guest, {})

    @property
    def key(self) -> str:
        """Changes with the recipe, the box file (size and time: a box is gigabytes, not read
        whole) and the Python zip, so a new box makes a new image and warm copies."""
        digest = hashlib.sha256(BOX_BUILDER_VERSION.encode())
        digest.update(self.source.read_bytes())
        for path in (self.box_file, self.python_zip):
            if path is not None:
                digest.update(_identity(path).encode())
        return digest.hexdigest()[:12]

    def error(self, field: str, problem: str) -> ConfigError:
        return ConfigError(problem=problem, file=str(self.source), line=self.lines.get(field),
                           field=field)

    def require_files(self) -> None:
        """The files the recipe names exist (checked when the box is used, so that listing
        images works without them)."""
        errors = []
        if self.box_file is not None and not self.box_file.is_file():
            errors.append(self.error("box.file", f"no such box file: {self.box_file} (the box "
                                     "is yours to provide: a Windows Vagrant box for the "
                                     "libvirt provider; docs/windows.md)"))
        if self.python_zip is not None and not self.python_zip.is_file():
            errors.append(self.error("python_zip", f"no such file: {self.python_zip} (an "
                                     "embeddable Python zip from python.org)"))
        if errors:
            raise ConfigErrors(errors)


def _identity(path: Path) -> str:
    try:
        stat = path.stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def load_box_recipe(doc: YamlDoc, path: Path) -> BoxRecipe:
    """Validate a ``guest: windows`` recipe; every mistake is reported with file, line, field."""
    data = doc.data
    check = Validator(doc)
    for login in COMMUNICATORS:  # a password in the file: say what to do instead
        section = data.get(login) if isinstance(data, dict) else None
        if isinstance(section, dict) and "password" in section:
            check.fail((login, "password"), "a password is never written in a recipe: put it "
                       "in an environment variable and name that with password_env")
            section.pop("password")
    check.mapping(data, SCHEMA)
    if check.errors:
        raise ConfigErrors(check.errors)
    if data["name"] != path.stem:
        check.fail(("name",), f"must match the file name {path.stem!r}")
    box = data["box"]
    if ("file" in box) == ("name" in box):
        check.fail(("box",), "give exactly one of 'file' (a .box on this host) or 'name' (a "
                   "box in a registry)")
    if "version" in box and "file" in box:
        check.fail(("box", "version"), "only with 'name': a box file is one version")
    communicator = data.get("communicator", "winrm")
    other = COMMUNICATORS[1 - COMMUNICATORS.index(communicator)]
    if communicator not in data:
        check.fail((), f"missing required key {communicator!r} (communicator {communicator}: "
                   "user, password_env, port)")
    if other in data:
        check.fail((other,), f"only with communicator {other} (this recipe says "
                   f"{communicator})")
    env = data.get(communicator, {}).get("password_env", "")
    if env and not ENV_NAME.match(env):
        check.fail((communicator, "password_env"), f"must be an environment variable's name, "
                   f"got {env!r}")
    if ("python" in data) == ("python_zip" in data):
        check.fail((), "give exactly one of 'python' (a python.exe on the box) or "
                   "'python_zip' (an embeddable Python zip the harness pushes)")
    python = data.get("python", ZIP_PYTHON)
    windows = PureWindowsPath(python)
    if not (windows.drive and windows.root and windows.name.lower().endswith(".exe")):
        check.fail(("python",), f"must be the absolute Windows path of python.exe, got "
                   f"{python!r}")
    elif len(python) > MAX_PYTHON_PATH or '"' in python:
        check.fail(("python",), f"at most {MAX_PYTHON_PATH} characters and no '\"' (the "
                   "scheduled task that starts the agent takes a 261-character command)")
    if not data.get("python_zip", ".zip").lower().endswith(".zip"):
        check.fail(("python_zip",), "must be a .zip (python-3.x.y-embed-amd64.zip)")
    if check.errors:
        raise ConfigErrors(check.errors)
    login = data[communicator]
    readiness = data.get("readiness", {})
    return BoxRecipe(
        name=data["name"], description=data.get("description", ""),
        label=data.get("label", ""),
        box_file=_host_path(path, box.get("file")), box_name=box.get("name"),
        box_version=box.get("version"),
        login=Login(communicator=communicator, user=login["user"],
                    password_env=login["password_env"],
                    guest_port=login.get("port", 5985 if communicator == "winrm" else 22),
                    source=f"{path}:{doc.line((communicator, 'password_env'))}"),
        python=python, python_zip=_host_path(path, data.get("python_zip")),
        memory_mib=data.get("memory_mib", 4096), nic_model=data.get("nic_model", "e1000e"),
        boot_seconds=readiness.get("boot_seconds", 900),
        ssh_seconds=readiness.get("ssh_seconds", 900), source=path,
        lines={field: doc.line(tuple(field.split("."))) for field in (
            "box.file", "box.name", "python_zip")})


def _host_path(recipe: Path, value: str | None) -> Path | None:
    """A host file the recipe names, relative to the recipe's folder unless absolute."""
    return None if value is None else (recipe.parent / value).resolve()


def register_box(recipe: BoxRecipe, images: Path) -> Path:
    """What building a box recipe means: check its files and record it in the cache
    (``images/<name>-<key>``: image.json, and the box file linked as ``<name>.box``); Vagrant
    adds the box from there when a machine is made (or by ``vmapp images build``)."""
    recipe.require_files()
    final = images / f"{recipe.name}-{recipe.key}"
    if (final / "image.json").is_file():
        return final
    final.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, object] = {
        "name": recipe.name, "key": recipe.key, "description": recipe.description,
        "guest": "windows", "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_seconds": 0.0}
    if recipe.box_file is not None:
        link = final / f"{recipe.name}.box"
        link.unlink(missing_ok=True)
        link.symlink_to(recipe.box_file)
        manifest["box_file"] = str(recipe.box_file)
    else:
        manifest.update(box_name=recipe.box_name, box_version=recipe.box_version)
    (final / "image.json").write_text(json.dumps(manifest, indent=2))
    return final

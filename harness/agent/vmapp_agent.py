#!/usr/bin/env python3
# ruff: noqa: UP017
"""vmapp_agent: the harness's stand-in for the Azure "VM Application" extension, in the guest.

The harness pushes this one file into a test VM and runs it as root.  It follows every rule the
specification (the seeds) states, and keeps its files where the real VMApplicationManager
extension keeps them, so the same checks read both.  Where the seeds are silent it takes a
documented reading; docs/agent.md lists each one.  Standard library only, Python 3.8+, because it
runs on whatever Python the guest image has.

    vmapp_agent.py [--root DIR] [--os linux|windows] [--wine-standin CONFIG.json]
                   [--boot-id-file PATH] [--lock-wait S] CMD
      apply GOALSTATE.json   converge to the goal state, print its final status
      resume                 finish a goal state a reboot interrupted (run at boot)
      status [--seq N]       print the newest (or Nth) status file
      capabilities           print what this agent supports

How ``apply`` converges: validate the goal state and store it as ``config/<seq>.settings``; plan
steps by comparing it with the registry of installed apps (removals first, then ordered apps by
ascending order, then unordered apps); run them, journalling before and after every command so a
reboot loses nothing; after each step update the registry, ``status/<seq>.status`` and
``status/<seq>.details.json``.

``--wine-standin CONFIG.json`` (with ``--os windows``, on Linux): the wine stand-in.  The Windows
layout lives in the wine prefix's ``drive_c``, every command runs through the launcher under
wine (:class:`WineExecutor`), and the stand-in's refusal rules, which the harness writes into
the config, are applied before a command runs (docs/windows.md).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import errno
import http.client
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Protocol

AGENT_VERSION = "1.0.0"
EXTENSION_VERSION = "1.0.9"
LINUX_EXTENSION = "Microsoft.CPlat.Core.VMApplicationManagerLinux"
WINDOWS_EXTENSION = "Microsoft.CPlat.Core.VMApplicationManagerWindows"
SCHEMA_VERSION = 1  # of the details, journal and registry files
OUTPUT_TAIL_BYTES = 64 * 1024
APP_OUTPUTS = ("stdout", "stderr")  # the app folder's copies of a command's output
DEFAULT_COMMAND_TIMEOUT = 900.0
DEFAULT_DOWNLOAD_RETRY_SECONDS = 120
DOWNLOAD_BACKOFF_SECONDS = 0.5
DOWNLOAD_BACKOFF_MAX_SECONDS = 5.0
# Local write errors no retry can fix: the download fails at once and its .part goes.
LOCAL_WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)
# A file: link to a file that is missing or unreadable: final.
LOCAL_FILE_ERRORS = (errno.ENOENT, errno.EACCES, errno.EISDIR, errno.ENOTDIR)
# "No such host": final.  EAI_AGAIN ("temporary failure") is not: DNS may not be up after a boot.
UNKNOWN_HOST_ERRORS = tuple(getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA")
                            if hasattr(socket, name))
STOP_GRACE_SECONDS = 10.0
MAX_COMMAND_CHARS = 4096
MAX_SEQUENCE_NUMBER = 2**31 - 1  # the platform's sequence numbers are 32-bit integers
MAX_FILE_NAME_BYTES = 255  # what Linux and NTFS allow for one path component
LINUX_INTERPRETERS = ("/bin/sh", "/bin/bash")
WINDOWS_INTERPRETERS = ("cmd.exe",)
CONFIG_NAMINGS = ("underscore", "hyphen")
REBOOT_BEHAVIORS = ("None", "Rerun")
RESUME_UNIT = "vmapp-agent-resume.service"
RESUME_TASK = "vmapp-agent-resume"
EXIT_OK, EXIT_INTERNAL, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 3
VERBS = {"install": "Install", "update": "Update", "remove": "Remove", "forget": "Remove"}


class AgentError(Exception):
    """The agent itself cannot do what was asked (bad goal state, lock held, ...): exit 2."""


class DownloadError(Exception):
    """A package or configuration file could not be fetched; the app's operation fails with it."""


class Interrupted(Exception):
    """The system is shutting down: stop before the next command, leave the journal as it is."""


class _Stop:
    """Set by SIGTERM (what systemd sends at shutdown); checked before every command."""

    requested = False


def utc_now() -> str:
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def write_text_atomic(path: Path, text: str, durable: bool = False) -> None:
    """Replace ``path`` in one step so a poller (or a power cut) never sees half a file.

    ``durable`` also fsyncs file and folder: for the files reboot recovery relies on.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # e.g. a full disk: leave the old file, not a half-written copy
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if durable and os.name == "posix":
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json(path: Path, data: Any, durable: bool = False) -> None:
    write_text_atomic(path, json.dumps(data, indent=2) + "\n", durable)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def tail_text(path: str | None, limit: int = OUTPUT_TAIL_BYTES) -> str:
    """The last ``limit`` bytes of a command's output file, as text ("" if there is none)."""
    if not path:
        return ""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - limit))
            return fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def redact_url(url: str) -> str:
    """Hide a SAS signature so a URL can go into statuses and logs."""
    return re.sub(r"(?i)([?&]sig=)[^&]*", r"\1REDACTED", url)


# ---------------------------------------------------------------------------------------------
# Where files live


class Layout:
    """Every path the agent uses, for one guest OS, optionally mapped under a test root.

    Paths are written as the real extension's and mapped by :meth:`local`: with no root they are
    used as they are; under ``--root DIR`` the Linux path ``/x/y`` becomes ``DIR/x/y`` and the
    Windows path ``C:\\x\\y`` becomes ``DIR/C/x/y``, so the Windows layout can be tested on Linux.
    With a wine prefix (the stand-in) ``C:\\x\\y`` is ``<prefix>/drive_c/x/y``, where wine has it.
    """

    def __init__(self, os_name: str, root: str | None = None, wine_prefix: str | None = None
                 ) -> None:
        self.os = os_name
        self.is_windows = os_name == "windows"
        self.root = None if root in (None, "", "/") else root
        self.wine_prefix = wine_prefix  # Windows paths map into this prefix's drive_c
        if self.is_windows:
            ext = "C:\\Packages\\Plugins\\" + WINDOWS_EXTENSION + "\\" + EXTENSION_VERSION
            self.extension_dir = self.local(ext)
            self.downloads_dir = self.extension_dir / "Downloads"
            self.config_dir = self.extension_dir / "RuntimeSettings"
            self.status_dir = self.extension_dir / "Status"
            logs = "C:\\WindowsAzure\\Logs\\Plugins\\" + WINDOWS_EXTENSION
        else:
            waagent = "/var/lib/waagent/" + LINUX_EXTENSION
            self.extension_dir = self.local(f"{waagent}-{EXTENSION_VERSION}")
            self.downloads_dir = self.local(waagent)
            self.config_dir = self.extension_dir / "config"
            self.status_dir = self.extension_dir / "status"
            logs = f"/var/log/azure/{LINUX_EXTENSION}"
        self.log_file = self.local(logs) / "vmapp-agent.log"
        self.mrseq_file = self.extension_dir / "mrseq"
        self.registry_file = self.config_dir / "applicationRegistry.active"
        self.journal_file = self.extension_dir / "vmapp-agent.journal"
        self.lock_file = self.extension_dir / "vmapp-agent.lock"
        self.bin_dir = self.extension_dir / "bin"

    @property
    def is_real(self) -> bool:
        """True when the agent works on the machine's own root (not a test folder)."""
        return self.root is None

    @property
    def linux_host(self) -> bool:
        """True when the machine under the agent is Linux (a Linux guest or the wine stand-in):
        systemd resumes it at boot and says when it is stopping."""
        return not self.is_windows or self.wine_prefix is not None

    def local(self, guest_path: str) -> Path:
        if self.is_windows:
            win = PureWindowsPath(guest_path)
            if self.wine_prefix is not None:
                return Path(self.wine_prefix, "drive_" + win.drive.rstrip(":").lower(),
                            *win.parts[1:])
            if self.root is None and sys.platform == "win32":
                return Path(guest_path)
            return Path(self.root or "/", win.drive.rstrip(":"), *win.parts[1:])
        if self.root is None:
            return Path(guest_path)
        return Path(self.root, *PurePosixPath(guest_path).parts[1:])

    def windows_path(self, local: Path) -> str:
        """The wine prefix's Windows name of a file in it (``<prefix>/drive_c/x`` is ``C:\\x``)."""
        drive, *rest = local.relative_to(str(self.wine_prefix)).parts
        return str(PureWindowsPath(drive.replace("drive_", "").upper() + ":\\", *rest))

    def app_dir(self, app: str) -> Path:
        return self.downloads_dir / app

    def version_dir(self, app: str, version: str) -> Path:
        return self.downloads_dir / app / version

    def settings_file(self, seq: int) -> Path:
        return self.config_dir / f"{seq}.settings"

    def status_file(self, seq: int) -> Path:
        return self.status_dir / f"{seq}.status"

    def details_file(self, seq: int) -> Path:
        return self.status_dir / f"{seq}.details.json"

    def outputs_dir(self, seq: int) -> Path:
        return self.extension_dir / "outputs" / str(seq)


# ---------------------------------------------------------------------------------------------
# Goal state

TOP_FIELDS = ("sequenceNumber", "os", "options", "applications")
OPTION_FIELDS = ("interpreter", "configNaming", "commandTimeoutSeconds", "downloadRetrySeconds")
# field -> (kind, required, default); kinds ending in "?" also accept null ("" counts as null)
APP_FIELDS: dict[str, tuple[str, bool, Any]] = {
    "name": ("name", True, None),
    "version": ("version", True, None),
    "packageReferenceId": ("text", True, None),
    "order": ("order", False, None),
    "packageUrl": ("url", True, None),
    "configUrl": ("url?", False, None),
    "install": ("command", True, None),
    "remove": ("command", True, None),
    "update": ("command?", False, None),
    "packageFileName": ("file?", False, None),
    "configFileName": ("file?", False, None),
    "treatFailureAsDeploymentFailure": ("bool", False, False),
    "enableAutomaticUpgrade": ("bool", False, False),
    "scriptBehaviorAfterReboot": ("behavior", False, "None"),
    "tags": ("text", False, ""),
}
# Matched with fullmatch: "$" would also match before a trailing newline, and "\d" would take
# non-ASCII digits such as "\u0661".
NAME_RE = re.compile(r"[A-Za-z0-9._-]{1,117}")
VERSION_RE = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


def _problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is not a valid ``kind`` (the gallery's own limits), or None."""
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    if kind == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "order":
        ok = value is None or (isinstance(value, int) and not isinstance(value, bool))
        return None if ok else "must be an integer or null"
    if not isinstance(value, str):
        return "must be a string"
    if not _is_unicode(value):
        return "must be valid Unicode text (no lone surrogates)"
    if kind == "name" and (not NAME_RE.fullmatch(value) or value.endswith(".")):
        return "must be 1-117 letters, digits, '-', '.' or '_', not ending with '.'"
    if kind == "version":
        match = VERSION_RE.fullmatch(value)
        if not match or any(int(p) > 2147483647 for p in match.groups()):
            return "must be Major.Minor.Patch, each a 32-bit integer"
    if kind == "url":
        return _url_problem(value)
    if kind == "command" and not value.strip():
        return "must not be empty"
    if kind == "command" and len(value) > MAX_COMMAND_CHARS:
        return f"must be at most {MAX_COMMAND_CHARS} characters"
    if kind == "command" and "\0" in value:  # no OS can pass a NUL in a command line
        return "must not contain NUL"
    if kind == "file" and not _is_file_name(value):
        return "must be a plain file name"
    if kind == "behavior" and value not in REBOOT_BEHAVIORS:
        return "must be 'None' or 'Rerun'"
    return None


def _is_unicode(text: str) -> bool:
    """False for strings JSON can carry but no file or command line can (lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_file_name(name: str) -> bool:
    """One path component every file system takes: no separator, no NUL, not too long."""
    return (name not in (".", "..") and not any(c in name for c in "/\\\0")
            and len(name.encode("utf-8")) <= MAX_FILE_NAME_BYTES)


def _url_problem(url: str) -> str | None:
    """Refuse links ``urlopen`` would crash on or could never fetch, so no app fails for them
    later (a malformed IPv6 host, a port out of range, spaces, control characters or other
    non-ASCII text that http.client cannot send, no host)."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError:
        return "must be a valid URL"
    if parts.scheme.lower() not in ("http", "https", "file"):
        return "must be an http, https or file URL"
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "must be a valid URL (ASCII, percent-encoded; no spaces or control characters)"
    if parts.scheme.lower() != "file" and not parts.hostname:
        return "must be a valid URL (no host)"
    return None


def _bad_number(value: Any, minimum: float, inclusive: bool) -> bool:
    """True unless ``value`` is a finite JSON number above (or at) ``minimum``.

    NaN compares false with everything, so a plain ``value <= 0`` test lets it through; an
    integer too big for a float would overflow where the agent computes deadlines.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True
    try:
        number = float(value)
    except OverflowError:
        return True
    if not math.isfinite(number):
        return True
    return number < minimum or (number == minimum and not inclusive)


def _validate_options(raw: Any, os_name: str, errors: list[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        errors.append("options: must be an object")
        raw = {}
    errors.extend(f"options.{key}: unknown field" for key in raw if key not in OPTION_FIELDS)
    allowed = WINDOWS_INTERPRETERS if os_name == "windows" else LINUX_INTERPRETERS
    interpreter = raw.get("interpreter") or allowed[0]
    if interpreter not in allowed:
        errors.append(f"options.interpreter: must be one of {', '.join(allowed)}")
    naming = raw.get("configNaming", "underscore")
    if naming not in CONFIG_NAMINGS:
        errors.append("options.configNaming: must be 'underscore' or 'hyphen'")
    timeout = raw.get("commandTimeoutSeconds", DEFAULT_COMMAND_TIMEOUT)
    if _bad_number(timeout, 0, inclusive=False):
        errors.append("options.commandTimeoutSeconds: must be a positive number")
    retry = raw.get("downloadRetrySeconds", DEFAULT_DOWNLOAD_RETRY_SECONDS)
    if _bad_number(retry, 0, inclusive=True):
        errors.append("options.downloadRetrySeconds: must be a number >= 0")
    return {"interpreter": interpreter, "configNaming": naming, "commandTimeoutSeconds": timeout,
            "downloadRetrySeconds": retry}


def _validate_app(index: int, raw: Any, errors: list[str]) -> dict[str, Any]:
    where = f"applications[{index}]"
    if not isinstance(raw, dict):
        errors.append(f"{where}: must be an object")
        return {}
    errors.extend(f"{where}.{key}: unknown field" for key in raw if key not in APP_FIELDS)
    app: dict[str, Any] = {}
    for name, (kind, required, default) in APP_FIELDS.items():
        value = raw.get(name, default)
        if kind.endswith("?") and value == "":
            value = None
        if name not in raw and required:
            errors.append(f"{where}.{name}: required")
            continue
        problem = _problem(kind, value)
        if problem:
            errors.append(f"{where}.{name}: {problem}")
        app[name] = value
    return app


def validate_goal_state(raw: Any, agent_os: str) -> dict[str, Any]:
    """Check a goal state and fill in defaults; raise AgentError naming every bad field."""
    if not isinstance(raw, dict):
        raise AgentError("invalid goal state: the document must be a JSON object")
    errors = [f"{key}: unknown field" for key in raw if key not in TOP_FIELDS]
    seq = raw.get("sequenceNumber")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq <= MAX_SEQUENCE_NUMBER:
        errors.append(f"sequenceNumber: required, a non-negative integer (at most "
                      f"{MAX_SEQUENCE_NUMBER})")
    os_name = raw.get("os")
    if os_name not in ("linux", "windows"):
        errors.append("os: required, 'linux' or 'windows'")
    elif os_name != agent_os:
        errors.append(f"os: the goal state is for {os_name} but this agent runs as {agent_os}")
    options = _validate_options(raw.get("options", {}), agent_os, errors)
    apps_raw = raw.get("applications")
    if not isinstance(apps_raw, list):
        errors.append("applications: required, a list")
        apps_raw = []
    apps = [_validate_app(i, a, errors) for i, a in enumerate(apps_raw)]
    seen: set[str] = set()
    for i, app in enumerate(apps):
        name = app.get("name")
        if isinstance(name, str) and name in seen:
            errors.append(f"applications[{i}].name: '{name}' appears more than once")
        seen.add(str(name))
        naming = options["configNaming"]
        if app.get("configUrl") and package_file_name(app) == config_file_name(app, naming):
            errors.append(f"applications[{i}].configFileName: same as the package file name")
    if errors:
        raise AgentError("invalid goal state: " + "; ".join(errors))
    return {"sequenceNumber": seq, "os": os_name, "options": options, "applications": apps}


def load_goal_state(path: str, agent_os: str) -> dict[str, Any]:
    try:
        raw = read_json(Path(path))
    except (OSError, ValueError) as exc:
        raise AgentError(f"cannot read goal state {path}: {exc}") from exc
    except RecursionError as exc:  # the parser recurses once per level of nesting
        raise AgentError(f"cannot read goal state {path}: nested too deeply") from exc
    return validate_goal_state(raw, agent_os)


def package_file_name(app: dict[str, Any]) -> str:
    """Seeds: the package is saved under the application's name unless packageFileName is set."""
    return str(app.get("packageFileName") or app.get("name"))


def config_file_name(app: dict[str, Any], naming: str) -> str:
    """Seeds: ``<app>_config``; later docs: ``<app>-config`` (option); configFileName wins."""
    suffix = "-config" if naming == "hyphen" else "_config"
    return str(app.get("configFileName") or f"{app.get('name')}{suffix}")


# ---------------------------------------------------------------------------------------------
# Downloads


def download(url: str, dest: Path, retry_seconds: float = DEFAULT_DOWNLOAD_RETRY_SECONDS,
             on_retry: Callable[[int, str], None] = lambda _attempt, _problem: None) -> int:
    """Stream ``url`` to ``dest`` and return the byte count.

    Connection errors and HTTP 5xx/408/429 are retried with backoff for ``retry_seconds`` (storage
    throttles or restarts, and right after a boot the network may not be up yet); other 4xx
    answers such as 403 (bad SAS) and 404 (no blob), an unknown host, a missing local file and a
    full disk are final.  The message names the HTTP status, since that is what tells a user
    which link is wrong.  ``on_retry`` hears of each failed attempt that is retried.  A shutdown
    (SIGTERM) ends the retries: ``resume`` downloads again after the boot.
    """
    problem = ""
    deadline = time.monotonic() + retry_seconds
    attempt = 0
    while True:
        if attempt:
            pause = min(DOWNLOAD_BACKOFF_SECONDS * 2 ** (attempt - 1), DOWNLOAD_BACKOFF_MAX_SECONDS)
            if time.monotonic() + pause > deadline:
                break
            on_retry(attempt, problem)
            _pause(pause)
        if _Stop.requested:
            raise Interrupted("the system is shutting down; resume will download after the boot")
        attempt += 1
        try:
            return _fetch(url, dest)
        except urllib.error.HTTPError as exc:
            problem = f"HTTP {exc.code} {exc.reason}"
            if exc.code < 500 and exc.code not in (408, 429):
                break
        except urllib.error.URLError as exc:
            problem, final = _connection_problem(exc.reason)
            if final:
                break
        except OSError as exc:
            if exc.errno in LOCAL_WRITE_ERRORS:
                raise DownloadError(f"{os.strerror(exc.errno).lower()} (writing {dest})") from exc
            problem = f"transfer failed: {exc}"
        except http.client.HTTPException as exc:
            problem = f"transfer failed: {exc}"
        except ValueError as exc:  # a link urllib cannot use, e.g. "file:///a%00b"
            problem = f"invalid link: {exc}"
            break
    raise DownloadError(problem)


def _connection_problem(reason: Any) -> tuple[str, bool]:
    """What a URLError's reason means, and whether it is final (no retry can change it): an
    unknown host, a local file that is missing or unreadable, or a link urllib refuses (its
    reason is then a text such as "no host given").  A refused connection is not final."""
    if isinstance(reason, socket.gaierror) and reason.errno in UNKNOWN_HOST_ERRORS:
        return f"connection failed: no such host ({reason.strerror})", True
    final = isinstance(reason, str) or getattr(reason, "errno", None) in LOCAL_FILE_ERRORS
    return f"connection failed: {reason}", final


def _pause(seconds: float) -> None:
    """Sleep, but wake at once when a shutdown begins (a signal does not cut a sleep short)."""
    end = time.monotonic() + seconds
    while not _Stop.requested and time.monotonic() < end:
        time.sleep(min(0.1, max(end - time.monotonic(), 0)))


def _fetch(url: str, dest: Path) -> int:
    """One attempt; whatever ends it early (full disk, a dropped connection) removes the
    ``.part``, so a failed download never holds on to the space it took."""
    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(part, "wb") as out:
            shutil.copyfileobj(response, out, 1024 * 1024)
            size = out.tell()
            expected = response.headers.get("Content-Length")
        if expected is not None and expected.strip() != str(size):
            raise OSError(f"got {size} of {expected} bytes")
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return size


# ---------------------------------------------------------------------------------------------
# Running commands: the executor seam (a wine-hosted Windows stand-in plugs in here)


class ExecResult:
    """How a command ended: an exit code, a timeout (process group killed), a start failure, a
    shutdown that began while it ran (``interrupted``: the agent stops waiting so the shutdown
    is not held up; the journal already says the command was in flight), or a refusal to run it
    at all (``unsupported``: "unsupported on stand-in: <reasons>", the wine stand-in only)."""

    def __init__(self, exit_code: int | None, timed_out: bool = False, error: str = "",
                 interrupted: bool = False, unsupported: str = "") -> None:
        self.exit_code = exit_code
        self.timed_out = timed_out
        self.error = error
        self.interrupted = interrupted
        self.unsupported = unsupported


def wait_or_stop(proc: subprocess.Popen[bytes], timeout: float) -> ExecResult | None:
    """Wait for ``proc`` until ``timeout`` (None then).  After SIGTERM the command gets
    STOP_GRACE_SECONDS to finish on its own; past that the agent stops waiting (``interrupted``)
    so that a shutdown is not held up until systemd's stop timeout kills it."""
    deadline = time.monotonic() + timeout
    stop_deadline = None
    while True:
        try:
            return ExecResult(proc.wait(timeout=min(0.5, max(deadline - time.monotonic(), 0))))
        except subprocess.TimeoutExpired:
            if _Stop.requested and stop_deadline is None:
                stop_deadline = time.monotonic() + STOP_GRACE_SECONDS
            if stop_deadline is not None and time.monotonic() >= stop_deadline:
                return ExecResult(None, interrupted=True)
            if time.monotonic() >= deadline:
                return None


class Executor(Protocol):
    """Runs one command string in ``cwd`` with output to two files; never raises for the
    command's own failure.  ShExecutor (Linux), CmdExecutor (Windows) and WineExecutor (the
    wine stand-in) implement it.

    ``started`` is the command's "started" marker: it must exist, durably, before the command
    itself begins and never when it did not, so that after a power cut the agent can tell a
    command that never started (run it) from one that was interrupted (docs/agent.md).
    """

    def run(self, command: str, cwd: Path, stdout: Path, stderr: Path, timeout: float,
            started: Path) -> ExecResult: ...


# Run by the interpreter itself as ``$0 -c LAUNCH $0 MARKER COMMAND``: create the marker, fsync it
# (``sync FILE``; a plain ``sync`` where that is not supported), then become
# ``<interpreter> -c COMMAND``, so the command runs exactly as it would without the wrapper.  No
# marker (a full disk), no command: run unmarked, a power cut would get it run twice.
LAUNCH_FAILED = 125
LAUNCH = (f'printf started > "$1" || exit {LAUNCH_FAILED}; {{ sync "$1" || sync; }} 2>/dev/null; '
          'exec "$0" -c "$2"')


class ShExecutor:
    """Linux: ``<interpreter> -c CMD`` in its own process group, output straight to files.

    Files, not pipes: a background child that keeps a pipe open would hang the agent.  The
    child writes its own "started" marker as its first act (``LAUNCH``): written by the agent,
    a power cut between the marker and the process start would read as "interrupted".
    """

    def __init__(self, interpreter: str = "/bin/sh") -> None:
        self.interpreter = interpreter

    def argv(self, command: str, started: Path) -> list[str]:
        return [self.interpreter, "-c", LAUNCH, self.interpreter, str(started), command]

    def run(self, command: str, cwd: Path, stdout: Path, stderr: Path, timeout: float,
            started: Path) -> ExecResult:
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            try:
                proc = subprocess.Popen(self.argv(command, started), cwd=str(cwd), stdout=out,
                                        stderr=err, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
            except OSError as exc:
                return ExecResult(None, error=f"could not start {self.interpreter}: {exc}")
            ended = wait_or_stop(proc, timeout)
            if ended is not None and ended.exit_code == LAUNCH_FAILED and not started.exists():
                return ExecResult(None, error=f"could not write its started marker {started}")
            if ended is not None:
                return ended
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)
            return ExecResult(proc.wait(), timed_out=True)


class CmdExecutor:
    """Windows: CreateProcess("cmd.exe /c " + CMD) with the string exactly as written.

    A string, never a list: subprocess would re-quote a list and turn every ``"`` into ``\\"``.
    Exit codes are the full 32-bit values (3010 stays 3010).  ``popen`` is replaceable so the
    command line can be checked where no Windows is available.
    """

    def __init__(self, popen: Callable[..., Any] = subprocess.Popen) -> None:
        self._popen = popen

    @staticmethod
    def command_line(command: str) -> str:
        return "cmd.exe /c " + command

    def run(self, command: str, cwd: Path, stdout: Path, stderr: Path, timeout: float,
            started: Path) -> ExecResult:
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            try:
                proc = self._popen(self.command_line(command), cwd=str(cwd), stdout=out,
                                   stderr=err, stdin=subprocess.DEVNULL, creationflags=flags)
            except OSError as exc:
                return ExecResult(None, error=f"could not start cmd.exe: {exc}")
            # cmd.exe has no exec: the agent marks the start right after CreateProcess, so only a
            # power cut in those milliseconds reads as "never started" (the launcher's to fix).
            with contextlib.suppress(OSError):  # the command is running: never fail it now
                write_text_atomic(started, "started", durable=True)
            ended = wait_or_stop(proc, timeout)
            if ended is None:
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                                   capture_output=True, timeout=60, check=False)
                proc.kill()
                return ExecResult(int(proc.wait()), timed_out=True)
            return ended


PE_HEAD_BYTES = 64 * 1024  # enough of a file to find its PE header


def pe_machine(data: bytes) -> int | None:
    """The COFF machine field of a PE file (0x8664 x64, 0x14c x86), None when not a PE."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    offset = int.from_bytes(data[0x3C:0x40], "little")
    if len(data) < offset + 6 or data[offset:offset + 4] != b"PE\0\0":
        return None
    return int.from_bytes(data[offset + 4:offset + 6], "little")


def standin_refusal(rules: dict[str, Any], command: str, files: list[bytes]) -> str | None:
    """"unsupported on stand-in: <reasons>" for a command that wine cannot run faithfully, or
    whose folder holds a program of a kind it cannot run (``files``: the first bytes of each);
    None when it can.  The rules are the harness's (harness/machines/standin.py), handed over
    in the stand-in's config so that they have one home."""
    reasons = [reason for pattern, reason in rules["commands"]
               if re.search(pattern, command, re.IGNORECASE)]
    for head in files:
        machine = pe_machine(head)
        if machine is not None and machine != rules["supportedMachine"]:
            kind = rules["machines"].get(str(machine), f"machine 0x{machine:04x}")
            reasons.append(rules["machineReason"].format(kind=kind))
    return rules["prefix"] + "; ".join(dict.fromkeys(reasons)) if reasons else None


class WineExecutor:
    """The wine stand-in: ``wine vmapp-launch.exe`` runs ``cmd.exe /c CMD`` exactly as written.

    The launcher (images/windows/vmapp-launch.c) reads the command from a file (wine would turn
    ``"`` into ``\\"`` in an argument), writes its output to files (wine's background services
    keep pipes open) and the full 32-bit exit code to a side file (wine passes exit codes on
    modulo 256: 3010 would arrive as 194).  Every path it is given is the prefix's Windows name
    for it.  What the stand-in cannot run faithfully is refused before anything runs.
    """

    def __init__(self, config: dict[str, Any], layout: Layout) -> None:
        self.layout = layout
        self.launcher = config["launcher"]
        self.rules = config["refusal"]
        self.env = dict(os.environ, **config["env"], WINEPREFIX=config["prefix"])

    def refusal(self, command: str, cwd: Path) -> str | None:
        heads = []
        for path in sorted(cwd.iterdir()) if cwd.is_dir() else []:
            if path.is_file():
                with open(path, "rb") as fh:
                    heads.append(fh.read(PE_HEAD_BYTES))
        return standin_refusal(self.rules, command, heads)

    def run(self, command: str, cwd: Path, stdout: Path, stderr: Path, timeout: float,
            started: Path) -> ExecResult:
        refused = self.refusal(command, cwd)
        if refused:
            return ExecResult(None, unsupported=refused)
        files = {name: stdout.with_suffix(suffix) for name, suffix in (
            ("command", ".command"), ("exit", ".exitcode"), ("wine", ".wine.log"))}
        write_text_atomic(files["command"], command)
        files["exit"].unlink(missing_ok=True)
        argv = ["wine", self.launcher] + [self.layout.windows_path(path) for path in (
            files["command"], stdout, stderr, files["exit"])]
        with open(files["wine"], "wb") as log:
            try:
                proc = subprocess.Popen(argv, cwd=str(cwd), stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL, env=self.env,
                                        start_new_session=True)
            except OSError as exc:
                return ExecResult(None, error=f"could not start wine: {exc}")
            with contextlib.suppress(OSError):  # as CmdExecutor: marked right after the start
                write_text_atomic(started, "started", durable=True)
            ended = wait_or_stop(proc, timeout)
            if ended is None:
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                return ExecResult(proc.wait(), timed_out=True)
        if ended.interrupted:
            return ended
        try:
            return ExecResult(int(files["exit"].read_text(encoding="ascii")))
        except (OSError, ValueError):
            said = tail_text(str(files["wine"])).strip()
            return ExecResult(None, error=f"the launcher wrote no exit code (wine exited "
                                          f"{ended.exit_code}): {said}")


def make_executor(options: dict[str, Any], os_name: str) -> Executor:
    return CmdExecutor() if os_name == "windows" else ShExecutor(options["interpreter"])


def command_failure(command: str, result: ExecResult, timeout: float) -> str | None:
    """The real extension's failure text for a command, or None when it succeeded (a command
    the stand-in refused fails with the refusal alone: it never ran)."""
    if result.unsupported:
        return result.unsupported
    prefix = f"Error executing command '{command}': "
    if result.error:
        return prefix + result.error
    if result.timed_out:
        return prefix + f"command timed out after {timeout:g} seconds and was killed"
    if result.exit_code is not None and result.exit_code < 0:
        return prefix + f"command terminated by signal {-result.exit_code}"
    if result.exit_code:
        return prefix + f"command terminated with exit status={result.exit_code}"
    return None


# ---------------------------------------------------------------------------------------------
# Machine facts: lock, boot id, shutdown, log


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class AgentLock:
    """One agent run at a time, by an OS file lock (flock / msvcrt.locking).

    The OS drops the lock when its holder dies and no lock survives a reboot, so a lock file
    left from before a reboot never blocks ``resume``.  The holder describes itself in
    ``<lock>.owner`` so a refused run can say who is working.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.owner_file = path.with_name(path.name + ".owner")
        self._fd: int | None = None

    def acquire(self, wait: float, owner: str, log: Log) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(str(self.path), os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline or _Stop.requested:
                os.close(fd)
                try:
                    holder = self.owner_file.read_text(encoding="utf-8").strip()
                except OSError:
                    holder = "owner unknown"
                raise AgentError(f"another vmapp_agent run holds the lock {self.path} "
                                 f"({holder}); gave up after waiting {wait:g}s")
            time.sleep(0.05)
        self._fd = fd
        try:  # only a courtesy to a refused run: a full disk must not stop the agent here
            write_text_atomic(self.owner_file, owner + "\n")
        except OSError as exc:
            log(f"WARNING: could not write {self.owner_file}: {exc}")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_boot_id(path: str | None) -> str:
    """An id that changes at every boot: how the agent tells a reboot from a crash.

    Linux: /proc/sys/kernel/random/boot_id.  Windows: the kernel's boot counter (registry value
    PrefetchParameters\\BootId), else LastBootUpTime from PowerShell.  Tests pass a file.
    """
    try:
        if path:
            return Path(path).read_text(encoding="utf-8").strip()
        if sys.platform == "win32":
            return _windows_boot_id()
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="utf-8").strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise AgentError(f"cannot read the boot id: {exc}") from exc


def _windows_boot_id() -> str:
    if sys.platform == "win32":
        import winreg

        key = (r"SYSTEM\CurrentControlSet\Control\Session Manager\Memory Management"
               r"\PrefetchParameters")
        with contextlib.suppress(OSError), winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE, key) as handle:
            return "bootid-" + str(winreg.QueryValueEx(handle, "BootId")[0])
    query = ("(Get-CimInstance Win32_OperatingSystem).LastBootUpTime.ToUniversalTime()"
             ".ToString('yyyy-MM-ddTHH:mm:ss')")
    done = subprocess.run(["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", query],
                          capture_output=True, text=True, timeout=120, check=True)
    return "lastboot-" + done.stdout.strip()


def system_stopping(layout: Layout) -> bool:
    """True once a shutdown has begun: SIGTERM received, or systemd says "stopping".

    A reboot command often returns before the reboot kills us; starting the next command then
    would have it cut short, so the agent stops and lets ``resume`` continue after the boot.
    """
    if _Stop.requested:
        return True
    if layout.is_real and layout.linux_host and Path("/run/systemd/system").is_dir():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(["systemctl", "is-system-running"], capture_output=True,
                                  text=True, timeout=10, check=False)
            return done.stdout.strip() == "stopping"
    return False


class Log:
    """Timestamped lines appended to the extension's log; logging never fails the agent (a
    message quoting a lone surrogate from a refused goal state is written escaped)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __call__(self, message: str) -> None:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8", errors="backslashreplace") as fh:
                fh.write(f"{utc_now()} [{os.getpid()}] {message}\n")


# ---------------------------------------------------------------------------------------------
# Registry of installed apps and the plan


def load_registry(layout: Layout) -> dict[str, dict[str, Any]]:
    if not layout.registry_file.exists():
        return {}
    data = read_json(layout.registry_file)
    return {entry["name"]: entry for entry in data.get("applications", [])}


def save_registry(layout: Layout, registry: dict[str, dict[str, Any]]) -> None:
    apps = [registry[name] for name in sorted(registry)]
    write_json(layout.registry_file, {"schemaVersion": SCHEMA_VERSION, "applications": apps},
               durable=True)


def installed_entry(entry: dict[str, Any] | None) -> dict[str, Any] | None:
    """The registry record of the version really on the VM (what a remove must undo), if any.

    An Installed entry is itself.  A Failed update that never removed the old version keeps the
    old record as ``previous``.  An app whose install failed, or whose remove failed, has none.
    """
    if entry is None or entry["state"] == "RemoveFailed":
        return None
    if entry["state"] == "Installed":
        return entry
    previous: dict[str, Any] | None = entry.get("previous")
    return previous


def new_op(operation: str | None, version: str, folder: str | None, command: str | None,
           owner: dict[str, Any] | None = None) -> dict[str, Any]:
    """One command of a step, as journalled (and, with output tails added, as in details).

    ``owner`` is the app version (goal-state app or registry entry) whose files are in
    ``folder``: the app folder's copies of the output must not take its package's name.
    """
    app_stdout, app_stderr = (app_output_path(folder, owner, name) for name in APP_OUTPUTS)
    return {"operation": operation, "version": version, "folder": folder, "command": command,
            "state": "pending", "outcome": None, "message": "", "exitCode": None,
            "timedOut": False, "attempts": 0, "bootId": None, "finishedBootId": None,
            "startedUTC": None, "finishedUTC": None, "interruptedByReboot": False,
            "rerun": False, "endedInReboot": False, "stdoutPath": None, "stderrPath": None,
            "appStdoutPath": app_stdout, "appStderrPath": app_stderr, "unsupported": False}


def started_marker(op: dict[str, Any]) -> Path:
    """The file the command creates as it starts, next to its output files."""
    return Path(op["stdoutPath"]).with_suffix(".started")


def app_output_path(folder: str | None, owner: dict[str, Any] | None, name: str) -> str | None:
    """Where the app folder's copy of a command's ``stdout``/``stderr`` goes (later docs: "each
    app's command output is kept as stdout/stderr files in its download folder"), or None when
    the app's package or config file has that name: a package is never overwritten by output.

    A default config name (``<app>_config``, ``<app>-config``) can never be ``stdout`` or
    ``stderr``, so the explicit names and the package name are all that can collide.
    """
    if folder is None or owner is None:
        return None
    taken = (package_file_name(owner), owner.get("configFileName"))
    return None if name in taken else str(Path(folder, name))


def new_step(name: str, version: str, action: str, *, spec: dict[str, Any] | None = None,
             entry: dict[str, Any] | None = None, installed: dict[str, Any] | None = None,
             folder: Path | None = None, ops: list[dict[str, Any]] | None = None
             ) -> dict[str, Any]:
    """One app's part of a goal state: install, update, remove, forget or unchanged."""
    source = spec or entry or {}
    return {"app": name, "version": version, "action": action, "inGoal": spec is not None,
            "order": source.get("order"),
            "treatFailure": bool(source.get("treatFailureAsDeploymentFailure")),
            "rebootBehavior": source.get("scriptBehaviorAfterReboot", "None"),
            "state": "pending", "failed": False, "result": None, "blockedBy": None,
            "finishedUTC": None, "spec": spec, "entry": entry, "installed": installed,
            "fromVersion": installed["version"] if installed else None,
            "restore": False, "folder": str(folder) if folder else None,
            "downloads": [], "ops": ops or []}


def _unchanged(step: dict[str, Any], result: str, failed: bool) -> dict[str, Any]:
    step.update(state="done", result=result, failed=failed)
    return step


def plan(goal: dict[str, Any], registry: dict[str, dict[str, Any]], layout: Layout
         ) -> list[dict[str, Any]]:
    """Compare the goal state with the registry; return the steps in execution order.

    Removals come first (highest recorded order first: later apps may depend on earlier ones),
    then ordered apps by ascending order (equal orders keep goal-state order), then unordered.
    """
    wanted = {app["name"]: app for app in goal["applications"]}
    removals = []
    for name, entry in registry.items():
        if name in wanted:
            continue
        step = new_step(name, entry["version"], "remove", entry=entry)
        current = installed_entry(entry)
        if entry["state"] == "RemoveFailed":  # not retried: same rule as a failed install
            removals.append(_unchanged(dict(step, action="unchanged"), entry["result"], True))
        elif current is None:  # its install failed: never run a remove written for an install
            removals.append(dict(step, action="forget"))
        else:
            step["ops"] = [new_op("remove", current["version"], current["folder"],
                                  current["remove"], current)]
            removals.append(step)
    removals.sort(key=lambda s: -s["order"] if s["order"] is not None else float("-inf"))
    apps = [_app_step(app, registry.get(app["name"]), layout) for app in goal["applications"]]
    ordered = sorted((s for s in apps if s["order"] is not None), key=lambda s: s["order"])
    return removals + ordered + [s for s in apps if s["order"] is None]


def _app_step(app: dict[str, Any], entry: dict[str, Any] | None, layout: Layout
              ) -> dict[str, Any]:
    name, version = app["name"], app["version"]
    folder = layout.version_dir(name, version)
    current = installed_entry(entry)
    if entry is not None and entry["version"] == version and entry["state"] != "RemoveFailed":
        # Installed: nothing to do.  Failed: the retry rule -- not rerun until removed and re-added.
        step = new_step(name, version, "unchanged", spec=app, entry=entry)
        return _unchanged(step, entry["result"], entry["state"] == "Failed")
    if current is not None and current["version"] == version:  # back to the pre-update version
        step = new_step(name, version, "unchanged", spec=app, entry=entry, installed=current)
        step["restore"] = True
        return _unchanged(step, current["result"], False)
    if current is None:
        ops = [new_op("install", version, str(folder), app["install"], app)]
        return new_step(name, version, "install", spec=app, entry=entry, folder=folder, ops=ops)
    if app["update"]:
        ops = [new_op("update", version, str(folder), app["update"], app)]
    else:  # no update command: the old version's remove, then the new version's install
        ops = [new_op("remove", current["version"], current["folder"], current["remove"], current),
               new_op("install", version, str(folder), app["install"], app)]
    return new_step(name, version, "update", spec=app, entry=entry, installed=current,
                    folder=folder, ops=ops)


def display_result(step: dict[str, Any]) -> str:
    """The result text for an app: final, or ``<Verb> PENDING`` / ``<Verb> RUNNING`` meanwhile."""
    if step["result"] is not None:
        return str(step["result"])
    running = any(op["state"] == "running" for op in step["ops"])
    return f"{VERBS[step['action']]} {'RUNNING' if running else 'PENDING'}"


def _started(step: dict[str, Any]) -> bool:
    return any(op["attempts"] > 0 or op["state"] != "pending" for op in step["ops"])


# ---------------------------------------------------------------------------------------------
# The agent


class Agent:
    """Converges the VM to goal states; owns the journal, registry, status and details files."""

    def __init__(self, layout: Layout, boot_id: str, log: Log,
                 executor: Executor | None = None) -> None:
        self.layout = layout
        self.boot_id = boot_id
        self.log = log
        self._executor = executor
        self.journal: dict[str, Any] = {}

    @property
    def steps(self) -> list[dict[str, Any]]:
        steps: list[dict[str, Any]] = self.journal["steps"]
        return steps

    @property
    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = self.journal["goalState"]["options"]
        return options

    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(self.options, self.layout.os)
        return self._executor

    # -- entry points ------------------------------------------------------------------------

    def apply(self, goal: dict[str, Any]) -> None:
        """Converge to ``goal``.  Re-sending the current sequence number is idempotent."""
        seq = goal["sequenceNumber"]
        pending = self._load_journal()
        if pending is not None and pending["sequenceNumber"] == seq:
            if pending["goalState"] != goal:
                raise AgentError(f"sequenceNumber {seq} was already applied with a different "
                                 "goal state; send a new sequence number")
            self.journal = pending
            if pending["state"] == "running":
                self._settle_interrupted()
                self._execute()
            return
        mrseq = read_mrseq(self.layout)
        if mrseq is not None and seq <= mrseq:
            raise AgentError(f"sequenceNumber {seq} is not newer than the most recent one "
                             f"({mrseq})")
        if pending is not None and pending["state"] == "running":
            self.log(f"goal state {pending['sequenceNumber']} is unfinished: finishing its started "
                     f"step, superseding the rest by {seq}")
            self.journal = pending
            self._settle_interrupted()
            self._execute(superseded_by=seq)
        self._start(goal)
        self._execute()

    def resume(self) -> bool:
        """Finish an interrupted goal state; return False when nothing was pending."""
        pending = self._load_journal()
        if pending is None or pending["state"] != "running":
            self.log("resume: nothing pending")
            return False
        self.journal = pending
        self.log(f"resume: continuing goal state {pending['sequenceNumber']}")
        self._settle_interrupted()
        self._execute()
        return True

    # -- planning and journal ----------------------------------------------------------------

    def _load_journal(self) -> dict[str, Any] | None:
        if not self.layout.journal_file.exists():
            return None
        journal: dict[str, Any] = read_json(self.layout.journal_file)
        return journal

    def _start(self, goal: dict[str, Any]) -> None:
        seq = goal["sequenceNumber"]
        write_json(self.layout.settings_file(seq), goal, durable=True)
        steps = plan(goal, load_registry(self.layout), self.layout)
        self.journal = {"schemaVersion": SCHEMA_VERSION, "sequenceNumber": seq,
                        "state": "running", "supersededBy": None, "startedUTC": utc_now(),
                        "finishedUTC": None, "bootId": self.boot_id, "goalState": goal,
                        "steps": steps}
        self.log(f"goal state {seq}: " + ", ".join(f"{s['action']} {s['app']} {s['version']}"
                                                  for s in steps))
        for step in steps:
            if step["action"] == "unchanged":
                self._finish_step(step)
        self._persist()
        # Last: had it come before the journal, a failed journal write (a full disk) would leave
        # a sequence number that refuses its own re-send ("not newer") with nothing to resume.
        write_text_atomic(self.layout.mrseq_file, str(seq), durable=True)

    def _persist(self) -> None:
        """Journal first (durable: reboot recovery reads it), then what a host polls."""
        write_json(self.layout.journal_file, self.journal, durable=True)
        seq = self.journal["sequenceNumber"]
        write_json(self.layout.status_file(seq), self.status_document())
        write_json(self.layout.details_file(seq), self.details_document())

    def _settle_interrupted(self) -> None:
        """Decide the fate of a command that was running when the agent stopped.

        No "started" marker -> the agent stopped (a power cut, a kill) after journalling the
        command but before it began: it never ran, so it runs now, whatever the boot.  Boot id
        changed -> a reboot interrupted it: ``Rerun`` runs it again; ``None`` records it as
        completed (it presumably asked for the reboot).  Same boot -> the agent itself died: the
        outcome is unknown, so it is recorded as failed and not rerun.
        """
        for step in self.steps:
            for op in step["ops"]:
                if op["state"] != "running":
                    continue
                if not started_marker(op).exists():
                    op.update(state="pending", attempts=op["attempts"] - 1)
                    self.log(f"{step['app']}: {op['operation']} was journalled but never "
                             "started; running it")
                    continue
                self._keep_output(op)
                if op["bootId"] != self.boot_id and step["rebootBehavior"] == "Rerun":
                    op.update(state="pending", interruptedByReboot=True, rerun=True)
                    self.log(f"{step['app']}: {op['operation']} interrupted by a reboot; rerunning")
                    continue
                if op["bootId"] != self.boot_id:
                    message = ("interrupted by a reboot (presumably one it requested); not rerun "
                               "because scriptBehaviorAfterReboot is None: recorded as completed")
                    op.update(outcome="SUCCESS", interruptedByReboot=True, endedInReboot=True)
                else:
                    message = (f"Error executing command '{op['command']}': the agent stopped "
                               "while it ran (no reboot detected); outcome unknown, not rerun")
                    op["outcome"] = "FAILED"
                op.update(state="done", message=message, finishedUTC=utc_now(),
                          finishedBootId=self.boot_id)
                self.log(f"{step['app']}: {op['operation']}: {message}")
        self._persist()

    # -- execution ---------------------------------------------------------------------------

    def _execute(self, superseded_by: int | None = None) -> None:
        """Run the pending steps in plan order, applying the seeds' order rules.

        A failed app with order N (including one still failed from an earlier goal state) keeps
        every app with a higher order from running.  Apps with the same order, unordered apps and
        removals are never held back.  With ``superseded_by``, steps not yet started are skipped.
        """
        failures: list[dict[str, Any]] = []
        for step in self.steps:
            if step["state"] == "pending":
                blockers = [f for f in failures
                            if step["order"] is not None and step["inGoal"]
                            and f["order"] < step["order"]]
                if blockers:
                    self._skip(step, "not attempted because " + " and ".join(
                        f"'{f['app']}' (order {f['order']})" for f in blockers) + " failed",
                        [f["app"] for f in blockers])
                elif superseded_by is not None and not _started(step):
                    self._skip(step, f"superseded by goal state {superseded_by} before it started")
                else:
                    self._run_step(step)
            if step["inGoal"] and step["order"] is not None and step["failed"]:
                failures.append(step)
        self.journal.update(state="complete" if superseded_by is None else "superseded",
                            supersededBy=superseded_by, finishedUTC=utc_now())
        self._persist()
        self.log(f"goal state {self.journal['sequenceNumber']}: {self.overall()[0]}")

    def _skip(self, step: dict[str, Any], reason: str, blocked_by: list[str] | None = None) -> None:
        step.update(state="skipped", result=f"{VERBS[step['action']]} SKIPPED: {reason}",
                    blockedBy=blocked_by, finishedUTC=utc_now())
        self.log(f"{step['app']} {step['version']}: {step['result']}")
        self._persist()

    def _run_step(self, step: dict[str, Any]) -> None:
        """Download the new version (before anything is removed), then run the step's commands."""
        ops = step["ops"]
        needs_files = [op for op in ops if op["state"] == "pending" and op["operation"] != "remove"]
        if step["spec"] is not None and needs_files:
            self._check_stopping()
            try:
                self._download(step)
            except DownloadError as exc:
                needs_files[0].update(state="done", outcome="FAILED", message=str(exc),
                                      finishedUTC=utc_now(), finishedBootId=self.boot_id)
        for op in ops:
            if any(o["outcome"] == "FAILED" for o in ops):
                break
            if op["state"] == "pending":
                self._run_op(step, op)
        failed = next((op for op in ops if op["outcome"] == "FAILED"), None)
        verb = VERBS[step["action"]]
        step.update(state="done", failed=failed is not None, finishedUTC=utc_now(),
                    result=f"{verb} FAILED {failed['message']}" if failed else f"{verb} SUCCESS")
        self._finish_step(step)
        self._persist()
        self.log(f"{step['app']} {step['version']}: {step['result']}")

    def _download(self, step: dict[str, Any]) -> None:
        spec, folder = step["spec"], Path(step["folder"])
        folder.mkdir(parents=True, exist_ok=True)
        items = [("package", spec["packageUrl"], package_file_name(spec))]
        if spec["configUrl"]:
            naming = self.options["configNaming"]
            items.append(("config", spec["configUrl"], config_file_name(spec, naming)))
        step["downloads"] = []
        for kind, url, name in items:
            record: dict[str, Any] = {"kind": kind, "url": redact_url(url),
                                      "path": str(folder / name), "bytes": None, "error": None,
                                      "retries": 0}
            step["downloads"].append(record)
            try:
                record["bytes"] = download(url, folder / name,
                                           float(self.options["downloadRetrySeconds"]),
                                           self._retrying(step["app"], record))
            except DownloadError as exc:
                record["error"] = str(exc)
                raise DownloadError(f"Error downloading {kind} from '{redact_url(url)}': "
                                    f"{exc}") from exc
            self.log(f"{step['app']}: downloaded {kind} to {folder / name} ({record['bytes']} B)")

    def _retrying(self, app: str, record: dict[str, Any]) -> Callable[[int, str], None]:
        """Counts a download's retries in its record (the details file) and logs each one."""

        def retrying(attempt: int, problem: str) -> None:
            record["retries"] = attempt
            self.log(f"{app}: {record['kind']} download attempt {attempt} failed ({problem}); "
                     "retrying")

        return retrying

    def _run_op(self, step: dict[str, Any], op: dict[str, Any]) -> None:
        """Run one command, journalling before it starts and after it ends."""
        self._check_stopping()
        folder = Path(op["folder"])
        folder.mkdir(parents=True, exist_ok=True)
        out_dir = self.layout.outputs_dir(self.journal["sequenceNumber"])
        out_dir.mkdir(parents=True, exist_ok=True)
        op["attempts"] += 1
        base = out_dir / f"{step['app']}_{op['version']}_{op['operation']}_{op['attempts']}"
        op.update(state="running", bootId=self.boot_id, startedUTC=utc_now(),
                  stdoutPath=f"{base}.stdout", stderrPath=f"{base}.stderr")
        self._persist()
        self.log(f"{step['app']}: running {op['operation']} (attempt {op['attempts']}) "
                 f"in {folder}: {op['command']}")
        timeout = float(self.options["commandTimeoutSeconds"])
        result = self.executor.run(op["command"], folder, Path(op["stdoutPath"]),
                                   Path(op["stderrPath"]), timeout, started_marker(op))
        killed = result.exit_code is not None and result.exit_code < 0
        if (killed or result.interrupted) and system_stopping(self.layout):
            raise Interrupted(f"{step['app']}: {op['operation']} was killed by the shutdown")
        self._keep_output(op)
        failure = command_failure(op["command"], result, timeout)
        op.update(state="done", outcome="FAILED" if failure else "SUCCESS", message=failure or "",
                  exitCode=result.exit_code, timedOut=result.timed_out, finishedUTC=utc_now(),
                  finishedBootId=self.boot_id, unsupported=bool(result.unsupported))
        self._persist()

    def _keep_output(self, op: dict[str, Any]) -> None:
        """Copy this operation's output files to the app folder's ``stdout``/``stderr``.

        The command writes to its own files under ``outputs/<seq>/``, never into the app folder,
        where a package may be called ``stdout``; the copies are made once it has ended.
        """
        for source, copy in (("stdoutPath", "appStdoutPath"), ("stderrPath", "appStderrPath")):
            if op[source] and op[copy] and Path(op[copy]).parent.is_dir():
                with contextlib.suppress(OSError):
                    shutil.copyfile(op[source], op[copy])

    def _check_stopping(self) -> None:
        if system_stopping(self.layout):
            raise Interrupted("the system is shutting down; resume will continue after the boot")

    def _finish_step(self, step: dict[str, Any]) -> None:
        """Make the registry and download folders match what the step did (idempotent)."""
        registry = load_registry(self.layout)
        name, action = step["app"], step["action"]
        if action in ("install", "update"):
            if step["failed"]:
                removed_old = any(op["operation"] == "remove" and op["outcome"] == "SUCCESS"
                                  for op in step["ops"])
                previous = None if removed_old else step["installed"]
                registry[name] = self._entry(step, "Failed", previous)
            else:
                registry[name] = self._entry(step, "Installed", None)
                for other in self.layout.app_dir(name).iterdir():
                    if other.name != step["version"]:  # only one version on the VM at a time
                        shutil.rmtree(other, ignore_errors=True)
        elif action in ("remove", "forget") and step["failed"]:
            registry[name] = dict(step["entry"], state="RemoveFailed", result=step["result"],
                                  updatedUTC=utc_now())
        elif action in ("remove", "forget"):
            registry.pop(name, None)
            shutil.rmtree(self.layout.app_dir(name), ignore_errors=True)
        elif step["restore"]:
            registry[name] = step["installed"]
        save_registry(self.layout, registry)

    def _entry(self, step: dict[str, Any], state: str, previous: dict[str, Any] | None
               ) -> dict[str, Any]:
        spec = step["spec"]
        keep = ("packageReferenceId", "order", "install", "remove", "update", "packageFileName",
                "configFileName", "treatFailureAsDeploymentFailure", "scriptBehaviorAfterReboot")
        entry = {"name": spec["name"], "version": spec["version"], "state": state,
                 "result": step["result"]}
        entry.update({key: spec[key] for key in keep})
        entry.update(folder=step["folder"], sequenceNumber=self.journal["sequenceNumber"],
                     updatedUTC=utc_now(), previous=previous)
        return entry

    # -- status and details ------------------------------------------------------------------

    def overall(self) -> tuple[str, int, str]:
        """(status, code, message prefix).  Apps failing is data, not an extension failure,
        unless a failed (or blocked) app has treatFailureAsDeploymentFailure."""
        if self.journal["state"] == "running":
            return "transitioning", 0, "Enable in progress"
        if any(s["inGoal"] and s["treatFailure"] and (s["failed"] or s["blockedBy"])
               for s in self.steps):
            return "error", 1, "Enable failed"
        return "success", 0, "Enable succeeded"

    def status_document(self) -> list[dict[str, Any]]:
        """The handler-status file, shaped like the real extension's."""
        current, actions = [], []
        for step in self.steps:
            item = {"applicationName": step["app"], "version": step["version"],
                    "result": display_result(step)}
            gone = step["action"] in ("remove", "forget") and step["state"] == "done"
            if not (gone and not step["failed"]):
                current.append(item)
            if step["action"] != "unchanged" and step["state"] == "done":
                actions.append(item)
        status, code, prefix = self.overall()
        payload = json.dumps({"CurrentState": current, "ActionsPerformed": actions},
                             separators=(",", ":"))
        name = WINDOWS_EXTENSION if self.layout.is_windows else LINUX_EXTENSION
        return [{"version": 1.0, "timestampUTC": utc_now()[:19] + "Z",
                 "status": {"name": name, "operation": "Enable", "status": status, "code": code,
                            "formattedMessage": {"lang": "en-US",
                                                 "message": f"{prefix}: {payload}"}}}]

    def details_document(self) -> dict[str, Any]:
        """Machine-readable record of every operation of this goal state (docs/agent.md)."""
        j = self.journal
        return {"schemaVersion": SCHEMA_VERSION, "agentVersion": AGENT_VERSION,
                "sequenceNumber": j["sequenceNumber"], "os": self.layout.os,
                "status": self.overall()[0], "supersededBy": j["supersededBy"],
                "startedUTC": j["startedUTC"], "finishedUTC": j["finishedUTC"],
                "bootId": self.boot_id,
                "operations": [rec for step in self.steps for rec in operation_records(step)]}


def operation_records(step: dict[str, Any]) -> list[dict[str, Any]]:
    """Details records of one step: one per command, or one for a step without commands."""
    base = {"app": step["app"], "appVersion": step["version"], "order": step["order"],
            "action": step["action"], "fromVersion": step["fromVersion"],
            "appResult": display_result(step),
            "blockedBy": step["blockedBy"], "treatFailureAsDeploymentFailure": step["treatFailure"],
            "scriptBehaviorAfterReboot": step["rebootBehavior"], "downloads": step["downloads"]}
    if not step["ops"]:
        op = new_op(None, step["version"], None, None)
        op["outcome"] = "UNCHANGED" if step["action"] == "unchanged" else "SUCCESS"
        ops = [op]
    else:
        ops = step["ops"]
    records = []
    for op in ops:
        record = dict(base)
        record.update({key: value for key, value in op.items() if key not in ("state", "outcome")})
        if op["outcome"]:
            record["result"] = op["outcome"]
        elif op["state"] == "running":
            record["result"] = "RUNNING"
        else:  # not run: the step is still pending, or it was skipped / stopped by a failure
            record["result"] = "PENDING" if step["state"] == "pending" else "SKIPPED"
        record["stdout"] = tail_text(op["stdoutPath"])  # details are rewritten when it ends
        record["stderr"] = tail_text(op["stderrPath"])
        records.append(record)
    return records


def read_mrseq(layout: Layout) -> int | None:
    try:
        return int(layout.mrseq_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def read_status(layout: Layout, seq: int | None) -> str:
    if seq is None:
        seq = read_mrseq(layout)
        if seq is None:
            raise AgentError(f"no goal state has been applied yet (no {layout.mrseq_file})")
    try:
        return layout.status_file(seq).read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentError(f"no status for sequence number {seq}: {exc}") from exc


def capabilities(layout: Layout) -> dict[str, Any]:
    names = WINDOWS_INTERPRETERS if layout.is_windows else LINUX_INTERPRETERS
    return {
        "agent": "vmapp_agent", "agentVersion": AGENT_VERSION, "os": layout.os,
        "extension": WINDOWS_EXTENSION if layout.is_windows else LINUX_EXTENSION,
        "extensionVersion": EXTENSION_VERSION, "python": platform.python_version(),
        "interpreters": [{"name": n, "available": shutil.which(n) is not None} for n in names],
        "defaultInterpreter": names[0],
        "commands": ["apply", "resume", "status", "capabilities"],
        "goalState": {"fields": list(TOP_FIELDS), "options": list(OPTION_FIELDS),
                      "applicationFields": list(APP_FIELDS)},
        "configNaming": list(CONFIG_NAMINGS), "scriptBehaviorAfterReboot": list(REBOOT_BEHAVIORS),
        "detailsSchemaVersion": SCHEMA_VERSION,
        "defaultCommandTimeoutSeconds": DEFAULT_COMMAND_TIMEOUT,
    }


# ---------------------------------------------------------------------------------------------
# Resume at boot


def resume_task_argv(python: str, script: Path) -> list[str]:
    """The ``schtasks`` command that runs ``resume`` at every start, as SYSTEM (Windows)."""
    action = f'"{python}" "{script}" --os windows resume'
    return ["schtasks", "/create", "/tn", RESUME_TASK, "/sc", "onstart", "/ru", "SYSTEM",
            "/rl", "HIGHEST", "/f", "/tr", action]


def resume_unit_text(python: str, script: Path, args: str = "--os linux") -> str:
    """The systemd unit that runs ``resume`` at boot.

    Type=simple so boot does not wait for long installs; KillMode=process so daemons an install
    started survive the agent's exit.
    """
    return ("[Unit]\n"
            "Description=Finish an interrupted VM application goal state (vmapp-harness agent)\n"
            "Wants=network-online.target\nAfter=network-online.target\n\n"
            "[Service]\nType=simple\nKillMode=process\n"
            f"ExecStart={python} {script} {args} resume\n\n"
            "[Install]\nWantedBy=multi-user.target\n")


def ensure_resume_at_boot(layout: Layout, log: Log, args: str = "--os linux") -> None:
    """Make the OS run ``resume`` at every boot (only on a real root; cheap once done).

    The agent first copies itself into the extension folder: the pushed copy may be in /tmp,
    which a reboot empties.  Failure is logged, not fatal: without it only reboots are at risk.
    """
    if not layout.is_real:
        return
    try:
        script = layout.bin_dir / "vmapp_agent.py"
        source = Path(__file__).resolve()
        if source != script.resolve():
            script.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, script)
        if layout.is_windows and sys.platform == "win32":
            subprocess.run(resume_task_argv(sys.executable, script), capture_output=True,
                           timeout=120, check=True)
            log(f"installed the scheduled task {RESUME_TASK}")
        elif layout.linux_host and Path("/run/systemd/system").is_dir():
            unit = Path("/etc/systemd/system") / RESUME_UNIT
            text = resume_unit_text(sys.executable, script, args)
            if not unit.exists() or unit.read_text(encoding="utf-8") != text:
                write_text_atomic(unit, text, durable=True)
                for verb in (["daemon-reload"], ["enable", RESUME_UNIT]):
                    subprocess.run(["systemctl", *verb], capture_output=True, timeout=120,
                                   check=True)
                log(f"installed and enabled {unit}")
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"WARNING: could not install the resume-at-boot hook: {exc}")


# ---------------------------------------------------------------------------------------------
# Command line


def _seconds(text: str) -> float:
    """A finite number of seconds >= 0 (``nan`` would never reach its deadline)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds >= 0: {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vmapp_agent.py", description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=None, help="map every absolute path under DIR (tests)")
    parser.add_argument("--os", choices=("linux", "windows"),
                        default="windows" if sys.platform == "win32" else "linux")
    parser.add_argument("--wine-standin", default=None, metavar="CONFIG",
                        help="the wine stand-in's JSON config (prefix, launcher, env, refusals)")
    parser.add_argument("--boot-id-file", default=None,
                        help="file holding the boot id (default: the OS's own boot id)")
    parser.add_argument("--lock-wait", type=_seconds, default=600.0,
                        help="seconds to wait for another agent run to finish (default 600)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    sub.add_parser("apply", help="converge to a goal state").add_argument("goal_state")
    sub.add_parser("resume", help="finish a goal state interrupted by a reboot")
    sub.add_parser("status", help="print a status file").add_argument("--seq", type=int)
    sub.add_parser("capabilities", help="print what this agent supports")
    return parser


def load_standin(args: argparse.Namespace) -> dict[str, Any] | None:
    """The wine stand-in's config (``--wine-standin``), or None on a real machine."""
    if args.wine_standin is None:
        return None
    if args.os != "windows":
        raise AgentError("--wine-standin is the Windows stand-in: it needs --os windows")
    try:
        config = read_json(Path(args.wine_standin))
    except (OSError, ValueError) as exc:
        raise AgentError(f"cannot read the wine stand-in config {args.wine_standin}: {exc}"
                         ) from exc
    keys = ["prefix", "launcher", "env", "refusal"]
    missing = [key for key in keys if key not in config] if isinstance(config, dict) else keys
    if missing:
        raise AgentError(f"the wine stand-in config {args.wine_standin} lacks "
                         f"{', '.join(missing)}")
    return dict(config)


def _converge(args: argparse.Namespace, layout: Layout, log: Log,
              standin: dict[str, Any] | None) -> int:
    goal = load_goal_state(args.goal_state, args.os) if args.command == "apply" else None
    signal.signal(signal.SIGTERM, lambda *_: setattr(_Stop, "requested", True))
    if hasattr(signal, "SIGHUP"):  # a dropped SSH session must not kill a running apply
        signal.signal(signal.SIGHUP, lambda *_: None)
    boot_id = read_boot_id(args.boot_id_file)
    lock = AgentLock(layout.lock_file)
    lock.acquire(args.lock_wait, f"pid {os.getpid()}, {args.command}, boot {boot_id}, "
                                 f"since {utc_now()}", log)
    try:
        agent = Agent(layout, boot_id, log,
                      executor=WineExecutor(standin, layout) if standin else None)
        if goal is not None:
            ensure_resume_at_boot(layout, log, f"--os {args.os}" + (
                f" --wine-standin {args.wine_standin}" if standin else ""))
            agent.apply(goal)
        elif not agent.resume():
            return EXIT_OK
        seq = agent.journal["sequenceNumber"]
    finally:
        lock.release()
    with contextlib.suppress(OSError):
        sys.stdout.write(read_status(layout, seq))
    return EXIT_OK


def _error(text: str) -> None:
    """One line on stderr; a lone surrogate quoted from the goal state is escaped, not fatal."""
    line = "vmapp_agent: " + " ".join(text.split()) + "\n"
    with contextlib.suppress(OSError):
        sys.stderr.write(line.encode("utf-8", "backslashreplace").decode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        standin = load_standin(args)
    except AgentError as exc:
        _error(f"error: {exc}")
        return EXIT_ERROR
    layout = Layout(args.os, args.root, standin["prefix"] if standin else None)
    log = Log(layout.log_file)
    try:
        if args.command == "capabilities":
            sys.stdout.write(json.dumps(capabilities(layout), indent=2) + "\n")
            return EXIT_OK
        if args.command == "status":
            sys.stdout.write(read_status(layout, args.seq))
            return EXIT_OK
        return _converge(args, layout, log, standin)
    except AgentError as exc:
        log(f"ERROR: {exc}")
        _error(f"error: {exc}")
        return EXIT_ERROR
    except Interrupted as exc:
        log(f"interrupted: {exc}")
        _error(f"interrupted: {exc}")
        return EXIT_INTERRUPTED
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in LOCAL_WRITE_ERRORS:
            # The disk filled up under the agent: each of its files was replaced whole or not at
            # all, so a re-send or ``resume`` continues once there is room again.
            log(f"ERROR: {exc}")
            _error(f"error: cannot write its files: {exc}")
            return EXIT_ERROR
        log("INTERNAL ERROR\n" + traceback.format_exc())
        _error(f"internal error: {type(exc).__name__}: {exc} (traceback in {layout.log_file})")
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())

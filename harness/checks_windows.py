"""Scenario checks on a Windows guest, as cmd.exe and reg.exe commands over a :class:`Channel`.

testinfra has no Windows backend, so these go through the channel's ``run`` (WinRM, OpenSSH or
the wine stand-in alike) and give :class:`~harness.checks.CheckResult` rows like the Linux
checks, one per asserted property:

* ``file``: a Windows path; ``exists``, ``is_directory``, ``contains`` (``mode`` and ``owner``
  have no meaning there and fail saying so).
* ``registry``: a key such as ``HKLM\\Software\\Vendor\\App``; ``exists``, and ``value`` (a value
  name, ``""`` for the default value) with ``data`` (DWORD and QWORD data compared in decimal).
* ``product``: a DisplayName among the per-machine Uninstall keys (64- and 32-bit views);
  ``installed``, ``version`` (its DisplayVersion, exactly).
* ``command``: run through ``cmd.exe /c``; ``exit_code``, ``stdout_contains``, ``stderr_contains``.
"""

from __future__ import annotations

import re

from harness.checks import CheckResult, _compare
from harness.errors import HarnessError
from harness.ports import Channel
from harness.scenario.model import Check

UNINSTALL_KEYS = (
    "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "HKLM\\Software\\Wow6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall",
)
# reg query prints "    <name>    <type>    <data>" under each "HKEY_..." key line.
VALUE_LINE = re.compile(r"^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$")
NUMBERS = ("REG_DWORD", "REG_QWORD")
WINDOWS_KINDS = ("file", "command", "registry", "product")


def reg_values(output: str) -> dict[str, dict[str, str]]:
    """``reg query`` output as {key: {value name: data}}; numbers in decimal."""
    keys: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith("HKEY_"):
            current = keys.setdefault(line.strip(), {})
        elif (found := VALUE_LINE.match(line.rstrip("\r"))) is not None:
            name, kind, data = found.group(1), found.group(2), (found.group(3) or "").rstrip()
            current[name] = str(int(data, 16)) if kind in NUMBERS else data
    return keys


def _text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    return data.decode("utf-8-sig", errors="replace")


def _file(channel: Channel, check: Check, out: list[CheckResult]) -> None:
    path, want = check.target, check.wanted
    found = channel.run(f'if exist "{path}\\*" (echo directory) else if exist "{path}" '
                        f"(echo file) else (echo absent)").text.strip()
    _compare(out, check, "exists", found != "absent", want.get("exists", True))
    if found == "absent":
        return
    if "is_directory" in want:
        _compare(out, check, "is_directory", found == "directory")
    for key in ("mode", "owner"):
        if key in want:
            out.append(CheckResult(check, False, f"{key} = {want[key]!r}",
                                   f"{key} has no meaning on a Windows guest"))
    if "contains" in want:
        shown = channel.run(f'type "{path}"')
        if shown.exit_code != 0:
            raise OSError(f"type exited {shown.exit_code}: {shown.error_text.strip()}")
        _compare(out, check, "contains", _text(shown.stdout), contains=True)


def _registry(channel: Channel, check: Check, out: list[CheckResult]) -> None:
    want = check.wanted
    key = channel.run(f'reg query "{check.target}"')
    _compare(out, check, "exists", key.exit_code == 0, want.get("exists", True))
    if key.exit_code != 0 or "value" not in want:
        return
    name = want["value"]
    which = f'/v "{name}"' if name else "/ve"
    values = reg_values(channel.run(f'reg query "{check.target}" {which}').text)
    data = next(iter(values.values()), {}).get(name or "(Default)")
    label = f"value {name or '(Default)'}"
    if "data" not in want:
        _compare(out, check, label, data is not None, True)
    else:
        _compare(out, check, label, data, str(want["data"]))


def installed_products(channel: Channel) -> dict[str, str]:
    """DisplayName -> DisplayVersion of every per-machine product (both registry views)."""
    products: dict[str, str] = {}
    for root in UNINSTALL_KEYS:
        listed = channel.run(f'reg query "{root}" /s')
        if listed.exit_code != 0:  # no 32-bit view, or an empty one
            continue
        for values in reg_values(listed.text).values():
            if "DisplayName" in values:
                products[values["DisplayName"]] = values.get("DisplayVersion", "")
    return products


def _product(channel: Channel, check: Check, out: list[CheckResult]) -> None:
    products = installed_products(channel)
    installed = check.target in products
    _compare(out, check, "installed", installed, check.wanted.get("installed", True))
    if installed and "version" in check.wanted:
        _compare(out, check, "version", products[check.target], str(check.wanted["version"]))


def _command(channel: Channel, check: Check, out: list[CheckResult]) -> None:
    done = channel.run(check.target)
    _compare(out, check, "exit_code", done.exit_code, check.wanted.get("exit_code", 0))
    if "stdout_contains" in check.wanted:
        _compare(out, check, "stdout_contains", done.text, contains=True)
    if "stderr_contains" in check.wanted:
        _compare(out, check, "stderr_contains", done.error_text, contains=True)


CHECKERS = {"file": _file, "registry": _registry, "product": _product, "command": _command}


def run_windows_check(channel: Channel, check: Check) -> list[CheckResult]:
    """Evaluate one check on a Windows guest; one result per asserted property.  A kind with no
    Windows meaning (package, service, user), or a check that cannot be evaluated, is a failed
    check saying why; a guest that went away stays an infrastructure error."""
    wanted = ", ".join(f"{k} = {v!r}" for k, v in check.wanted.items()) or "evaluated"
    checker = CHECKERS.get(check.kind)
    if checker is None:
        return [CheckResult(check, False, wanted, f"{check.kind} checks need a Linux guest; "
                            f"a Windows guest has {', '.join(WINDOWS_KINDS)}")]
    out: list[CheckResult] = []
    try:
        checker(channel, check, out)
    except HarnessError:
        raise
    except Exception as exc:  # unreadable output, a file that is not text...
        return [CheckResult(check, False, wanted,
                            f"could not evaluate: {type(exc).__name__}: {exc}")]
    return out

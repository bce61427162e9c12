"""What the wine stand-in cannot run faithfully: such a command gets "unsupported on stand-in".

Each rule is a false pass or a false failure reproduced under wine (docs/windows.md): a command
that matches one is never run there and never reported as a pass.  The rules are deliberately
coarse (a mention of ``powershell`` anywhere refuses the command): refusing a command that
would have worked costs a cell; passing one that did nothing costs the truth.
"""

from __future__ import annotations

import re
import struct

PREFIX = "unsupported on stand-in: "
_WORD_START = r"(?:^|[\s&|(\"'\\/])"
RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason) for pattern, reason in (
        (_WORD_START + r"(?:powershell|pwsh)(?:\.exe)?\b",
         "PowerShell (wine's powershell.exe is a stub that exits 0 and does nothing)"),
        (_WORD_START + r"shutdown(?:\.exe)?\b",
         "shutdown/restart (wine's shutdown does nothing: there is no machine to restart)"),
        (r"/forcerestart\b",
         "msiexec /forcerestart (wine's msiexec reads it as a repair switch and fails)"),
        (_WORD_START + r"sc(?:\.exe)?\s+(?:\\\\\S+\s+)?(?:start|stop|create|delete|config|"
         r"pause|continue|failure|description|query|queryex|qc)\b",
         "services (sc.exe: the stand-in has no service control manager worth the name)"),
        (_WORD_START + r"net1?(?:\.exe)?\s+(?:start|stop|pause|continue)\b",
         "services (net start/stop: the stand-in has no service control manager worth the "
         "name)"),
    ))
MACHINES = {0x14C: "32-bit x86", 0x8664: "64-bit x64", 0xAA64: "ARM64", 0x1C4: "ARM"}
SUPPORTED_MACHINE = 0x8664


def pe_machine(data: bytes) -> int | None:
    """The COFF machine field of a PE file (0x8664 x64, 0x14c x86), None when not a PE."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return None
    offset = struct.unpack_from("<I", data, 0x3C)[0]
    if len(data) < offset + 6 or data[offset:offset + 4] != b"PE\0\0":
        return None
    return int(struct.unpack_from("<H", data, offset + 4)[0])


def refusal(command: str, package: bytes | None = None) -> str | None:
    """"unsupported on stand-in: <reasons>" for a command (and the package it was downloaded
    with) that wine cannot run faithfully; None when it can."""
    reasons = [reason for pattern, reason in RULES if pattern.search(command)]
    machine = pe_machine(package) if package is not None else None
    if machine is not None and machine != SUPPORTED_MACHINE:
        kind = MACHINES.get(machine, f"machine 0x{machine:04x}")
        reasons.append(f"{kind} installer (the stand-in runs 64-bit programs only; wine64 "
                       "without wine32 exits 0 from a 32-bit installer and installs nothing)")
    return PREFIX + "; ".join(reasons) if reasons else None

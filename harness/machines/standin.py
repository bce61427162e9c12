"""What the wine stand-in cannot run faithfully: such a command gets "unsupported on stand-in".

Each rule is a false pass or a false failure reproduced under wine (docs/windows.md): a command
that matches one is never run there and never reported as a pass.  The rules are deliberately
coarse (a mention of ``powershell`` anywhere refuses the command): refusing a command that
would have worked costs a cell; passing one that did nothing costs the truth.

The agent applies them, right before it would run a command (it alone knows which commands run
and what lies in their folder): :func:`refusal_rules` is what the stand-in guest hands it, and
``standin_refusal`` in harness/agent/vmapp_agent.py is the one implementation.
"""

from __future__ import annotations

from typing import Any

PREFIX = "unsupported on stand-in: "
_WORD_START = r"(?:^|[\s&|(\"'\\/])"
RULES: tuple[tuple[str, str], ...] = (  # (pattern, matched ignoring case; reason)
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
     "services (net start/stop: the stand-in has no service control manager worth the name)"),
    (r"%errorlevel%",
     "%errorlevel% in a one-line command (Windows' cmd.exe expands it when it reads the line, "
     "before any of its commands run; wine's expands it later, so the outcomes differ: use "
     "`if errorlevel N`)"),
)
MACHINES = {0x14C: "32-bit x86", 0x8664: "64-bit x64", 0xAA64: "ARM64", 0x1C4: "ARM"}
SUPPORTED_MACHINE = 0x8664
MACHINE_REASON = ("{kind} installer (the stand-in runs 64-bit programs only; wine64 without "
                  "wine32 exits 0 from a 32-bit installer and installs nothing)")


def refusal_rules() -> dict[str, Any]:
    """The rules as the agent reads them (JSON): a program in a command's folder whose PE
    machine is not x64 refuses the command too (read from the downloaded bytes)."""
    return {"prefix": PREFIX, "commands": [list(rule) for rule in RULES],
            "supportedMachine": SUPPORTED_MACHINE,
            "machines": {str(number): name for number, name in MACHINES.items()},
            "machineReason": MACHINE_REASON}

"""Secrets out of everything a report carries: SAS signatures and storage account keys.

A report folder is meant to be shared (CI artifacts, bug reports), so whatever it holds goes
through :func:`write_redacted` (results.json, junit.xml, index.html), :func:`redact_bytes` (the
agent log) or :func:`redact_tar_gz` (the guest's files) on the way in.
"""

from __future__ import annotations

import io
import os
import re
import tarfile
import zlib
from pathlib import Path

REDACTED = "REDACTED"
# A SAS signature, raw or URL-encoded (``sig=`` / ``sig%3D``), up to the next URL or markup
# delimiter: the value is base64, possibly percent-encoded.
_SIG = re.compile(r"(?i)((?<![a-z])sig(?:=|%3D))[A-Za-z0-9%+/=_.~-]+")
# A connection string's key.
_ACCOUNT_KEY = re.compile(r"(?i)((?<![a-z])AccountKey=)[^;\s\"'<>&]+")
# A bare storage account key: 64 bytes in base64 (Azure's and Azurite's well-known dev key).
_BARE_KEY = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")


def redact_text(text: str) -> str:
    """``text`` with SAS signatures and account keys replaced by ``REDACTED``."""
    text = _SIG.sub(rf"\g<1>{REDACTED}", text)
    text = _ACCOUNT_KEY.sub(rf"\g<1>{REDACTED}", text)
    return _BARE_KEY.sub(REDACTED, text)


def write_redacted(path: Path, text: str) -> Path:
    """Write a report file: redacted, any string encodable (a lone surrogate from a scenario
    file becomes ``\\udc80``), and whole or not at all (a run killed mid-write keeps the
    previous version, never an empty file)."""
    data = redact_text(text).encode("utf-8", "backslashreplace")
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def redact_bytes(data: bytes) -> bytes:
    """Text as bytes, redacted; bytes that are not UTF-8 pass through unchanged."""
    return redact_text(data.decode("utf-8", "surrogateescape")).encode("utf-8",
                                                                         "surrogateescape")


def redact_tar_gz(archive: bytes) -> bytes:
    """The .tar.gz ``archive`` with every text member redacted; binary members unchanged.

    A cut or corrupt archive keeps the members read before the damage: what cannot be read
    cannot be redacted, so it is not passed on.  Empty input stays empty.
    """
    if not archive:
        return archive
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as target:  # as tar -z
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source:
                for member in source:
                    data = source.extractfile(member) if member.isfile() else None
                    if data is None:
                        target.addfile(member)
                        continue
                    content = data.read()
                    if b"\0" not in content:  # text (binary files hold NUL bytes)
                        content = redact_bytes(content)
                    member.size = len(content)
                    target.addfile(member, io.BytesIO(content))
        except (tarfile.TarError, OSError, EOFError, zlib.error):
            pass  # the members before the damage are in ``target``
    return out.getvalue()

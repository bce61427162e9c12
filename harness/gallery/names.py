"""Names the service accepts: version numbers, resource names, region names, dates.

Kept apart from the rules so that scenarios can check a name without building a gallery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

INT32_MAX = 2_147_483_647

# Every pattern is matched whole (fullmatch: ``$`` would let a trailing newline through) and
# names ASCII digits ([0-9]: ``\d`` takes any script's digits, which the service does not).
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")
# Seeds (how-to REST table): <= 117 characters of letters, digits, '-', '.', '_'; no final '.'
_APPLICATION = re.compile(r"[A-Za-z0-9._-]{1,117}")
# Real service (beyond the seeds): galleries allow '.' and '_' only inside, no '-', <= 80.
_GALLERY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._]{0,78}[A-Za-z0-9])?")
# Real service: image definitions like applications but at most 80 characters.
_IMAGE = re.compile(r"[A-Za-z0-9._-]{1,80}")
APPLICATION_RULE = "1 to 117 letters, digits, '-', '.' and '_', not ending in '.'"
# Storage (beyond the seeds): containers are 3 to 63 of a-z, 0-9 and single '-' inside; blob
# names 1 to 1024 characters, at most 254 '/'-separated segments.  Control characters are
# refused too (the storage answers them with an error, not a blob).
_CONTAINER = re.compile(r"[a-z0-9](?:-?[a-z0-9])*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, order=True)
class VersionNumber:
    """``Major.Minor.Patch``; ordering is the service's "latest" ordering."""

    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def parse_version(text: str) -> VersionNumber | None:
    """The number, or None when ``text`` is not three int32 parts (0..2,147,483,647)."""
    match = _VERSION.fullmatch(text)
    if not match:
        return None
    parts = [int(p) for p in match.groups()]
    if any(p > INT32_MAX for p in parts):
        return None
    return VersionNumber(*parts)


def valid_application_name(name: str) -> bool:
    return bool(_APPLICATION.fullmatch(name)) and not name.endswith(".")


def valid_image_name(name: str) -> bool:
    return bool(_IMAGE.fullmatch(name)) and not name.endswith(".")


def valid_gallery_name(name: str) -> bool:
    return bool(_GALLERY.fullmatch(name))


def container_problem(name: str) -> str | None:
    """Why storage refuses ``name`` as a container name, or None."""
    if not 3 <= len(name) <= 63 or not _CONTAINER.fullmatch(name):
        return (f"container {name!r} is not 3 to 63 lowercase letters, digits and single "
                "hyphens (starting and ending with a letter or digit)")
    return None


def blob_name_problem(name: str) -> str | None:
    """Why storage refuses ``name`` as a blob name, or None."""
    if not 1 <= len(name) <= 1024:
        return f"blob name of {len(name)} characters (1 to 1024)"
    if name.count("/") >= 254:
        return "blob name of more than 254 '/'-separated segments"
    if _CONTROL.search(name):
        return f"blob name {name!r} holds a control character"
    return None


def region_key(name: str) -> str:
    """ARM's normalised location: "East US" and "eastus" are the same region."""
    return name.replace(" ", "").lower()


def parse_datetime(text: str) -> datetime | None:
    """ISO 8601 date or date-time (``Z`` or offset; naive means UTC), as ARM accepts them."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_datetime(value: datetime) -> str:
    """ARM's rendering of a date-time: ``2020-01-01T00:00:00+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="seconds")

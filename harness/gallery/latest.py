"""Which version "latest" means (seed 003/004).

The highest Major, then Minor, then Patch among versions not excluded from latest.  In a region
the regional ``regionalExcludeFromLatest`` takes precedence over the global
``excludeFromLatest``, and only versions that target that region count (a version that is not
published to a region cannot be its latest; whether its replication there has completed is
checked afterwards, as for a pinned version).  Versions marked for deletion never count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from harness.gallery.names import VersionNumber
from harness.gallery.replication import Publishing


class Versioned(Protocol):
    @property
    def number(self) -> VersionNumber: ...
    @property
    def publishing(self) -> Publishing: ...
    @property
    def deleting(self) -> bool: ...


V = TypeVar("V", bound=Versioned)


def latest(versions: Iterable[V], region: str | None = None) -> V | None:
    """The latest version (in region key ``region``, or overall when None)."""
    candidates = [v for v in versions if not v.deleting
                  and (region is None or v.publishing.targets_region(region))
                  and not v.publishing.excluded_in(region)]
    return max(candidates, key=lambda v: v.number, default=None)

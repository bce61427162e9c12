"""The Azure Compute Gallery control plane as a pure model: VM applications, images, sharing,
replication and VM application profiles, answering with the seeds' exact error texts.

No I/O here: link checks go through an injected probe, and ``now`` is passed in.
"""

from harness.gallery.core import Limits
from harness.gallery.errors import ROWS, SEED_ROWS, Row, ServiceError
from harness.gallery.links import LinkProbe, LinkStatus
from harness.gallery.resources import AppEntry, Package, ResolvedApplication, ResolvedImage
from harness.gallery.service import GalleryService, Response

__all__ = [
    "ROWS",
    "SEED_ROWS",
    "AppEntry",
    "GalleryService",
    "Limits",
    "LinkProbe",
    "LinkStatus",
    "Package",
    "ResolvedApplication",
    "ResolvedImage",
    "Response",
    "Row",
    "ServiceError",
]

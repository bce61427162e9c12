"""The image definition a recipe's builds are published under in a scenario's gallery."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GalleryIdentity:
    """What a recipe's image definition says of its builds (seed 003): publisher/offer/SKU
    (unique per gallery), OS type, OS state and Hyper-V generation.  Defaults: publisher
    ``vmapp-harness``, offer and SKU the name's parts around its last hyphen (``debian`` and
    ``12``), the OS of the guest kind, ``Generalized`` (each VM gets its own host keys at first
    boot), ``V2``."""

    publisher: str
    offer: str
    sku: str
    os_type: str
    os_state: str
    hyper_v_generation: str


def gallery_identity(name: str, guest: str, given: dict[str, str]) -> GalleryIdentity:
    offer, _, sku = name.rpartition("-")
    return GalleryIdentity(
        publisher=given.get("publisher", "vmapp-harness"), offer=given.get("offer", offer or name),
        sku=given.get("sku", sku), os_type=given.get(
            "osType", "Linux" if guest == "linux-systemd" else "Windows"),
        os_state=given.get("osState", "Generalized"),
        hyper_v_generation=given.get("hyperVGeneration", "V2"))

"""Which cluster an inventory is, for keying the backup catalog.

A k0sctl.yaml names its cluster (``metadata.name``); the demo has its own name. Fleets given with
``--ssh`` or the local machine have no name: their id is derived from the sorted host addresses,
so the same hosts give the same id in every run (and another set of hosts another id).
"""

from __future__ import annotations

import hashlib

from backends.hosts.spec import Inventory

#: Inventory sources without a cluster name of their own.
UNNAMED_SOURCES = ("--ssh", "local")


def cluster_id(inventory: Inventory) -> str:
    """The catalog key of ``inventory``'s cluster."""
    if inventory.source not in UNNAMED_SOURCES:
        return inventory.name
    addresses = sorted({f"{h.name}@{h.address}".lower() for h in inventory.hosts})
    digest = hashlib.sha256("\n".join(addresses).encode()).hexdigest()[:12]
    return f"{inventory.name}-{digest}"

"""The fleet's k0s versions against its target, from the session's latest snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.k0s.drift import Drift, fleet_drift

if TYPE_CHECKING:
    from backends.session.session import ClusterSession

#: How each source of the target reads in the UI.
SOURCE_LABELS = {"inventory": "k0sctl.yaml spec.k0s.version", "fleet": "newest in the fleet", "": "none"}


def session_drift(session: ClusterSession) -> Drift:
    """:func:`fleet_drift` over every inventory host's last known k0s version (no snapshot yet:
    unknown), against the inventory's ``spec.k0s.version`` when it has one."""
    versions = {}
    for name in session.host_names:
        snap = session.nodes.get(name)
        versions[name] = snap.version if snap is not None else None
    return fleet_drift(versions, session.inventory.k0s_version)

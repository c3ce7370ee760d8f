"""Kubernetes readiness of inventory hosts: matching `kubectl get nodes` entries to hosts, and
the last known value per host (kept, with its time, until a newer one comes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from backends.models import KubeNode, NodeCondition


@dataclass(frozen=True)
class Readiness:
    """What a controller last said about one host's node."""

    ready: bool
    kubelet_version: str | None
    reason: str  # why not Ready ("" when Ready)
    at: datetime  # when the controller said so
    conditions: tuple[NodeCondition, ...] = ()


def node_index(nodes: Iterable[KubeNode]) -> dict[str, KubeNode]:
    """Nodes by lower-case name, then by internal IP (a name is never shadowed by an IP)."""
    nodes = list(nodes)
    by_key: dict[str, KubeNode] = {}
    for node in nodes:
        by_key.setdefault(node.name.lower(), node)
    for node in nodes:
        if node.internal_ip:
            by_key.setdefault(node.internal_ip, node)
    return by_key


def node_for(name: str, address: str, index: dict[str, KubeNode]) -> KubeNode | None:
    """The node of host ``name`` (by inventory name, else the host part of its address)."""
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    return index.get(name.lower()) or index.get(host.lower())


def readiness_of(node: KubeNode, at: datetime) -> Readiness:
    """``node``'s readiness as seen at ``at``."""
    return Readiness(ready=node.ready, kubelet_version=node.kubelet_version or None,
                     reason=node.not_ready_reason, at=at, conditions=tuple(node.conditions))

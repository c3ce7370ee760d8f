"""Nodes: every host's latest snapshot (k0s state, readiness, uptime), details, component
versions and upgrade drift. Start / stop / restart are :mod:`backends.session.clusterops`'s
(quorum-checked, through the mutation gate)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from backends.errors import BackendError
from backends.fleet import HostOutcome
from backends.k0s.drift import Drift, fleet_drift
from backends.k0s.host import NodeSnapshot, ServiceState
from backends.k0s.readiness import Readiness, node_for, node_index, readiness_of
from backends.k0s.versions import ComponentVersions, gather_fleet_versions, gather_versions, mismatches
from backends.models import EtcdMember, K0sStatus, KubeNode
from backends.session.core import SessionCore



@dataclass
class NodeDetails:
    """What the node details screen shows."""

    host: str
    status: K0sStatus | None = None
    status_error: str = ""
    etcd_members: list[EtcdMember] = field(default_factory=list)
    etcd_error: str = ""
    service_text: str = ""
    versions: ComponentVersions | None = None


@dataclass
class Counts:
    """The header's figures over the latest snapshots."""

    reachable: int = 0
    total: int = 0
    controllers_running: int = 0
    controllers: int = 0
    workers_ready: int = 0
    workers: int = 0


class NodesService:
    """Snapshots per host (as they arrive), the fleet's versions, service control."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core
        self._snapshots: dict[str, NodeSnapshot] = {}
        self._times: dict[str, datetime] = {}
        self._versions: dict[str, ComponentVersions] = {}
        self._busy: set[str] = set()
        #: Last known readiness per host (from any controller's `kubectl get nodes`), kept
        #: until a newer answer: a worker's snapshot (which never has it) must not blank it.
        self._readiness: dict[str, Readiness] = {}
        #: The node list of each controller already taken into _readiness (by identity).
        self._seen_nodes: dict[str, list[KubeNode]] = {}
        #: Per-host deadline of one snapshot (a hung host is reported, never waited for forever).
        self.snapshot_timeout: float | None = 60.0

    # ------------------------------------------------------------------ reads

    def snapshot_of(self, name: str) -> NodeSnapshot | None:
        """The latest snapshot of ``name`` (None until it first answered)."""
        return self._snapshots.get(name)

    def snapshots(self) -> list[NodeSnapshot]:
        """Every host's latest snapshot, in inventory order (hosts never seen are left out)."""
        return [s for n in self.core.hosts if (s := self._snapshots.get(n)) is not None]

    def snapshot_time(self, name: str) -> datetime | None:
        """When ``name``'s latest snapshot arrived."""
        return self._times.get(name)

    def busy_hosts(self) -> set[str]:
        """Hosts whose snapshot is still being fetched."""
        return set(self._busy)

    def counts(self) -> Counts:
        """Header figures: reachable, total, controllers running/total, workers ready/total."""
        c = Counts(total=len(self.core.hosts))
        for name, host in self.core.hosts.items():
            snap = self._snapshots.get(name)
            c.controllers += host.spec.is_controller
            c.workers += host.spec.runs_workloads
            if snap is None:
                continue
            if snap.state not in (ServiceState.UNREACHABLE, ServiceState.UNKNOWN) or (
                    snap.state is ServiceState.UNKNOWN and not snap.error):
                c.reachable += 1
            if host.spec.is_controller and snap.state is ServiceState.RUNNING:
                c.controllers_running += 1
            if host.spec.runs_workloads and snap.kube_ready:
                c.workers_ready += 1
        return c

    # ------------------------------------------------------------------ refresh

    async def refresh_one(self, name: str) -> NodeSnapshot:
        """A fresh snapshot of one host (raises the host's error)."""
        snap = await self.core.hosts[name].snapshot()
        self._store(snap)
        return snap

    def readiness_of(self, name: str) -> Readiness | None:
        """The last readiness a controller reported for ``name`` (None: never)."""
        return self._readiness.get(name)

    def _store(self, snap: NodeSnapshot) -> None:
        now = self.core.clock()
        self._snapshots[snap.name] = snap
        self._times[snap.name] = now
        # Controllers know every node's readiness: a node list not seen yet updates what is
        # known of every host; then every running snapshot shows the latest known value.
        host = self.core.hosts.get(snap.name)
        nodes = host.last_kube_nodes if host is not None else None
        if nodes is not None and nodes is not self._seen_nodes.get(snap.name):
            self._seen_nodes[snap.name] = nodes
            index = node_index(nodes)
            for name, h in self.core.hosts.items():
                node = node_for(name, h.spec.address, index)
                if node is not None:
                    self._readiness[name] = readiness_of(node, now)
            for other in self._snapshots.values():
                if other is not snap:
                    self._apply_readiness(other)
        self._apply_readiness(snap)

    def _apply_readiness(self, snap: NodeSnapshot) -> None:
        known = self._readiness.get(snap.name)
        if known is None or snap.state is not ServiceState.RUNNING:
            return
        snap.kube_ready = known.ready
        snap.kubelet_version = known.kubelet_version
        snap.kube_reason = known.reason
        snap.kube_at = known.at

    async def stream(self, names: Iterable[str] | None = None) -> AsyncIterator[NodeSnapshot]:
        """Snapshots as hosts answer (fastest first); hosts still busy from a previous refresh
        are skipped. A host that failed gets a snapshot carrying its error."""
        async for outcome in self.core.stream_idle(self._busy, names, lambda h: h.snapshot(),
                                                   timeout=self.snapshot_timeout):
            snap = outcome.value if outcome.ok and outcome.value is not None else self._failed(outcome)
            self._store(snap)
            yield snap

    def _failed(self, outcome: HostOutcome[NodeSnapshot]) -> NodeSnapshot:
        spec = self.core.hosts[outcome.host].spec
        timed_out = outcome.error is not None and outcome.error.kind == "timeout"
        return NodeSnapshot(
            name=spec.name, address=spec.address, role=spec.role,
            state=ServiceState.UNREACHABLE if timed_out else ServiceState.UNKNOWN,
            error=outcome.error.message if outcome.error else "no answer")

    async def refresh(self, on_snapshot: Callable[[NodeSnapshot], None] | None = None,
                      names: Iterable[str] | None = None) -> list[NodeSnapshot]:
        """Refresh idle hosts, calling ``on_snapshot`` as each answers; returns what came in."""
        got = []
        async for snap in self.stream(names):
            got.append(snap)
            if on_snapshot is not None:
                on_snapshot(snap)
        return got

    async def details(self, name: str) -> NodeDetails:
        """Full status (with args), etcd members for controllers, the init system's words."""
        host = self.core.hosts[name]
        details = NodeDetails(host=name)
        try:
            details.status = await host.status()
        except BackendError as exc:
            details.status_error = exc.message
            try:
                details.service_text = await host.service_status_text()
            except BackendError as exc2:
                details.service_text = exc2.message
        if host.spec.is_controller and details.status is not None:
            try:
                details.etcd_members = await host.etcd_members()
            except BackendError as exc:
                details.etcd_error = exc.message
        details.versions = await gather_versions(host)  # never raises: errors per component
        self._versions[name] = details.versions
        return details

    # ------------------------------------------------------------------ versions

    async def refresh_versions(self, names: Iterable[str] | None = None) -> list[ComponentVersions]:
        """Component versions of ``names`` (default: every host), remembered per host."""
        hosts = [self.core.hosts[n] for n in (names if names is not None else self.core.hosts)]
        fleet = await gather_fleet_versions(hosts)
        for v in fleet:
            self._versions[v.host] = v
        return fleet

    def versions_of(self, name: str) -> ComponentVersions | None:
        """The versions gathered for ``name`` (None before a scan)."""
        return self._versions.get(name)

    def fleet_versions(self) -> list[ComponentVersions]:
        """Best known versions per host: the gathered ones, else k0s/kubelet from the snapshots."""
        out = []
        for name in self.core.hosts:
            if name in self._versions:
                out.append(self._versions[name])
            elif (snap := self._snapshots.get(name)) is not None:
                out.append(ComponentVersions(host=name, k0s=snap.version, kubernetes=snap.kubelet_version))
        return out

    def drift(self) -> Drift:
        """The fleet's k0s versions against the target: the inventory's ``spec.k0s.version``
        when it has one, else the newest in the fleet (a host not seen yet is unknown)."""
        versions = {name: (s.version if (s := self._snapshots.get(name)) is not None else None)
                    for name in self.core.hosts}
        return fleet_drift(versions, self.core.inventory.k0s_version)

    def version_mismatches(self) -> dict[str, set[str]]:
        """component -> hosts differing from the fleet majority (over :meth:`fleet_versions`)."""
        return mismatches(self.fleet_versions())

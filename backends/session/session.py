"""ClusterSession: the one facade the console (and headless callers) talk to.

It owns the inventory, one :class:`~backends.k0s.K0sHost` per host (transports from
:func:`backends.transport.connect.make_transport`), the read-only switch, the audit log and the backup
catalog. Read methods return plain dataclasses and cache what the UI shows (latest node
snapshots, sysinfo reports with their time). Every mutating method refuses when read-only
(before any I/O, and the K0sHost objects refuse again) and appends exactly one audit record
with the local user, the hosts, the operation and how it ended.

No Textual here: the app calls these coroutines from its workers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.session.audit import AuditLog
from backends.k0s.backups import (
    BackupCatalog,
    BackupEntry,
    BackupProgress,
    Check,
    cluster_backup,
)
from backends.k0s.backups import restore as backups_restore
from backends.k0s.backups import restore_preconditions as backups_preconditions
from backends.safetext import clean
from backends.errors import BackendError, ReadOnlyRefused, ValidationError
from backends.fleet import HostOutcome, run_on_fleet, stream_fleet
from backends.hosts.spec import HostSpec, Inventory
from backends.images.select import backend_path_label
from backends.k0s.host import K0sHost, NodeSnapshot, ServiceState
if TYPE_CHECKING:  # annotations only: these modules load on first use
    from backends.k0s.certs import CertInfo
    from backends.transport.ssh.trust import HostKeyReview
    from backends.k0s.config import HostConfig
    from backends.k0s.versions import ComponentVersions
from backends.models import (
    STATUS_RANK,
    Container,
    EtcdMember,
    Image,
    ImageGroup,
    K0sStatus,
    PullProgress,
    SysinfoProbe,
    SysinfoReport,
)

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(timezone.utc)


def error_text(exc: BaseException) -> str:
    """What an operator reads for a failure: the typed message, else the exception's words
    (controls made visible: errors quote host output)."""
    if isinstance(exc, BackendError):
        return clean(str(exc))
    text = clean(str(exc).strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class HostResult:
    """How one host's part of an action ended."""

    host: str
    ok: bool
    value: Any = None
    error: str = ""
    kind: str = ""


@dataclass
class HostImages:
    """The Containers pane's data for one host."""

    host: str
    path: str  # "grpc", "ctr", or "ctr (fallback: <why gRPC was refused>)"
    groups: list[ImageGroup]
    containers: list[Container]
    at: datetime
    containers_error: str = ""


@dataclass
class SysinfoResult:
    """A cached `k0s sysinfo` of one host (``report`` None when it failed; ``error`` says why)."""

    host: str
    at: datetime
    report: SysinfoReport | None = None
    error: str = ""

    @property
    def verdict(self) -> str:
        """"pass" / "warning" / "rejected" / "error"."""
        return self.report.status if self.report is not None else "error"


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
class KubeProxyPlan:
    """A validated kube-proxy change of one controller's k0s.yaml, not yet written.

    ``old``/``new`` are what a cell shows ("iptables", "ipvs", "disabled"); ``warnings`` must be
    shown before the write (mode caveats, missing IPVS kernel modules)."""

    host: str
    path: str
    old: str
    new: str
    mode: str | None
    disabled: bool | None
    new_text: str
    k0s_version: str | None = None
    warnings: list[str] = field(default_factory=list)


#: Probe groups of the Sysinfo matrix, in column order: (name, pattern over the probe path).
PROBE_GROUPS: list[tuple[str, re.Pattern[str]]] = [
    ("Kernel", re.compile(r"^CONFIG_|kernel config", re.I)),  # first: CONFIG_MEMCG is not "memory"
    ("Resources", re.compile(r"memory|disk|file ?system of|cpu|machine id", re.I)),
    ("Network", re.compile(r"name resolution|network|iptables|nftables|ipv[46]|bridge|netfilter", re.I)),
    ("Cgroups", re.compile(r"cgroup|control group", re.I)),
    ("OS", re.compile(r"operating system|kernel|descriptor|apparmor|executable|/proc|selinux|init", re.I)),
]
OTHER_GROUP = "Other"


def probe_group(probe: SysinfoProbe) -> str:
    """The matrix column a probe belongs to (first matching group over its own name, then its path)."""
    for text in (probe.name, *reversed(probe.path[:-1])):
        for name, pattern in PROBE_GROUPS:
            if pattern.search(text):
                return name
    return OTHER_GROUP


def group_statuses(report: SysinfoReport) -> dict[str, tuple[str, int]]:
    """Per probe group: (worst status, number of probes at that status)."""
    out: dict[str, tuple[str, int]] = {}
    for probe in report.probes:
        group = probe_group(probe)
        worst, count = out.get(group, ("pass", 0))
        if STATUS_RANK[probe.status] > STATUS_RANK[worst]:
            out[group] = (probe.status, 1)
        elif probe.status == worst:
            out[group] = (worst, count + 1)
        else:
            out[group] = (worst, count)
    return out


def group_by_digest(images: Iterable[Image]) -> list[ImageGroup]:
    """Images grouped by digest (parsers.group_images when the parsers offer it)."""
    from backends.k0s import parsers

    grouper = getattr(parsers, "group_images", None)
    images = list(images)
    if grouper is not None:
        return list(grouper(images))
    groups: dict[str, list[Image]] = {}
    for img in images:
        groups.setdefault(img.digest, []).append(img)
    return [ImageGroup(digest=d, refs=refs) for d, refs in groups.items()]


class ClusterSession:
    """Inventory + hosts + read-only switch + audit log + backup catalog, with one method per need."""

    def __init__(
        self,
        inventory: Inventory,
        hosts: Sequence[K0sHost],
        *,
        readonly: bool = False,
        audit: AuditLog | None = None,
        catalog: BackupCatalog | None = None,
        clock: Clock = utcnow,
        demo: Any = None,
    ) -> None:
        self.inventory = inventory
        self.hosts: dict[str, K0sHost] = {h.name: h for h in hosts}
        self.readonly = readonly
        for h in hosts:
            h.readonly = h.readonly or readonly
        self.audit = audit if audit is not None else AuditLog()
        self.catalog = catalog if catalog is not None else BackupCatalog()
        self.clock = clock
        self.demo = demo
        #: Latest snapshot per host (absent until the host first answered).
        self.nodes: dict[str, NodeSnapshot] = {}
        self.node_times: dict[str, datetime] = {}
        #: Cached sysinfo per host.
        self.sysinfo_cache: dict[str, SysinfoResult] = {}
        #: Nearest certificate expiry per controller (None: not scanned / no certificate).
        self.cert_expiry: dict[str, datetime | None] = {}
        #: Latest PKI scan per controller, and when it ran.
        self.certs: dict[str, list[CertInfo]] = {}
        self.cert_times: dict[str, datetime] = {}
        #: Latest k0s.yaml read per controller.
        self.configs: dict[str, HostConfig] = {}
        #: Latest component versions per host (filled by refresh_versions / node_details).
        self.versions: dict[str, ComponentVersions] = {}
        self._busy: set[str] = set()
        self._images_busy: set[str] = set()
        #: Per-host deadline of one snapshot (a hung host is reported, never waited for forever).
        self.snapshot_timeout: float | None = 60.0
        #: Hosts refreshed at once. Opening every host's channels in one event-loop step stalls
        #: key handling for ~1 s at 100 hosts (bench/fanout.py --tui); 16 keeps it near 0.1 s
        #: and brings the first rows sooner, for ~10% more total time.
        self.fleet_limit: int | None = 16
        #: Per-host deadline of an action (None: the backend's own timeouts apply).
        self.action_timeout: float | None = None
        #: After a renewing restart: seconds to keep re-scanning until new certificates appear.
        self.renew_wait: float = 30.0
        self.renew_poll: float = 2.0

    # ------------------------------------------------------------------ construction

    @classmethod
    def open(
        cls,
        inventory: Inventory,
        *,
        settings: Any = None,
        demo: Any = None,
        sudo: bool = False,
        readonly: bool = False,
        backup_dir: Path | str | None = None,
        audit_path: Path | str | None = None,
        clock: Clock = utcnow,
    ) -> "ClusterSession":
        """Build hosts (transports via make_transport) for every inventory entry."""
        from backends.transport.connect import make_transport

        hosts = [K0sHost(spec, make_transport(spec, settings, demo=demo), sudo=sudo, readonly=readonly)
                 for spec in inventory.hosts]
        return cls(inventory, hosts, readonly=readonly, audit=AuditLog(audit_path),
                   catalog=BackupCatalog(backup_dir), clock=clock, demo=demo)

    @property
    def name(self) -> str:
        """The cluster's name."""
        return self.inventory.name

    @property
    def host_names(self) -> list[str]:
        """Host names in inventory order."""
        return list(self.hosts)

    def host(self, name: str) -> K0sHost:
        """The K0sHost called ``name`` (KeyError when unknown)."""
        return self.hosts[name]

    def spec(self, name: str) -> HostSpec:
        return self.hosts[name].spec

    async def close(self) -> None:
        """Close every transport (errors ignored: we are leaving)."""
        for h in self.hosts.values():
            try:
                await h.close()
            except Exception:  # noqa: BLE001 - closing must not stop the others
                pass

    # ------------------------------------------------------------------ SSH host keys (TOFU)

    def _ssh_settings(self, name: str) -> Any:
        """The SSHSettings the host's transport connects with (its known_hosts files)."""
        settings = getattr(self.hosts[name].transport, "settings", None)
        if self.hosts[name].spec.ssh is None or settings is None:
            raise BackendError(name, "not reached over SSH: there is no host key to trust")
        return settings

    def host_key_file(self, name: str) -> Path:
        """The app's known_hosts file, where trusting a key of host ``name`` appends it."""
        return Path(self._ssh_settings(name).app_known_hosts).expanduser()

    async def host_key_review(self, name: str) -> HostKeyReview:
        """The key host ``name`` (or its bastion) presents now, compared with the keys on record.
        Read-only: nothing is written."""
        from backends.transport.ssh.trust import review_host_key

        return await review_host_key(self.hosts[name].spec, self._ssh_settings(name))

    async def host_key_to_trust(self, name: str) -> tuple[HostSpec, str, str, str]:
        """(spec, key type, SHA256 fingerprint, public key line) of the key to show the user before
        trusting; ``spec`` is the bastion's when that is the unknown one. Raises HostKeyChanged
        when a different key is on record (never trusted from the console)."""
        from backends.errors import HostKeyChanged

        review = await self.host_key_review(name)
        if review.changed:
            raise HostKeyChanged(review.spec.name, review.fingerprint,
                                 "old key in " + ", ".join(str(p) for p in review.on_record))
        return review.spec, review.key_type, review.fingerprint, review.public_key_line

    async def trust_host_key(self, name: str, line: str, spec: HostSpec | None = None) -> Path:
        """Append the reviewed key ``line`` for host ``name`` (or ``spec``, its bastion) to the app's
        known_hosts; refuses (HostKeyChanged) when a different key is on record. Not a cluster
        change, so allowed read-only, but audited ("trust-host-key"). The host's transport
        reconnects on its next command. Returns the file written."""
        import asyncssh

        from backends.transport.ssh.knownhosts import fingerprint, trust_host_key

        spec = spec or self.hosts[name].spec
        settings = self._ssh_settings(name)
        details: dict[str, object] = {"address": spec.address}
        try:
            key = asyncssh.import_public_key(line.strip())
            details.update(key_type=key.get_algorithm(), fingerprint=fingerprint(key))
        except (ValueError, asyncssh.KeyImportError):
            pass  # trust_host_key says why in words
        try:
            path = await trust_host_key(spec, settings, line)
        except BackendError as exc:
            self.audit.record("trust-host-key", [name], ok=False, error=exc.message, details=details,
                              when=self.clock())
            raise
        details["file"] = str(path)
        self.audit.record("trust-host-key", [name], details=details, when=self.clock())
        return path

    # ------------------------------------------------------------------ nodes

    def busy_hosts(self) -> set[str]:
        """Hosts whose snapshot is still being fetched."""
        return set(self._busy)

    async def snapshot(self, name: str) -> NodeSnapshot:
        """A fresh snapshot of one host (cached in :attr:`nodes`)."""
        snap = await self.hosts[name].snapshot()
        self._store(snap)
        return snap

    def _store(self, snap: NodeSnapshot) -> None:
        self.nodes[snap.name] = snap
        self.node_times[snap.name] = self.clock()
        # Controllers know every node's readiness: fill it into the other hosts' snapshots.
        host = self.hosts.get(snap.name)
        if host is not None and host.last_kube_nodes:
            from backends.k0s.host import apply_kube_readiness

            others = [s for n, s in self.nodes.items() if n != snap.name and s.state is ServiceState.RUNNING]
            apply_kube_readiness(others, host.last_kube_nodes)

    async def _stream_idle(self, busy: set[str], names: Iterable[str] | None,
                           op: Callable[[K0sHost], Any]) -> AsyncIterator[HostOutcome[Any]]:
        """``op`` on each named host not in ``busy`` (marked busy until it answers), outcomes as
        they come, at most ``fleet_limit`` at a time. Skipping busy hosts is what keeps a slow
        host from making refreshes pile up."""
        wanted = [n for n in (names if names is not None else self.hosts) if n not in busy]
        if not wanted:
            return
        busy.update(wanted)
        try:
            loop = asyncio.get_running_loop()
            turn = loop.time()
            async for outcome in stream_fleet([self.hosts[n] for n in wanted], op,
                                              timeout=self.snapshot_timeout, limit=self.fleet_limit):
                busy.discard(outcome.host)
                yield outcome
                # Hosts that answer without suspending (in-process demo, cached results) must
                # not starve the UI's event loop: give it a turn every ~20 ms of work.
                if loop.time() - turn > 0.02:
                    await asyncio.sleep(0)
                    turn = loop.time()
        finally:
            busy.difference_update(wanted)

    async def stream_snapshots(self, names: Iterable[str] | None = None) -> AsyncIterator[NodeSnapshot]:
        """Snapshots as hosts answer (fastest first); hosts still busy from a previous refresh
        are skipped. A host that failed gets a snapshot carrying its error."""
        async for outcome in self._stream_idle(self._busy, names, lambda h: h.snapshot()):
            snap = outcome.value if outcome.ok and outcome.value is not None else self._failed_snapshot(outcome)
            self._store(snap)
            yield snap

    def _failed_snapshot(self, outcome: HostOutcome[Any]) -> NodeSnapshot:
        spec = self.hosts[outcome.host].spec
        timed_out = outcome.error is not None and outcome.error.kind == "timeout"
        return NodeSnapshot(
            name=spec.name, address=spec.address, role=spec.role,
            state=ServiceState.UNREACHABLE if timed_out else ServiceState.UNKNOWN,
            error=outcome.error.message if outcome.error else "no answer")

    async def refresh_nodes(self, on_snapshot: Callable[[NodeSnapshot], None] | None = None,
                            names: Iterable[str] | None = None) -> list[NodeSnapshot]:
        """Refresh idle hosts, calling ``on_snapshot`` as each answers; returns what came in."""
        got = []
        async for snap in self.stream_snapshots(names):
            got.append(snap)
            if on_snapshot is not None:
                on_snapshot(snap)
        return got

    async def node_details(self, name: str) -> NodeDetails:
        """Full status (with args), etcd members for controllers, the init system's words."""
        host = self.hosts[name]
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
        from backends.k0s.versions import gather_versions

        details.versions = await gather_versions(host)  # never raises: errors per component
        self.versions[name] = details.versions
        return details

    def counts(self) -> dict[str, int]:
        """Header figures: reachable, total, controllers running/total, workers ready/total."""
        total = len(self.hosts)
        reachable = ctl_run = ctl_total = wk_ready = wk_total = 0
        for name, host in self.hosts.items():
            snap = self.nodes.get(name)
            if host.spec.is_controller:
                ctl_total += 1
            if host.spec.runs_workloads:
                wk_total += 1
            if snap is None:
                continue
            if snap.state not in (ServiceState.UNREACHABLE, ServiceState.UNKNOWN) or (
                    snap.state is ServiceState.UNKNOWN and not snap.error):
                reachable += 1
            if host.spec.is_controller and snap.state is ServiceState.RUNNING:
                ctl_run += 1
            if host.spec.runs_workloads and snap.kube_ready:
                wk_ready += 1
        return {"reachable": reachable, "total": total, "controllers_running": ctl_run,
                "controllers": ctl_total, "workers_ready": wk_ready, "workers": wk_total}

    # ------------------------------------------------------------------ images

    async def images(self, name: str) -> HostImages:
        """Images (grouped by digest) and containers of one host, with the image path in use."""
        host = self.hosts[name]
        backend = await host.image_backend()
        images = await host.images()
        containers: list[Container] = []
        cerr = ""
        try:
            containers = await host.containers()
        except BackendError as exc:
            cerr = exc.message
        return HostImages(host=name, path=backend_path_label(backend), groups=group_by_digest(images),
                          containers=containers, at=self.clock(), containers_error=cerr)

    async def stream_images(self, names: Iterable[str] | None = None
                            ) -> AsyncIterator[tuple[str, HostImages | BackendError]]:
        """(host, images or typed error) as hosts answer, at most ``fleet_limit`` at a time.
        Hosts whose previous images refresh is still running are skipped."""
        async for outcome in self._stream_idle(self._images_busy, names, lambda h: self.images(h.name)):
            if outcome.ok and outcome.value is not None:
                yield outcome.host, outcome.value
            else:
                yield outcome.host, outcome.error or BackendError(outcome.host, "no answer")

    # ------------------------------------------------------------------ sysinfo

    async def sysinfo(self, name: str, *, force: bool = False) -> SysinfoResult:
        """The host's sysinfo, from the cache unless ``force`` or never run."""
        cached = self.sysinfo_cache.get(name)
        if cached is not None and not force:
            return cached
        try:
            result = SysinfoResult(host=name, at=self.clock(), report=await self.hosts[name].sysinfo())
        except BackendError as exc:
            result = SysinfoResult(host=name, at=self.clock(), error=exc.message)
        self.sysinfo_cache[name] = result
        return result

    def sysinfo_verdict(self) -> str | None:
        """The worst verdict over cached reports (None before any ran)."""
        if not self.sysinfo_cache:
            return None
        return max((r.verdict for r in self.sysinfo_cache.values()), key=lambda s: STATUS_RANK.get(s, 3))

    # ------------------------------------------------------------------ certificates

    async def scan_cert_expiry(self, name: str) -> datetime | None:
        """Scan one host's PKI; remember and return its nearest certificate expiry."""
        await self.scan_certs(name)
        return self.cert_expiry[name]

    async def scan_certs(self, name: str) -> list[CertInfo]:
        """Scan one host's PKI: every certificate (cached in :attr:`certs`, with the time in
        :attr:`cert_times`) and its nearest expiry (in :attr:`cert_expiry`, for the header)."""
        from backends.k0s.certs import nearest_expiry, scan_host

        certs = await scan_host(self.hosts[name], now=self.clock())
        self.certs[name] = certs
        self.cert_times[name] = self.clock()
        cert = nearest_expiry(certs)
        self.cert_expiry[name] = cert.not_after if cert is not None else None
        return certs

    def nearest_cert_expiry(self) -> tuple[str, datetime] | None:
        """(host, not_after) of the certificate expiring first among scanned hosts."""
        known = [(h, t) for h, t in self.cert_expiry.items() if t is not None]
        return min(known, key=lambda ht: ht[1]) if known else None

    # ------------------------------------------------------------------ k0s.yaml (reads)

    async def read_config(self, name: str) -> HostConfig:
        """Read one controller's k0s.yaml and `k0s version` (cached in :attr:`configs`); never
        raises for a bad file (``error`` says why)."""
        from backends.k0s.config import read_host_config

        hc = await read_host_config(self.hosts[name])
        self.configs[name] = hc
        return hc

    async def plan_kube_proxy(self, name: str, *, mode: str | None = None,
                              disabled: bool | None = None) -> KubeProxyPlan:
        """Validate a kube-proxy change against the host's current k0s.yaml (read again) and
        collect the warnings to show before writing. Writes nothing; raises
        :class:`~backends.errors.ValidationError` (unknown mode: the message lists the allowed ones)."""
        from backends.k0s.config import ipvs_warning, mode_warning, set_kube_proxy

        hc = await self.read_config(name)
        if hc.error:
            raise ValidationError(f"{name}: {hc.error}")
        new_text = set_kube_proxy(hc.text, mode=mode, disabled=disabled, k0s_version=hc.k0s_version)
        old = hc.summary.kube_proxy.label if hc.summary is not None else "?"
        new = "disabled" if disabled else (mode or (hc.summary.kube_proxy.mode if hc.summary else "?"))
        warnings: list[str] = []
        if not disabled and mode is not None:
            if (w := mode_warning(mode, hc.k0s_version)) is not None:
                warnings.append(w)
            if mode == "ipvs":
                # Cross-check with the host's (cached) sysinfo: ipvs needs the IP_VS modules.
                si = await self.sysinfo(name)
                if (w := ipvs_warning(si.report)) is not None:
                    warnings.append(w)
        return KubeProxyPlan(host=name, path=hc.path, old=old, new=new, mode=mode, disabled=disabled,
                             new_text=new_text, k0s_version=hc.k0s_version, warnings=warnings)

    # ------------------------------------------------------------------ versions

    async def refresh_versions(self, names: Iterable[str] | None = None) -> list[ComponentVersions]:
        """Component versions of ``names`` (default: every host), cached in :attr:`versions`."""
        from backends.k0s.versions import gather_fleet_versions

        hosts = [self.hosts[n] for n in (names if names is not None else self.hosts)]
        fleet = await gather_fleet_versions(hosts)
        for v in fleet:
            self.versions[v.host] = v
        return fleet

    def fleet_versions(self) -> list[ComponentVersions]:
        """Best known versions per host: the gathered ones, else k0s/kubelet from the snapshots."""
        from backends.k0s.versions import ComponentVersions

        out = []
        for name in self.hosts:
            if name in self.versions:
                out.append(self.versions[name])
            elif (snap := self.nodes.get(name)) is not None:
                out.append(ComponentVersions(host=name, k0s=snap.version, kubernetes=snap.kubelet_version))
        return out

    def version_mismatches(self) -> dict[str, set[str]]:
        """component -> hosts differing from the fleet majority (over :meth:`fleet_versions`)."""
        from backends.k0s.versions import mismatches

        return mismatches(self.fleet_versions())

    # ------------------------------------------------------------------ backups (reads)

    def backups(self) -> list[BackupEntry]:
        """The catalog, newest first."""
        return self.catalog.list()

    def newest_backup(self) -> BackupEntry | None:
        entries = self.backups()
        return entries[0] if entries else None

    def controllers(self) -> list[str]:
        return [n for n, h in self.hosts.items() if h.spec.is_controller]

    async def restore_preconditions(self, entry: BackupEntry, target: str) -> list[Check]:
        """Restore preconditions of ``entry`` on ``target`` (read-only; nothing changes)."""
        return await backups_preconditions(self.hosts[target], entry, self.catalog)

    # ------------------------------------------------------------------ mutating actions

    def _refuse_if_readonly(self, operation: str, hosts: Sequence[str]) -> None:
        if self.readonly:
            exc = ReadOnlyRefused(", ".join(hosts), operation)
            self.audit.record(operation, hosts, ok=False, error=f"refused: {exc.message}", when=self.clock())
            raise exc

    def _audit_results(self, operation: str, results: Sequence[HostResult],
                       details: dict[str, object] | None = None) -> None:
        failed = [r for r in results if not r.ok]
        err = "; ".join(f"{r.host}: {r.error}" for r in failed)
        self.audit.record(operation, [r.host for r in results], ok=not failed, error=err or None,
                          details=details, when=self.clock())

    async def _on_hosts(self, names: Sequence[str], fn: Callable[[K0sHost], Any]) -> list[HostResult]:
        outcomes = await run_on_fleet([self.hosts[n] for n in names], fn, timeout=self.action_timeout)
        return [HostResult(o.host, o.ok, o.value, error=o.error.message if o.error else "",
                           kind=o.error.kind if o.error else "") for o in outcomes]

    async def service(self, operation: str, names: Sequence[str]) -> list[HostResult]:
        """start / stop / restart k0s on ``names``; per-host results, one audit record."""
        if operation not in ("start", "stop", "restart"):
            raise ValueError(f"unknown service operation {operation!r}")
        names = list(names)
        self._refuse_if_readonly(operation, names)
        results = await self._on_hosts(names, lambda h: getattr(h, operation)())
        self._audit_results(operation, results)
        # The state changed: take fresh snapshots of those hosts right away.
        for r in results:
            try:
                await self.snapshot(r.host)
            except BackendError:
                pass
        return results

    async def pull(self, names: Sequence[str], ref: str,
                   progress: Callable[[str, PullProgress], None] | None = None) -> list[HostResult]:
        """Pull ``ref`` on every host of ``names`` at once; ``progress(host, update)`` as it goes."""
        from backends.images.refs import validate_image_ref

        names = list(names)
        self._refuse_if_readonly(f"pull {ref}", names)
        validate_image_ref(ref)

        def cb(name: str) -> Callable[[PullProgress], None] | None:
            return None if progress is None else (lambda p: progress(name, p))

        results = await self._on_hosts(names, lambda h: h.pull_image(ref, cb(h.name)))
        self._audit_results("pull image", results, {"image": ref})
        return results

    async def label(self, name: str, ref: str, labels: dict[str, str]) -> dict[str, str]:
        """Set labels on ``ref`` on one host (validated first); returns the labels after."""
        from backends.images.refs import validate_image_ref, validate_label

        self._refuse_if_readonly(f"label {ref}", [name])
        validate_image_ref(ref)
        for k, v in labels.items():
            validate_label(k, v)
        try:
            after = await self.hosts[name].label_image(ref, labels)
        except BackendError as exc:
            self.audit.record("label image", [name], ok=False, error=exc.message,
                              details={"image": ref, **{f"label:{k}": v for k, v in labels.items()}}, when=self.clock())
            raise
        self.audit.record("label image", [name], details={"image": ref, **{f"label:{k}": v for k, v in labels.items()}},
                          when=self.clock())
        return after

    async def remove_image(self, names: Sequence[str], ref: str) -> list[HostResult]:
        """Remove ``ref`` from every host of ``names``."""
        names = list(names)
        self._refuse_if_readonly(f"remove {ref}", names)
        results = await self._on_hosts(names, lambda h: h.remove_image(ref))
        self._audit_results("remove image", results, {"image": ref})
        return results

    async def backup_now(self, progress: Callable[[BackupProgress], None] | None = None) -> BackupEntry:
        """Back the cluster up from its first running controller into the catalog."""
        ctl = self.controllers()
        self._refuse_if_readonly("backup", ctl)
        progress_hosts: list[str] = []

        def cb(p: BackupProgress) -> None:
            if p.host and p.host not in progress_hosts:
                progress_hosts.append(p.host)
            if progress is not None:
                progress(p)

        try:
            entry = await cluster_backup([self.hosts[n] for n in self.hosts], self.catalog, cb,
                                         cluster=self.name, now=self.clock)
        except BackendError as exc:
            self.audit.record("backup", progress_hosts or ctl, ok=False, error=exc.message, when=self.clock())
            raise
        self.audit.record("backup", [entry.source_host], details={"file": entry.file, "sha256": entry.sha256},
                          when=self.clock())
        return entry

    async def verify_backup(self, entry: BackupEntry) -> BackupEntry:
        """Verify an archive again (in a thread: it hashes the whole file); records the outcome."""
        self._refuse_if_readonly("verify backup", [])
        out = await asyncio.to_thread(self.catalog.reverify, entry)
        self.audit.record("verify backup", [], ok=out.verified, error=out.verify_error or None,
                          details={"file": entry.file}, when=self.clock())
        return out

    def delete_backup(self, entry: BackupEntry) -> None:
        """Remove an archive and its record from the catalog."""
        self._refuse_if_readonly("delete backup", [])
        self.catalog.delete(entry)
        self.audit.record("delete backup", [], details={"file": entry.file}, when=self.clock())

    def retention_plan(self, keep_newest: int) -> list[BackupEntry]:
        """The archives :meth:`apply_retention` would delete (newest ``keep_newest`` >= 1 kept per cluster)."""
        return self.catalog.retention_plan(keep_newest)

    def apply_retention(self, keep_newest: int) -> list[BackupEntry]:
        """Keep the newest ``keep_newest`` archives per cluster; returns the deleted ones."""
        self._refuse_if_readonly("backup retention", [])
        deleted = self.catalog.apply_retention(keep_newest)
        self.audit.record("backup retention", [], details={"keep": keep_newest, "deleted": len(deleted),
                                                           "files": ",".join(e.file for e in deleted)},
                          when=self.clock())
        return deleted

    async def restore(self, entry: BackupEntry, target: str,
                      progress: Callable[[BackupProgress], None] | None = None) -> str:
        """Restore ``entry`` on controller ``target`` (preconditions enforced); returns its output."""
        self._refuse_if_readonly("restore", [target])
        try:
            result = await backups_restore(self.hosts[target], entry, progress, self.catalog)
        except BackendError as exc:
            self.audit.record("restore", [target], ok=False, error=exc.message, details={"file": entry.file},
                              when=self.clock())
            raise
        self.audit.record("restore", [target], details={"file": entry.file}, when=self.clock())
        out = (result.stdout_text + "\n" + result.stderr_text).strip()
        return out or f"k0s restore finished (exit {result.exit_status})"


    async def renew_certs(self, name: str) -> list[CertInfo]:
        """Restart k0s on controller ``name`` so it re-issues its leaf certificates (k0s renews all
        but the CAs at start), then re-scan its PKI. One audit record with the nearest expiry
        before and after; refused when read-only."""
        from backends.k0s.certs import nearest_expiry

        operation = "restart k0s (renew certificates)"
        self._refuse_if_readonly(operation, [name])
        before = nearest_expiry(self.certs.get(name, []))
        results = await self._on_hosts([name], lambda h: h.restart())
        details: dict[str, object] = {"nearest_before": before.not_after.isoformat() if before and before.not_after else "-"}
        if not results[0].ok:
            self._audit_results(operation, results, details)
            raise BackendError(name, results[0].error)
        try:
            await self.snapshot(name)
        except BackendError:
            pass  # the row shows it on the next refresh
        old_prints = {c.fingerprint_sha256 for c in self.certs.get(name, []) if c.renewed_by_restart}
        try:
            certs = await self.scan_certs(name)
            # A real k0s writes the new certificates a moment after its service started: re-scan
            # until a leaf changed (or give up after renew_wait seconds and show what is there).
            waited = 0.0
            while old_prints and waited < self.renew_wait and not (
                    {c.fingerprint_sha256 for c in certs if c.renewed_by_restart} - old_prints):
                await asyncio.sleep(self.renew_poll)
                waited += self.renew_poll
                certs = await self.scan_certs(name)
        except BackendError as exc:
            self.audit.record(operation, [name], ok=False, error=f"restarted, re-scan failed: {exc.message}",
                              details=details, when=self.clock())
            raise
        after = nearest_expiry(certs)
        details["nearest_after"] = after.not_after.isoformat() if after and after.not_after else "-"
        self._audit_results(operation, results, details)
        return certs

    async def apply_kube_proxy(self, plan: KubeProxyPlan) -> str:
        """Write a planned kube-proxy change (backup on the host, atomic replace); returns the
        backup path ("" when there was no previous file). Refused when read-only; audited.
        k0s reads k0s.yaml only at start: offer a restart afterwards."""
        from backends.k0s.config import apply_to_host

        operation = f"kube-proxy {plan.new}"
        self._refuse_if_readonly(operation, [plan.host])
        details: dict[str, object] = {"file": plan.path, "from": plan.old, "to": plan.new}
        try:
            backup = await apply_to_host(self.hosts[plan.host], plan.new_text, now=self.clock())
        except (BackendError, ValidationError, OSError) as exc:
            self.audit.record(operation, [plan.host], ok=False, error=error_text(exc), details=details,
                              when=self.clock())
            raise
        details["backup"] = backup or "-"
        self.audit.record(operation, [plan.host], details=details, when=self.clock())
        await self.read_config(plan.host)
        return backup


# ---------------------------------------------------------------------- headless summary

async def summary(session: ClusterSession) -> dict[str, Any]:
    """One refresh of every host, as plain data for scripts (`k0s-tui --summary`-style output)."""
    await session.refresh_nodes()
    counts = session.counts()
    hosts = []
    for name in session.host_names:
        snap = session.nodes.get(name)
        hosts.append({
            "host": name,
            "address": session.spec(name).address,
            "role": session.spec(name).role,
            "state": snap.state.value if snap else "unknown",
            "version": snap.version if snap else None,
            "ready": snap.kube_ready if snap else None,
            "error": snap.error if snap else "",
        })
    newest = session.newest_backup()
    return {"cluster": session.name, **counts, "hosts": hosts,
            "newest_backup": newest.created.isoformat() if newest else None}


def format_summary(data: dict[str, Any]) -> str:
    """The summary as lines of plain text (control characters removed)."""
    clean = re.compile(r"[\x00-\x1f\x7f-\x9f]")
    lines = [f"cluster {data['cluster']}: {data['reachable']}/{data['total']} reachable, "
             f"controllers {data['controllers_running']}/{data['controllers']} running, "
             f"workers {data['workers_ready']}/{data['workers']} Ready"]
    for h in data["hosts"]:
        why = f" ({h['error']})" if h["error"] else ""
        lines.append(clean.sub("?", f"  {h['host']:<20} {h['role']:<18} {h['state']:<14} {h['version'] or '-'}{why}"))
    return "\n".join(lines) + "\n"

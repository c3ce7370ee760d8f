"""Cluster-aware service control: quorum-checked stop/restart, drain/uncordon, rolling restart.

``session.cluster`` (:class:`ClusterOpsService`). Every action goes through the session's
mutation gate; a quorum refusal raises :class:`~backends.session.quorum.QuorumRefused` (and is
audited as refused) unless ``force`` is given, and then the override is in the audit record.
Hosts k0sctl holds a lock on are never touched.

The rolling restart takes one host at a time, controllers first, and waits for each host to
pass its gates before the next starts: k0s running, the kube API answering, the controller back
in the etcd member list, a worker Ready again (then uncordoned). It stops at the first host that
does not come back within its deadline and leaves the rest untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from backends.errors import BackendError
from backends.k0s.certs import WARNING_DAYS
from backends.k0s.host import K0sHost
from backends.k0s.lock import K0SCTL_LOCK_PATHS
from backends.session.core import HostResult, SessionCore
from backends.session.nodes import NodesService
from backends.session.quorum import (Assessment, ClusterPicture, HostLocked, QuorumRefused, assess, known_picture,
                                     member_host, picture)

SERVICE_OPERATIONS = ("start", "stop", "restart")

ROLL_OPERATION = "rolling restart"
#: Gates checked before a host is touched: a failure there is a refusal (nothing was done).
REFUSAL_GATES = ("quorum", "k0sctl lock")
#: The gates a restarted host passes, in the order they are checked.
GATES = ("k0s running", "kube-api", "etcd member", "node Ready")

Progress = Callable[[str, int, int, str], None]


@dataclass
class RollStep:
    """One host's part of a rolling restart."""

    host: str
    ok: bool
    failed_gate: str = ""
    message: str = ""
    seconds: float = 0.0


@dataclass
class RollResult:
    """How a rolling restart went: the hosts done, where it stopped and why, what was left."""

    order: list[str]
    steps: list[RollStep] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        """Every host restarted and passed its gates."""
        return not self.cancelled and len(self.steps) == len(self.order) and all(s.ok for s in self.steps)

    @property
    def stopped_at(self) -> RollStep | None:
        """The host that did not come back (None when none failed)."""
        return next((s for s in self.steps if not s.ok), None)

    def summary(self) -> str:
        """One sentence for the activity panel and headless output."""
        done = [s.host for s in self.steps if s.ok]
        if (bad := self.stopped_at) is not None:
            rest = f"; left untouched: {', '.join(self.untouched)}" if self.untouched else ""
            return (f"rolling restart stopped at {bad.host}: {bad.message}"
                    f"{' (gate: ' + bad.failed_gate + ')' if bad.failed_gate else ''}; "
                    f"done: {', '.join(done) or 'none'}{rest}")
        if self.cancelled:
            return f"rolling restart cancelled after {', '.join(done) or 'no host'}; left: {', '.join(self.untouched)}"
        return f"rolling restart done: {', '.join(done)}"


class ClusterOpsService:
    """Quorum/health-aware start/stop/restart and the rolling restart."""

    def __init__(self, core: SessionCore, nodes: NodesService) -> None:
        self.core = core
        self.nodes = nodes
        #: Where k0sctl's lock is looked for (tests point this at their own files).
        self.lock_paths: tuple[str, ...] = K0SCTL_LOCK_PATHS
        #: Seconds a restarted host has to pass its gates.
        self.host_deadline: float = 300.0
        #: Seconds between gate checks.
        self.poll: float = 2.0
        #: The last etcd member list seen and the storage kind (for :meth:`assess_known`).
        self._known: tuple[list[tuple[str, str | None]], str] = ([], "unknown")

    # ------------------------------------------------------------------ assessment

    async def assess(self, operation: str, names: Sequence[str]) -> Assessment:
        """Fresh picture of the cluster and the verdict on ``operation`` over ``names``."""
        pic = await picture(self.core, self.nodes, list(names), lock_paths=self.lock_paths)
        if pic.storage != "unknown":
            self._known = (pic.members, pic.storage)
        return assess(pic, operation, list(names))

    def known_picture(self) -> ClusterPicture:
        """The cluster from what is known now (no I/O)."""
        members, storage = self._known
        return known_picture(self.core, self.nodes, members=members, storage=storage)

    def assess_known(self, operation: str, names: Sequence[str]) -> Assessment:
        """The verdict from what is known now (no I/O): for the confirm dialog. The action
        itself assesses again with fresh data (and k0sctl's locks) before it runs."""
        return assess(self.known_picture(), operation, list(names))

    def _refuse(self, operation: str, a: Assessment) -> None:
        try:
            self.core.audit.record(operation, a.hosts, ok=False, error=a.refusal,
                                   details=a.details(), when=self.core.clock())
        except OSError:
            pass  # refused either way
        raise QuorumRefused(", ".join(a.hosts), a.refusal + " (override: --force, or type "
                            "the confirmation in the console)")

    def kubectl_host(self, exclude: Sequence[str] = ()) -> K0sHost | None:
        """A controller running k0s (by the latest snapshots), not one of ``exclude``."""
        for name in self.core.controllers():
            snap = self.nodes.snapshot_of(name)
            if name not in exclude and snap is not None and snap.state.value == "running":
                return self.core.host(name)
        return None

    def kube_name(self, name: str) -> str:
        """The Kubernetes node name of host ``name`` (the inventory name unless a controller's
        node list knows it by its address)."""
        spec = self.core.spec(name)
        address = spec.address.rsplit(":", 1)[0] if spec.address.count(":") == 1 else spec.address
        for host in self.core.hosts.values():
            for node in host.last_kube_nodes or []:
                if node.name.lower() == name.lower():
                    return node.name
                if node.internal_ip and node.internal_ip == address:
                    return node.name
        return name

    # ------------------------------------------------------------------ service control

    async def service(self, operation: str, names: Sequence[str], *, force: bool = False,
                      drain: bool = False, assessment: Assessment | None = None) -> list[HostResult]:
        """start / stop / restart on ``names``, checked first (``assessment``, else a fresh one).

        Refused (QuorumRefused, audited) when a stop/restart would break etcd quorum, unless
        ``force`` (then audited as an override). Locked hosts are skipped (their result says why).
        ``drain``: Ready workers are drained before a stop/restart and uncordoned after a
        start/restart."""
        if operation not in SERVICE_OPERATIONS:
            raise ValueError(f"unknown service operation {operation!r}")
        if self.core.readonly:  # refused before any I/O, like every other change
            async with self.core.mutation(operation, names):
                pass
        a = assessment if assessment is not None else await self.assess(operation, names)
        if a.refused and not force:
            self._refuse(operation, a)
        details = a.details()
        if a.refused:
            details.update(force=True, override=a.refusal)
        if drain:
            details["drain"] = True
        skipped = [HostResult(h, False, error=reason, kind=HostLocked.kind) for h, reason in a.locked.items()]
        results: list[HostResult] = []
        if a.targets:
            async with self.core.mutation(operation, a.targets, details) as m:
                results = await self._run(operation, a, drain)
                m.results(results)
        for r in results:
            try:
                await self.nodes.refresh_one(r.host)
            except BackendError:
                pass
        by_host = {r.host: r for r in [*results, *skipped]}
        return [by_host[h] for h in names if h in by_host]

    async def _run(self, operation: str, a: Assessment, drain: bool) -> list[HostResult]:
        failed: dict[str, str] = {}
        to_drain = a.drainable if drain and operation in ("stop", "restart") else []
        if to_drain:
            kc = self.kubectl_host(exclude=a.targets)
            for h in to_drain:
                if kc is None:
                    failed[h] = "drain: no running controller outside this action to run kubectl on"
                    continue
                try:
                    await kc.drain(self.kube_name(h))
                except BackendError as exc:
                    failed[h] = f"drain failed, k0s left running: {exc.message}"
        go = [h for h in a.targets if h not in failed]
        results = await self.core.on_hosts(go, lambda host: getattr(host, operation)())
        if drain and operation in ("start", "restart"):
            await self.nodes.refresh(names=self.core.controllers())
            kc = self.kubectl_host()
            for r in results:
                if r.ok and self.core.spec(r.host).runs_workloads and kc is not None:
                    try:
                        await kc.uncordon(self.kube_name(r.host))
                    except BackendError as exc:
                        r.ok, r.error = False, f"{operation} ok, uncordon failed: {exc.message}"
        return [*results, *(HostResult(h, False, error=e) for h, e in failed.items())]

    # ------------------------------------------------------------------ rolling restart

    def roll_order(self, names: Sequence[str] | None = None) -> list[str]:
        """Controllers first (inventory order), then the workers, of ``names`` (default: all)."""
        wanted = list(self.core.hosts) if names is None else [n for n in self.core.hosts if n in set(names)]
        ctl = [n for n in wanted if self.core.spec(n).is_controller]
        return ctl + [n for n in wanted if n not in ctl]

    async def renew_candidates(self, within_days: float = WARNING_DAYS) -> list[str]:
        """Controllers with a leaf certificate expiring within ``within_days`` (scans the ones
        never scanned)."""
        now = self.core.clock()
        out = []
        certs_service = getattr(self.core, "certs", None)
        for name in self.core.controllers():
            if certs_service is None:
                continue
            certs = certs_service.of(name) if certs_service.scanned_at(name) else None
            if certs is None:
                try:
                    certs = await certs_service.scan(name)
                except BackendError:
                    continue
            left = [c.days_left_at(now) for c in certs if c.renewed_by_restart]
            if any(d is not None and d < within_days for d in left):
                out.append(name)
        return out

    async def rolling_restart(self, names: Sequence[str] | None = None, *, force: bool = False,
                              drain: bool = True, progress: Progress | None = None,
                              cancel: asyncio.Event | None = None, renew: bool = False,
                              operation: str = ROLL_OPERATION) -> RollResult:
        """Restart ``names`` (default: every host) one at a time, controllers first, each gated
        before the next (see the module docstring). ``progress(host, index, total, note)`` is
        called as each host goes through its steps; ``cancel`` set: stop after the current host.
        ``renew``: each controller's restart is a certificate renewal (re-scanned after)."""
        if self.core.readonly:
            async with self.core.mutation(operation, list(names or self.core.hosts)):
                pass
        order = self.roll_order(names)
        result = RollResult(order=order)
        loop = asyncio.get_running_loop()
        for i, name in enumerate(order):
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                result.untouched = order[i:]
                return result
            started = loop.time()
            note = (lambda text, _n=name, _i=i: progress(_n, _i, len(order), text)) if progress else (lambda text: None)
            note("checking quorum and locks")
            try:
                step = await self._roll_one(name, force=force, drain=drain, note=note, operation=operation,
                                            renew=renew)
            except BackendError as exc:
                step = RollStep(name, False, message=exc.message)
            step.seconds = loop.time() - started
            result.steps.append(step)
            note("back" if step.ok else f"FAILED: {step.message}")
            if not step.ok:
                result.untouched = order[i + 1:]
                return result
        return result

    async def _roll_one(self, name: str, *, force: bool, drain: bool,
                        note: Callable[[str], None], operation: str, renew: bool = False) -> RollStep:
        a = await self.assess("restart", [name])
        if name in a.locked:
            return RollStep(name, False, failed_gate="k0sctl lock", message=a.locked[name])
        if a.refused and not force:
            try:
                self._refuse(operation, a)
            except QuorumRefused as exc:
                return RollStep(name, False, failed_gate="quorum", message=exc.message)
        spec = self.core.spec(name)
        details = {**a.details(), "step": "restart", "drain": drain and bool(a.drainable)}
        if a.refused:
            details.update(force=True, override=a.refusal)
        async with self.core.mutation(operation, [name], details) as m:
            if drain and a.drainable:
                kc = self.kubectl_host(exclude=[name])
                if kc is None:
                    m.fail("no running controller to drain from")
                    return RollStep(name, False, failed_gate="drain", message=m.error)
                note("draining")
                await kc.drain(self.kube_name(name))
            certs = getattr(self.core, "certs", None)
            if renew and spec.is_controller and certs is not None:
                note("restarting k0s to renew its certificates")
                await certs.renew(name)  # its own gated record: nearest expiry before/after
            else:
                note("restarting k0s")
                await self.core.host(name).restart()
            note("waiting for it to come back")
            gate, why = await self._wait_back(name, note)
            if gate:
                m.fail(f"did not come back within {self.host_deadline:g}s: {gate}: {why}")
                return RollStep(name, False, failed_gate=gate,
                                message=f"did not come back within {self.host_deadline:g}s ({why})")
            if spec.runs_workloads and drain:
                kc = self.kubectl_host()
                if kc is not None:
                    note("uncordoning")
                    await kc.uncordon(self.kube_name(name))
        try:
            await self.nodes.refresh_one(name)
        except BackendError:
            pass
        return RollStep(name, True, message="back")

    async def _wait_back(self, name: str, note: Callable[[str], None]) -> tuple[str, str]:
        """Poll ``name``'s gates until all pass ("", "") or the deadline: (failed gate, why)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.host_deadline
        last = ("k0s running", "not checked yet")
        while True:
            last = await self._gates(name)
            if not last[0]:
                return last
            note(f"waiting: {last[0]} ({last[1]})")
            if loop.time() + self.poll > deadline:
                return last
            await asyncio.sleep(self.poll)

    async def _gates(self, name: str) -> tuple[str, str]:
        host = self.core.host(name)
        spec = host.spec
        try:
            status = await host.status()
        except BackendError as exc:
            return "k0s running", exc.message
        if status.kube_api_ok is False:
            return "kube-api", status.kube_api_error or "kube-api probe failing"
        if spec.is_controller:
            try:
                await host.kube_nodes(timeout=15.0)  # the API answers through this controller
            except BackendError as exc:
                return "kube-api", exc.message
            try:
                members = await host.etcd_members()
            except BackendError as exc:
                if "storage" not in exc.message.lower():  # kine: there is no member list
                    return "etcd member", exc.message
            else:
                if not any(member_host(self.core, m.name, m.peer_url) == name for m in members):
                    return "etcd member", f"{name} is not in the etcd member list"
        if spec.runs_workloads:
            kc = host if spec.is_controller else self.kubectl_host(exclude=[name])
            if kc is None:
                return "node Ready", "no running controller to ask"
            try:
                nodes = await kc.kube_nodes(timeout=15.0)
            except BackendError as exc:
                return "node Ready", exc.message
            kname = self.kube_name(name)
            node = next((n for n in nodes if n.name == kname), None)
            if node is None:
                return "node Ready", f"no node {kname} in the cluster"
            if not node.ready:
                return "node Ready", f"node {kname} is NotReady"
        return "", ""

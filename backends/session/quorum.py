"""What a stop / restart leaves running: etcd quorum, the API, Ready workers, k0sctl's locks.

:func:`assess` is pure: it takes a :class:`ClusterPicture` (the live etcd member list, each
controller's latest state, the Ready workers, the hosts k0sctl holds) and an action, and says
whether the action is refused (it would leave fewer than a quorum of running etcd members),
what the operator must read before confirming, and which hosts are left alone.
:func:`picture` gathers the picture from a session.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from backends.errors import BackendError
from backends.k0s.host import NodeSnapshot, ServiceState, apply_kube_readiness
from backends.k0s.lock import K0SCTL_LOCK_PATHS, HostLock, k0sctl_lock
from backends.session.core import SessionCore

#: Operations that take k0s down on their hosts (a restart does, for a while).
DISRUPTIVE = ("stop", "restart")
#: What the operator types to override a quorum refusal in the console.
OVERRIDE_WORD = "break quorum"


class QuorumRefused(BackendError):
    """The action would leave etcd without a quorum of running members (override: --force)."""

    kind = "quorum"


class HostLocked(BackendError):
    """k0sctl is working on the host: it is not touched."""

    kind = "k0sctl-lock"


@dataclass
class ClusterPicture:
    """The cluster as the assessment sees it."""

    #: Controller host name -> k0s running there (latest snapshot).
    controllers: dict[str, bool] = field(default_factory=dict)
    #: etcd members mapped to inventory hosts (None: the member is not in the inventory).
    members: list[tuple[str, str | None]] = field(default_factory=list)
    #: "etcd", "kine" (SQLite/external DB, no member list) or "unknown" (no controller answered).
    storage: str = "unknown"
    member_error: str = ""
    #: Workload hosts -> Ready in Kubernetes (None: not known).
    workers: dict[str, bool | None] = field(default_factory=dict)
    locks: dict[str, HostLock] = field(default_factory=dict)


@dataclass
class Assessment:
    """The verdict on one action, with the words the confirm dialog and headless output show."""

    operation: str
    hosts: list[str]
    targets: list[str]
    refusal: str = ""
    notes: list[str] = field(default_factory=list)
    locked: dict[str, str] = field(default_factory=dict)
    etcd_members: int = 0
    etcd_running: int = 0
    etcd_down: int = 0
    quorum: int = 0
    workers_ready: int = 0
    workers_ready_after: int = 0
    #: Ready workers this action takes down: what a drain would cordon and evict first.
    drainable: list[str] = field(default_factory=list)
    #: Targets that run workloads (a start can uncordon them afterwards).
    workload_targets: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """True when the action would break etcd quorum (only an explicit override goes on)."""
        return bool(self.refusal)

    def lines(self) -> list[str]:
        """Everything to read before confirming, one statement a line."""
        out = [self.refusal] if self.refusal else []
        out += self.notes
        out += list(self.locked.values())
        return out

    def details(self) -> dict[str, object]:
        """The audit record's view of the assessment."""
        d: dict[str, object] = {"etcd_members": self.etcd_members, "etcd_running": self.etcd_running,
                                "etcd_down": self.etcd_down, "quorum": self.quorum}
        if self.locked:
            d["skipped_k0sctl_lock"] = sorted(self.locked)
        return d


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def assess(picture: ClusterPicture, operation: str, hosts: list[str]) -> Assessment:
    """The verdict on ``operation`` (start/stop/restart) over ``hosts`` given ``picture``."""
    targets = [h for h in hosts if h not in picture.locks]
    a = Assessment(operation, list(hosts), targets,
                   locked={h: picture.locks[h].reason(h) for h in hosts if h in picture.locks})
    a.workload_targets = [h for h in targets if h in picture.workers]
    if operation not in DISRUPTIVE:
        return a
    verb = "stopping" if operation == "stop" else "restarting"
    down_ctl = [h for h in targets if picture.controllers.get(h)]
    if picture.storage == "etcd" and picture.members:
        a.etcd_members = len(picture.members)
        a.quorum = a.etcd_members // 2 + 1
        running_members = [h for _m, h in picture.members if h is not None and picture.controllers.get(h)]
        a.etcd_running = len(running_members)
        target_set = set(targets)
        a.etcd_down = len([h for h in running_members if h in target_set])
        left = a.etcd_running - a.etcd_down
        unmapped = sum(1 for _m, h in picture.members if h is None)
        if a.etcd_down and left < a.quorum:
            a.refusal = (f"refused: etcd has {_plural(a.etcd_members, 'member')}, {a.etcd_running} running; "
                         f"{verb} {', '.join(h for h in running_members if h in target_set)} takes "
                         f"{a.etcd_down} down, leaving {left} — a quorum needs {a.quorum}. "
                         f"Without quorum the API stops answering.")
        elif a.etcd_down:
            a.notes.append(f"etcd: {a.etcd_running} of {a.etcd_members} members running; {verb} takes "
                           f"{a.etcd_down} down, leaving {left} (a quorum needs {a.quorum})")
        if unmapped:
            a.notes.append(f"etcd: {_plural(unmapped, 'member')} not in the inventory, counted as not running")
    elif down_ctl:
        running = [h for h, up in picture.controllers.items() if up]
        if len(set(running) - set(down_ctl)) == 0:
            kind = ("single controller with kine/SQLite" if picture.storage == "kine" and len(picture.controllers) == 1
                    else "every running controller")
            a.notes.append(f"{kind}: {verb} {', '.join(down_ctl)} is a FULL OUTAGE of the Kubernetes API "
                           "(workloads keep running, nothing can be changed or scheduled)")
        if picture.member_error and picture.storage == "unknown":
            a.notes.append(f"etcd quorum unknown: {picture.member_error}")
    workers = picture.workers
    if any(h in workers for h in targets):
        a.workers_ready = sum(1 for r in workers.values() if r)
        a.drainable = [h for h in targets if workers.get(h)]
        a.workers_ready_after = a.workers_ready - len(a.drainable)
        a.notes.append(f"Ready workers: {a.workers_ready} of {len(workers)} now, {a.workers_ready_after} "
                       f"while {verb} lasts" + (f"; drain first moves pods off {', '.join(a.drainable)}"
                                                if a.drainable else ""))
    return a


def member_host(session: SessionCore, name: str, peer_url: str) -> str | None:
    """The inventory controller an etcd member is (by name, else by its peer URL's address)."""
    host_part = peer_url.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]").lower()
    for h in session.controllers():
        spec = session.spec(h)
        address = spec.address.rsplit(":", 1)[0] if spec.address.count(":") == 1 else spec.address
        if h.lower() == name.lower() or address.strip("[]").lower() == host_part:
            return h
    return None


def known_picture(session: SessionCore, nodes, *, members: list[tuple[str, str | None]] | None = None,
                  storage: str = "unknown") -> ClusterPicture:
    """The picture from what is already known (latest snapshots, the last member list): no
    I/O, for a dialog that must open at once. Without a member list, an etcd cluster of more
    than one controller is assumed to have every inventory controller as a member."""
    pic = ClusterPicture(storage=storage, members=list(members or []))
    for h in session.controllers():
        snap = nodes.snapshot_of(h)
        pic.controllers[h] = snap is not None and snap.state is ServiceState.RUNNING
    if pic.storage == "unknown" and len(pic.controllers) > 1:
        pic.storage, pic.members = "etcd", [(h, h) for h in pic.controllers]
    # Worker readiness as the API last said (hosts not refreshed lately included).
    kube = next((session.host(h).last_kube_nodes for h, up in pic.controllers.items()
                 if up and session.host(h).last_kube_nodes), None)
    probes = [NodeSnapshot(name=h, address=host.spec.address, role=host.spec.role, state=ServiceState.RUNNING)
              for h, host in session.hosts.items() if host.spec.runs_workloads]
    if kube:
        apply_kube_readiness(probes, kube)  # one pass: the node map is built once
    for probe in probes:
        snap = nodes.snapshot_of(probe.name)
        stopped = snap is not None and snap.state is not ServiceState.RUNNING
        pic.workers[probe.name] = False if stopped else probe.kube_ready
    return pic


async def picture(session: SessionCore, nodes, hosts: list[str], *,
                  lock_paths: tuple[str, ...] = K0SCTL_LOCK_PATHS) -> ClusterPicture:
    """Fresh states of every controller and of ``hosts``, the etcd member list from a running
    controller, worker readiness, and k0sctl's locks on ``hosts``. ``nodes``: the NodesService."""
    # Hosts of unknown role (--ssh, local) say what they are in their status.
    unknown = [h for h in session.hosts if session.spec(h).role == "unknown"]
    if unknown:
        await nodes.refresh(names=unknown)
    # Always a fresh answer (a periodic refresh in flight would make refresh() skip a host).
    await asyncio.gather(*(nodes.refresh_one(h) for h in dict.fromkeys([*session.controllers(), *hosts])),
                         return_exceptions=True)
    pic = known_picture(session, nodes)
    pic.storage, pic.members = "unknown", []
    for h in [c for c, up in pic.controllers.items() if up]:
        try:
            members = await session.host(h).etcd_members()
        except BackendError as exc:
            pic.member_error = exc.message
            if "storage" in exc.message.lower() or "kine" in exc.message.lower():
                pic.storage = "kine"
                break
            continue
        pic.storage = "etcd"
        pic.members = [(m.name, member_host(session, m.name, m.peer_url)) for m in members]
        break

    async def lock_of(name: str) -> tuple[str, HostLock | None]:
        host = session.host(name)
        try:
            return name, await k0sctl_lock(host.transport, paths=lock_paths, sudo=host.sudo)
        except (BackendError, OSError):
            return name, None

    for name, lock in await asyncio.gather(*(lock_of(h) for h in hosts)):
        if lock is not None:
            pic.locks[name] = lock
    return pic

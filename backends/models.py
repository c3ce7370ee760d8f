"""Data types shared by parsers, adapters, widgets and the app (plain dataclasses).

The ones a fleet holds by the ten thousand (probes, images, containers, kube nodes) have
slots: no per-instance dict, a third of the memory, one object fewer for the collector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

ProbeStatus = Literal["pass", "warning", "rejected", "error"]
#: Order of badness, for "worst status" folds.
STATUS_RANK: dict[str, int] = {"pass": 0, "warning": 1, "rejected": 2, "error": 3}


@dataclass
class K0sStatus:
    """`k0s status` in any of its forms (text v1.21 / v1.22+, JSON, YAML)."""

    version: str
    pid: int | None
    role: str  # "controller", "worker", "controller+worker", "single"
    workloads: bool = False
    single_node: bool = False
    init_system: str | None = None
    service_file: str | None = None
    kube_api_ok: bool | None = None
    kube_api_error: str = ""
    args: list[str] = field(default_factory=list)
    ppid: int | None = None
    raw: str = ""

    @property
    def is_controller(self) -> bool:
        return self.role.startswith("controller") or self.role == "single"


@dataclass(frozen=True, slots=True)
class SysinfoProbe:
    """One line of `k0s sysinfo` (immutable: hosts with the same result share one)."""

    path: tuple[str, ...]  # names from the root, last element is this probe's name
    name: str
    value: str
    status: ProbeStatus
    message: str = ""

    @property
    def depth(self) -> int:
        return len(self.path) - 1


@dataclass
class SysinfoReport:
    """All probes of one `k0s sysinfo` run, in output order."""

    probes: list[SysinfoProbe]
    status: ProbeStatus  # worst over probes ("pass" when empty)
    format: str = "text"  # "text", "json", "legacy"

    def counts(self) -> dict[str, int]:
        """Number of probes per status."""
        out = {"pass": 0, "warning": 0, "rejected": 0, "error": 0}
        for p in self.probes:
            out[p.status] += 1
        return out


@dataclass(slots=True)
class Image:
    """One row of `ctr images list` (or containerd's Images service). The ctr parser gives
    equal rows (the same image on many hosts) one shared object: never mutate one."""

    ref: str
    media_type: str
    digest: str
    size_bytes: int
    platforms: tuple[str, ...] = ()
    #: Parsers share one dict between equal label sets (every host has them): never mutate it.
    labels: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None


@dataclass(slots=True)
class ImageGroup:
    """Image refs sharing one digest (`name:tag`, `name@sha256:…`, bare `sha256:…`)."""

    digest: str
    refs: list[Image]

    @property
    def primary(self) -> Image:
        """The most readable ref: a tagged name, else a digest ref, else the bare id."""
        def rank(img: Image) -> int:
            if img.ref.startswith("sha256:"):
                return 2
            if "@sha256:" in img.ref:
                return 1
            return 0
        return sorted(self.refs, key=rank)[0]


@dataclass(slots=True)
class Container:
    """A running (or stopped) container on a node."""

    id: str
    name: str
    image: str
    state: str
    pod: str = ""
    namespace: str = ""
    created: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    #: "container", or "sandbox" for a CRI pod sandbox (listed by the gRPC backend).
    kind: str = "container"


@dataclass(frozen=True, slots=True)
class Mount:
    """One mount of a container: where it is seen inside, what it shows, read-only or not."""

    container_path: str
    host_path: str
    readonly: bool = False


@dataclass(slots=True)
class ContainerDetails:
    """A container's runtime status (CRI ContainerStatus, or `ctr containers info`)."""

    id: str
    name: str
    image: str
    state: str
    source: str  # "CRI ContainerStatus" / "ctr containers info"
    image_ref: str = ""  # what the runtime resolved the image to (an image id or digest)
    created: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    exit_code: int | None = None
    restart_count: int | None = None
    pod: str = ""
    namespace: str = ""
    kind: str = "container"
    reason: str = ""
    message: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    mounts: list[Mount] = field(default_factory=list)


@dataclass
class EtcdMember:
    """One member of `k0s etcd member-list`."""

    name: str
    peer_url: str


@dataclass(frozen=True, slots=True)
class NodeCondition:
    """One of a node's ``status.conditions`` (Ready, MemoryPressure, …)."""

    type: str
    status: str  # "True", "False" or "Unknown"
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None
    last_heartbeat: datetime | None = None


@dataclass(slots=True)
class KubeNode:
    """One node of `kubectl get nodes -o json`."""

    name: str
    ready: bool
    roles: list[str] = field(default_factory=list)
    kubelet_version: str = ""
    internal_ip: str = ""
    os_image: str = ""
    kernel_version: str = ""
    container_runtime: str = ""
    created: datetime | None = None
    conditions: list[NodeCondition] = field(default_factory=list)

    @property
    def not_ready_reason(self) -> str:
        """Why the node is not Ready (its Ready condition's reason and message, then any
        pressure condition that is True); "" when it is Ready."""
        if self.ready:
            return ""
        why = [": ".join(x for x in (c.reason or f"Ready={c.status}", c.message) if x)
               for c in self.conditions if c.type == "Ready"]
        why += [c.type for c in self.conditions
                if c.type != "Ready" and c.status == "True" and c.type.endswith(("Pressure", "Unavailable"))]
        return "; ".join(why) or "no Ready condition"


@dataclass
class PullProgress:
    """A pull's progress, per layer (``layers``: ref/digest -> (done, total))."""

    image: str
    status: str
    done: int = 0
    total: int | None = None
    layers: dict[str, tuple[int, int | None]] = field(default_factory=dict)
    line: str = ""

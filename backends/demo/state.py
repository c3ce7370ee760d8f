"""The simulated cluster's state: nodes, images, containers, times; built from a seed, JSON round-trip.

Everything here is plain data. Behaviour (answering commands) lives in :mod:`backends.demo.commands`,
certificates in :mod:`backends.demo.pki`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone

from backends.demo.formats import as_utc

Clock = Callable[[], datetime]

CURRENT_VERSION = "v1.33.3+k0s.0"
OLD_VERSION = "v1.31.9+k0s.0"
DATA_DIR = "/var/lib/k0s"
CONFIG_PATH = "/etc/k0s/k0s.yaml"
MANAGED = {"io.cri-containerd.image": "managed"}
INDEX = "application/vnd.oci.image.index.v1+json"
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"

# System images by k0s minor version: (name, tag, size in bytes, platforms).
_SYSTEM_IMAGES: dict[str, list[tuple[str, str, int]]] = {
    "1.33": [
        ("quay.io/k0sproject/kube-proxy", "v1.33.3", 31_876_540),
        ("quay.io/k0sproject/coredns", "1.12.2", 21_432_118),
        ("quay.io/k0sproject/kube-router", "v2.5.0-iptables1.8.11-0", 43_011_907),
        ("quay.io/k0sproject/cni-node", "1.7.1-k0s.0", 9_321_660),
        ("quay.io/k0sproject/pause", "3.10.1", 320_368),
        ("quay.io/k0sproject/metrics-server", "v0.7.2-0", 19_611_003),
        ("quay.io/k0sproject/apiserver-network-proxy-agent", "v0.32.0", 8_912_441),
        ("quay.io/k0sproject/envoy-distroless", "v1.31.5", 27_204_315),
    ],
    "1.31": [
        ("quay.io/k0sproject/kube-proxy", "v1.31.9", 30_412_877),
        ("quay.io/k0sproject/coredns", "1.11.4", 18_334_095),
        ("quay.io/k0sproject/kube-router", "v2.2.1-iptables1.8.9-0", 41_870_224),
        ("quay.io/k0sproject/cni-node", "1.3.0-k0s.0", 8_995_112),
        ("quay.io/k0sproject/pause", "3.9", 321_520),
        ("quay.io/k0sproject/metrics-server", "v0.7.1-0", 19_002_871),
        ("quay.io/k0sproject/apiserver-network-proxy-agent", "v0.30.3", 8_701_339),
        ("quay.io/k0sproject/envoy-distroless", "v1.29.9", 26_388_014),
    ],
}
# Workloads some workers happen to run.
_WORKLOAD_IMAGES = [
    ("docker.io/library/nginx", "1.27.3", 72_139_800),
    ("docker.io/library/redis", "7.4.1", 45_210_633),
    ("ghcr.io/stefanprodan/podinfo", "6.7.1", 11_804_210),
    ("docker.io/grafana/grafana", "11.3.1", 128_734_901),
    ("registry.k8s.io/ingress-nginx/controller", "v1.11.3", 108_227_510),
]
# Containers k0s runs on every worker (image name -> container name), plus the pod sandboxes.
_SYSTEM_CONTAINERS = [("kube-proxy", "kube-proxy"), ("kube-router", "kube-router"),
                      ("apiserver-network-proxy-agent", "konnectivity-agent")]


def digest_of(*parts: object) -> str:
    """A stable ``sha256:<hex>`` from ``parts``."""
    return "sha256:" + hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def image_records(name: str, tag: str, size: int, *, multiarch: bool = True,
                  labels: dict[str, str] | None = None) -> list[dict]:
    """The three refs CRI keeps for one image: ``name:tag``, ``name@sha256:…``, bare config id.

    Every node holding the image shares the same records (2,000 nodes x 30 refs would be
    60,000 dicts otherwise): whoever changes one replaces it with its own copy first
    (``Ctr.label``)."""
    return list(_shared_records(name, tag, size, multiarch,
                                tuple(sorted((labels if labels is not None else MANAGED).items()))))


@functools.lru_cache(maxsize=1024)
def _shared_records(name: str, tag: str, size: int, multiarch: bool,
                    labels: tuple[tuple[str, str], ...]) -> tuple[dict, ...]:
    digest = digest_of(name, tag, "manifest")
    config_id = digest_of(name, tag, "config")
    platforms = ["linux/amd64", "linux/arm64", "linux/arm/v7"] if multiarch else ["linux/amd64"]
    base = {"media_type": INDEX if multiarch else MANIFEST, "digest": digest, "size": size,
            "platforms": platforms}
    refs = [f"{name}:{tag}", f"{name}@{digest}", config_id]
    return tuple({"ref": r, **base, "labels": dict(labels)} for r in refs)


def minor_of(version: str) -> str:
    """``v1.33.3+k0s.0`` -> ``1.33``."""
    return ".".join(version.lstrip("v").split(".")[:2])


@dataclass
class DemoNode:
    """One simulated host with k0s on it."""

    name: str
    role: str  # "controller" or "worker"
    address: str
    version: str
    running: bool = True
    installed: bool = True
    pid: int = 0
    boot_time: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    #: Bumped each time k0s starts: the leaf certificates are re-issued then.
    cert_generation: int = 0
    init_system: str = "systemd"  # or "openrc"
    os_image: str = "Debian GNU/Linux 12 (bookworm)"
    kernel: str = "6.1.0-28-amd64"
    memory_bytes: int = 8 << 30
    disk_total_kib: int = 102_687_672
    disk_free_kib: int = 82_876_543
    containerd_version: str = "v1.7.27"
    #: "" or "cgroups": which sysinfo probes this host fails.
    sysinfo_fault: str = ""
    #: Whether the kernel offers the IPVS modules (kube-proxy's ipvs mode needs them).
    ipvs_modules: bool = True
    #: Seconds after a start before the kube API answers through this controller (a slow one).
    api_delay_seconds: float = 0.0
    #: kubectl calls still refused after the last start (a slow controller under a frozen clock).
    api_refusals_left: int = 0
    #: The kubelet fails after a restart (the rejected `pids` cgroup): the node stays NotReady.
    kubelet_failed: bool = False
    #: Cordoned (`kubectl cordon`/`drain`): no new pods are scheduled here.
    unschedulable: bool = False
    images: list[dict] = field(default_factory=list)
    containers: list[dict] = field(default_factory=list)
    #: Files written onto the host (by write_file_atomic, backup --save-path, restore): path -> bytes.
    files: dict[str, bytes] = field(default_factory=dict)
    #: Certificates and keys of the current generation (path -> PEM text), filled lazily.
    pki: dict[str, str] = field(default_factory=dict)

    @property
    def is_controller(self) -> bool:
        return self.role.startswith("controller")

    @property
    def service(self) -> str:
        return "k0scontroller" if self.is_controller else "k0sworker"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["boot_time"] = self.boot_time.isoformat()
        d["started_at"] = self.started_at.isoformat()
        d["files"] = {k: base64.b64encode(v).decode() for k, v in self.files.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "DemoNode":
        d = dict(d)
        d["boot_time"] = as_utc(datetime.fromisoformat(d["boot_time"]))
        d["started_at"] = as_utc(datetime.fromisoformat(d["started_at"]))
        d["files"] = {k: base64.b64decode(v) for k, v in d.get("files", {}).items()}
        return cls(**d)


def _address(role: str, i: int, controllers: int) -> str:
    if role == "controller":
        return f"10.0.0.{10 + i}" if i <= 9 else f"10.0.2.{i}"
    return f"10.0.0.{20 + i}" if i <= 200 and controllers <= 9 else f"10.0.{1 + (i - 1) // 250}.{(i - 1) % 250 + 1}"


def _pid(rng: random.Random) -> int:
    return rng.randint(900, 65000)


def build_nodes(rng: random.Random, now: datetime, controllers: int, workers: int) -> list[DemoNode]:
    """The default cast: one worker on an older k0s, one failing sysinfo, one stopped on OpenRC,
    and one controller running for 360 days (its leaf certificates expire within days)."""
    nodes: list[DemoNode] = []
    for i in range(1, controllers + 1):
        up_days = 360 if (i == controllers and controllers > 1) else rng.randint(8, 60)
        started = now - timedelta(days=up_days, seconds=rng.randint(0, 80000))
        node = DemoNode(name=f"controller-{i}", role="controller", address=_address("controller", i, controllers),
                        version=CURRENT_VERSION, pid=_pid(rng),
                        boot_time=started - timedelta(seconds=rng.randint(40, 400)), started_at=started,
                        memory_bytes=rng.choice([4, 8]) << 30, containerd_version="v1.7.27",
                        ipvs_modules=not (i == 2 and controllers > 1),
                        api_delay_seconds=4.0 if (i == 2 and controllers > 1) else 0.0)
        nodes.append(node)
    old = 3 if workers >= 3 else 0
    failing = 4 if workers >= 4 else 0
    stopped = 5 if workers >= 5 else 0
    for i in range(1, workers + 1):
        started = now - timedelta(days=rng.randint(2, 45), seconds=rng.randint(0, 80000))
        node = DemoNode(name=f"worker-{i}", role="worker", address=_address("worker", i, controllers),
                        version=OLD_VERSION if i == old else CURRENT_VERSION, pid=_pid(rng),
                        boot_time=started - timedelta(seconds=rng.randint(40, 400)), started_at=started,
                        memory_bytes=rng.choice([8, 16, 32]) << 30,
                        containerd_version="v1.7.22" if i == old else "v1.7.27")
        if i % 3 == 2:
            node.os_image, node.kernel = "Ubuntu 24.04.1 LTS", "6.8.0-49-generic"
        if i == failing:
            node.sysinfo_fault = "cgroups"
            node.memory_bytes = 1_932_735_283  # 1.8 GiB: below k0s's 2 GiB recommendation
            node.disk_total_kib, node.disk_free_kib = 20_511_312, 1_363_148  # a small, nearly full disk
        if i == stopped:
            node.running = False
            node.init_system = "openrc"
            node.os_image, node.kernel = "Alpine Linux v3.20", "6.6.58-0-lts"
        nodes.append(node)
    for node in nodes:
        _stock_images(node, rng)
    _drop_one_image(nodes)
    return nodes


def _drop_one_image(nodes: list[DemoNode]) -> None:
    """One node lacks one image its config needs (what the airgap diff is for)."""
    from backends.demo.autopilot import LACKING

    for node in nodes:
        name = LACKING.get(node.name)
        if name:
            gone = {img["digest"] for img in node.images if img["ref"].startswith(name + ":")}
            node.images = [img for img in node.images if img["digest"] not in gone]


def _stock_images(node: DemoNode, rng: random.Random) -> None:
    """System images (by the node's k0s minor), workloads on workers, and running containers."""
    images = _SYSTEM_IMAGES.get(minor_of(node.version), _SYSTEM_IMAGES["1.33"])
    for name, tag, size in images:
        if node.is_controller and name.rsplit("/", 1)[-1] in ("coredns", "metrics-server"):
            continue
        node.images += image_records(name, tag, size)
    if node.is_controller:
        return
    for name, tag, size in rng.sample(_WORKLOAD_IMAGES, rng.randint(1, 3)):
        node.images += image_records(name, tag, size)
    tagged = [img for img in node.images if "@" not in img["ref"] and not img["ref"].startswith("sha256:")]
    pause = next(img["ref"] for img in tagged if "/pause:" in img["ref"])
    wanted = list(_SYSTEM_CONTAINERS)
    if rng.random() < 0.5:
        wanted.append(("coredns", "coredns"))
    if rng.random() < 0.4:
        wanted.append(("metrics-server", "metrics-server"))
    for img in tagged:
        if img["ref"].startswith(tuple(n for n, _t, _s in _WORKLOAD_IMAGES)):
            wanted.append((img["ref"].split(":")[0].rsplit("/", 1)[-1], img["ref"].split(":")[0].rsplit("/", 1)[-1]))
    for short, cname in wanted:
        ref = next((img["ref"] for img in tagged if img["ref"].split(":")[0].endswith("/" + short)), None)
        if ref is None:
            continue
        # Pods as a kubelet names them: DaemonSets (system) get a node suffix, workloads a
        # ReplicaSet hash; hashed from names, not drawn from rng (the seeded layout stays).
        suffix = hashlib.sha256(f"{node.name}/{cname}".encode()).hexdigest()
        system = (short, cname) in _SYSTEM_CONTAINERS or cname in ("coredns", "metrics-server")
        pod = f"{cname}-{suffix[:5]}" if system else f"{cname}-{suffix[:10]}-{suffix[10:15]}"
        namespace = "kube-system" if system else "default"
        for image, kind in ((pause, "sandbox"), (ref, cname)):
            node.containers.append({
                "id": hashlib.sha256(f"{node.name}/{cname}/{kind}/{rng.random()}".encode()).hexdigest(),
                "image": image, "pid": rng.randint(1000, 60000), "state": "running", "name": kind,
                "pod": pod, "namespace": namespace,
            })


@dataclass
class ClusterSettings:
    """Cluster-wide facts (JSON-serialised with the nodes)."""

    name: str
    seed: int
    storage: str
    created: datetime
    api_address: str
    #: Seconds a simulated `ctr images pull` takes to stream its progress.
    pull_duration: float = 1.6
    #: Whether the cluster runs k0s autopilot (the Plan CRD exists; one plan is in progress).
    autopilot: bool = True


def settings_to_dict(s: ClusterSettings) -> dict:
    d = asdict(s)
    d["created"] = s.created.isoformat()
    return d


def settings_from_dict(d: dict) -> ClusterSettings:
    d = dict(d)
    d["created"] = as_utc(datetime.fromisoformat(d["created"]))
    return ClusterSettings(**d)


def dump_state(settings: ClusterSettings, nodes: list[DemoNode], ca: dict[str, str]) -> str:
    """The whole cluster as JSON text."""
    return json.dumps({"format": 1, "settings": settings_to_dict(settings),
                       "nodes": [n.to_dict() for n in nodes], "ca": ca}, indent=1, sort_keys=True)


def load_state(text: str) -> tuple[ClusterSettings, list[DemoNode], dict[str, str]]:
    """Inverse of :func:`dump_state`."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("format") != 1:
        raise ValueError("not a k0s-tui demo cluster state (format 1)")
    return (settings_from_dict(data["settings"]), [DemoNode.from_dict(n) for n in data["nodes"]],
            dict(data.get("ca", {})))

"""DemoCluster: the simulated k0s cluster (state, virtual files, JSON round-trip)."""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta, timezone
from posixpath import normpath

from backends.demo import pki
from backends.demo.formats import as_utc, go_json, proc_uptime, rfc3339
from backends.demo.state import (
    CONFIG_PATH,
    DATA_DIR,
    Clock,
    ClusterSettings,
    DemoNode,
    build_nodes,
    dump_state,
    load_state,
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DemoCluster:
    """A deterministic simulated k0s cluster.

    ``seed`` fixes every random choice; ``clock`` is "now" (default: real time), so a frozen
    clock gives the same cluster every time. Nodes are ``controller-1…`` and ``worker-1…``.
    Certificates are made on first use, per controller.
    """

    def __init__(self, seed: int = 7, controllers: int = 3, workers: int = 5, name: str = "demo", *,
                 storage: str = "etcd", clock: Clock | None = None, pull_duration: float = 1.6,
                 autopilot: bool = True,
                 _state: tuple[ClusterSettings, list[DemoNode], dict[str, str]] | None = None) -> None:
        if storage not in ("etcd", "kine"):
            raise ValueError(f"storage must be 'etcd' or 'kine', not {storage!r}")
        self.clock: Clock = clock or _utcnow
        if _state is not None:
            self.settings, nodes, self._ca = _state
        else:
            if controllers < 1 or workers < 0:
                raise ValueError("a demo cluster needs at least one controller and no negative workers")
            now = self.now()
            rng = random.Random(seed)
            created = (now - timedelta(days=rng.randint(420, 700))).replace(microsecond=0)
            nodes = build_nodes(rng, now, controllers, workers)
            self.settings = ClusterSettings(name=name, seed=seed, storage=storage, created=created,
                                            api_address=nodes[0].address, pull_duration=pull_duration,
                                            autopilot=autopilot)
            self._ca = {}
        self.nodes: dict[str, DemoNode] = {n.name: n for n in nodes}
        self._controllers_cache: tuple[tuple[int, int], list[DemoNode]] | None = None

    # ------------------------------------------------------------------ basics

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def seed(self) -> int:
        return self.settings.seed

    @property
    def storage(self) -> str:
        return self.settings.storage

    def now(self) -> datetime:
        """The cluster's notion of now (aware UTC)."""
        return as_utc(self.clock())

    def node(self, name: str) -> DemoNode:
        """The node called ``name`` (KeyError when unknown)."""
        return self.nodes[name]

    @property
    def controllers(self) -> list[DemoNode]:
        # Asked once per host per refresh (is the API up?): on a 2,000-node demo a scan of every
        # node each time is quadratic. Roles never change; the node set is checked by identity.
        key = (id(self.nodes), len(self.nodes))
        cached = self._controllers_cache
        if cached is None or cached[0] != key:
            cached = (key, [n for n in self.nodes.values() if n.is_controller])
            self._controllers_cache = cached
        return list(cached[1])

    @property
    def workers(self) -> list[DemoNode]:
        return [n for n in self.nodes.values() if not n.is_controller]

    def api_answers_on(self, node: DemoNode) -> bool:
        """Whether the kube API answers a kubectl call through controller ``node``. A slow one
        refuses for ``api_delay_seconds`` after its start (or, under a clock that does not move,
        its first few calls). Each refused call counts."""
        if not node.running:
            return False
        if node.api_refusals_left <= 0:
            return True
        if (self.now() - node.started_at).total_seconds() >= node.api_delay_seconds:
            node.api_refusals_left = 0
            return True
        node.api_refusals_left -= 1
        return False

    def api_up(self) -> bool:
        """True while any controller runs k0s (the kube API answers)."""
        return any(c.running for c in self.controllers)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> str:
        """The whole state (settings, nodes, generated certificates) as JSON text."""
        return dump_state(self.settings, list(self.nodes.values()), self._ca)

    @classmethod
    def from_json(cls, text: str, *, clock: Clock | None = None) -> "DemoCluster":
        """A cluster from :meth:`to_json` text (ValueError when it is not one)."""
        try:
            state = load_state(text)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a demo cluster state: {exc}") from exc
        return cls(clock=clock, _state=state)

    # ------------------------------------------------------------------ lifecycle

    def new_pid(self, node: DemoNode) -> int:
        """A believable pid for ``node``'s next start (deterministic per generation)."""
        h = hashlib.sha256(f"{self.seed}/{node.name}/pid/{node.cert_generation}".encode()).digest()
        return 900 + int.from_bytes(h[:4], "big") % 64000

    def stop(self, node: DemoNode) -> None:
        """k0s (and the containerd it runs) stops; kubelet stops posting status."""
        node.running = False
        for c in node.containers:
            c["state"] = "stopped"

    def start(self, node: DemoNode) -> None:
        """k0s starts: new pid, leaf certificates re-issued for a year from now."""
        node.running = True
        node.cert_generation += 1
        node.started_at = self.now().replace(microsecond=0)
        node.pid = self.new_pid(node)
        node.pki = {}
        # k0s's kubelet cannot run without the pids cgroup sysinfo rejects: NotReady from now on.
        node.kubelet_failed = node.sysinfo_fault == "cgroups"
        node.api_refusals_left = 3 if node.api_delay_seconds else 0
        # Leaf certificates restored from a backup are replaced too; CAs stay.
        leaves = {f"{DATA_DIR}/pki/{p}" for leaf in pki.LEAVES for p in (leaf, leaf[:-4] + ".key")}
        for path in leaves | {f"{DATA_DIR}/pki/admin.conf"}:
            node.files.pop(path, None)
        for c in node.containers:
            c["state"] = "running"

    # ------------------------------------------------------------------ PKI

    def ca_files(self) -> dict[str, str]:
        """The cluster CAs (generated on first use)."""
        if not self._ca:
            self._ca = pki.make_cas(self.seed, self.settings.created, self.storage)
        return self._ca

    def pki_files(self, node: DemoNode) -> dict[str, str]:
        """``node``'s PKI (path relative to ``pki/`` -> PEM text); empty for workers."""
        if not node.is_controller:
            return {}
        if not node.pki:
            cas = self.ca_files()
            leaves = pki.make_leaves(self.seed, cas, node=node.name, address=node.address,
                                     api_address=self.settings.api_address, issued=node.started_at,
                                     generation=node.cert_generation, storage=self.storage)
            node.pki = {**cas, **leaves}
        return node.pki

    # ------------------------------------------------------------------ virtual files

    def config(self) -> dict:
        """The controllers' ClusterConfig (what /etc/k0s/k0s.yaml holds, and `k0s status -o json`
        embeds: built as data, so a status answer needs no YAML parser)."""
        api = self.settings.api_address
        storage = ({"type": "etcd", "etcd": {"peerAddress": api}} if self.storage == "etcd" else
                   {"type": "kine", "kine": {"dataSource": "sqlite:///var/lib/k0s/db/state.db?mode=rwc&_journal=WAL"}})
        return {
            "apiVersion": "k0s.k0sproject.io/v1beta1", "kind": "ClusterConfig", "metadata": {"name": self.name},
            "spec": {
                "api": {"address": api, "port": 6443, "k0sApiPort": 9443, "sans": [api]},
                "storage": storage,
                "network": {"provider": "kuberouter", "podCIDR": "10.244.0.0/16", "serviceCIDR": "10.96.0.0/12",
                            "kubeProxy": {"disabled": False, "mode": "iptables"},
                            "kuberouter": {"autoMTU": True}},
                "telemetry": {"enabled": False},
            },
        }

    def config_yaml(self) -> str:
        """The controllers' /etc/k0s/k0s.yaml (block YAML, keys in k0s's order). pyyaml loads
        when the file is first read, not with the demo."""
        import yaml

        return yaml.safe_dump(self.config(), sort_keys=False, default_flow_style=False)

    def manifests(self) -> dict[str, str]:
        """A few of the manifests k0s keeps under <data-dir>/manifests (relative path -> text)."""
        ns = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n"
        return {
            "coredns/coredns.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: coredns\n  namespace: kube-system\n",
            "kubeproxy/kube-proxy.yaml": "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-proxy\n  namespace: kube-system\n",
            "kuberouter/kube-router.yaml": "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: kube-router\n  namespace: kube-system\n",
            "metricserver/metrics-server.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: metrics-server\n  namespace: kube-system\n",
            "bootstraprbac/bootstrap-rbac.yaml": ns.format("k0s-system"),
        }

    def file_names(self, node: DemoNode) -> list[str]:
        """Every file path on ``node`` (without reading any content)."""
        paths = {"/etc/hostname", "/etc/os-release", "/proc/uptime"}
        if node.is_controller:
            paths.add(CONFIG_PATH)
            paths |= {f"{DATA_DIR}/pki/{n}" for n in pki.pki_file_names(self.storage)}
            paths |= {f"{DATA_DIR}/manifests/{n}" for n in self.manifests()}
            if self.storage == "kine":
                paths.add(f"{DATA_DIR}/db/state.db")
        else:
            paths.add("/etc/k0s/k0stoken")
        paths |= set(node.files)
        return sorted(paths)

    def read(self, node: DemoNode, path: str) -> bytes:
        """A file's bytes; FileNotFoundError / IsADirectoryError like the real thing."""
        path = normpath(path) if path else path
        if path in node.files:
            return node.files[path]
        if path.startswith("/var/log/"):
            from backends.demo.logs import file_bytes  # logs builds on this module
            if (data := file_bytes(self, node, path)) is not None:
                return data
        if path == "/proc/uptime":
            return proc_uptime((self.now() - node.boot_time).total_seconds()).encode()
        if path == "/etc/hostname":
            return f"{node.name}\n".encode()
        if path == "/etc/os-release":
            pretty = node.os_image
            return f'PRETTY_NAME="{pretty}"\nNAME="{pretty.split()[0]}"\nID={pretty.split()[0].lower()}\n'.encode()
        if path == "/etc/k0s/k0stoken" and not node.is_controller:
            return b"H4sIAAAAAAAC/demo-token-not-a-real-secret\n"
        if node.is_controller:
            if path == CONFIG_PATH:
                return self.config_yaml().encode()
            prefix = f"{DATA_DIR}/pki/"
            if path.startswith(prefix) and path[len(prefix):] in pki.pki_file_names(self.storage):
                return self.pki_files(node)[path[len(prefix):]].encode()
            mprefix = f"{DATA_DIR}/manifests/"
            if path.startswith(mprefix) and path[len(mprefix):] in self.manifests():
                return self.manifests()[path[len(mprefix):]].encode()
            if path == f"{DATA_DIR}/db/state.db" and self.storage == "kine":
                return self.store_bytes(node)
        if self.is_dir(node, path):
            raise IsADirectoryError(path)
        raise FileNotFoundError(path)

    def is_dir(self, node: DemoNode, path: str) -> bool:
        """True when ``path`` is a directory holding some file of ``node``."""
        path = normpath(path).rstrip("/") if path not in ("", "/") else "/"
        prefix = path + "/" if path != "/" else "/"
        return any(p.startswith(prefix) for p in self.file_names(node))

    def exists(self, node: DemoNode, path: str) -> bool:
        return normpath(path) in self.file_names(node) or self.is_dir(node, path)

    def store_bytes(self, node: DemoNode) -> bytes:
        """Stand-in contents of the etcd snapshot / kine database (deterministic, ~256 KiB)."""
        seed = hashlib.sha256(f"{self.seed}/{node.name}/store".encode()).digest()
        head = b"SQLite format 3\x00" if self.storage == "kine" else b"\x00\x00\x00\x00etcd-bbolt\x00"
        rng = random.Random(seed)
        words = [b"/registry/pods/kube-system/", b"/registry/deployments/default/", b"/registry/secrets/",
                 b"/registry/configmaps/kube-system/", b"/registry/leases/kube-node-lease/"]
        body = b"".join(rng.choice(words) + f"{node.name}-{i:05d}".encode() + rng.randbytes(24)
                        for i in range(4000))
        return head + body

    # ------------------------------------------------------------------ kubectl

    def kube_nodes_json(self) -> str:
        """`kubectl get nodes -o json` as the API would answer (workers: k0s controllers are no nodes)."""
        items = []
        api = self.api_up()
        for node in self.workers:
            created = self.settings.created + timedelta(minutes=5 + int(node.name.split("-")[-1]))
            ready = node.running and api and not node.kubelet_failed
            heartbeat = self.now() if node.running else node.started_at + timedelta(days=1)
            cond_ready = ({"type": "Ready", "status": "True", "reason": "KubeletReady",
                           "message": "kubelet is posting ready status",
                           "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(node.started_at)}
                          if ready else
                          {"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown",
                           "message": "Kubelet stopped posting node status.",
                           "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(heartbeat)})
            pressure = "False" if ready else "Unknown"
            kver = node.version.split("+")[0] + "+k0s"
            items.append({
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                    "volumes.kubernetes.io/controller-managed-attach-detach": "true"},
                    "creationTimestamp": rfc3339(created),
                    "labels": {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                               "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": node.name,
                               "kubernetes.io/os": "linux"},
                    "name": node.name,
                    "resourceVersion": str(10000 + int(hashlib.sha256(node.name.encode()).hexdigest()[:4], 16)),
                    "uid": _uuid(self.seed, node.name),
                },
                "spec": {**({"unschedulable": True} if node.unschedulable else {}),
                         "podCIDR": f"10.244.{int(node.name.split('-')[-1]) - 1}.0/24",
                         "podCIDRs": [f"10.244.{int(node.name.split('-')[-1]) - 1}.0/24"]},
                "status": {
                    "addresses": [{"address": node.address, "type": "InternalIP"},
                                  {"address": node.name, "type": "Hostname"}],
                    "allocatable": {"cpu": "4", "memory": f"{node.memory_bytes // 1024 - 102400}Ki", "pods": "110"},
                    "capacity": {"cpu": "4", "memory": f"{node.memory_bytes // 1024}Ki", "pods": "110"},
                    "conditions": [
                        {"type": t, "status": pressure, "reason": reason if ready else "NodeStatusUnknown",
                         "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(node.started_at)}
                        for t, reason in (("MemoryPressure", "KubeletHasSufficientMemory"),
                                          ("DiskPressure", "KubeletHasNoDiskPressure"),
                                          ("PIDPressure", "KubeletHasSufficientPID"))
                    ] + [cond_ready],
                    "nodeInfo": {
                        "architecture": "amd64", "bootID": _uuid(self.seed, node.name, node.boot_time.isoformat()),
                        "containerRuntimeVersion": f"containerd://{node.containerd_version.lstrip('v')}",
                        "kernelVersion": node.kernel, "kubeProxyVersion": kver, "kubeletVersion": kver,
                        "machineID": hashlib.md5(node.name.encode()).hexdigest(),  # noqa: S324 - an id, not security
                        "operatingSystem": "linux", "osImage": node.os_image,
                        "systemUUID": _uuid(self.seed, node.name, "system"),
                    },
                },
            })
        return go_json({"apiVersion": "v1", "items": items, "kind": "List",
                        "metadata": {"resourceVersion": ""}}, indent=4) + "\n"


def _uuid(*parts: object) -> str:
    h = hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"

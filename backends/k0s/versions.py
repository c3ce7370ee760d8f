"""Component versions per host (k0s, Kubernetes/kubelet, containerd, runc, etcd) and fleet skew.

Public API (Nodes details, optional Nodes columns, headless CLI):

- :class:`ComponentVersions` — one host's versions; a component is None when it could not be
  learned, and ``errors[component]`` says why.
- :func:`gather_versions` — ``await gather_versions(k0s_host, nodes=None)``; never raises for a
  missing piece (an unreachable host gives all-None with the reason in ``errors``).
- :func:`gather_fleet_versions` — every host at once, ``kubectl get nodes`` asked only once.
- :func:`mismatches` — component -> hosts that differ from the fleet majority.
- :func:`majority_versions` — component -> the version most hosts run (the reference).

Where each comes from (first answer wins):

=========== ==============================================================================
k0s         ``k0s version`` (``K0sHost.version``)
kubernetes  the host's node in ``k0s kubectl get nodes -o json`` (``K0sHost.kube_nodes``,
            kubelet version); else
            ``<data_dir>/bin/kubelet --version``; else ``<data_dir>/bin/kube-apiserver
            --version`` (a controller without a worker has no kubelet)
containerd  Server ``Version:`` of ``k0s ctr version``; else ``<data_dir>/bin/containerd
            --version``
runc        ``<data_dir>/bin/runc --version`` (the runc k0s uses); else ``runc --version``
etcd        controllers only: ``<data_dir>/bin/etcd --version`` (``k0s etcd member-list``
            carries no versions)
=========== ==============================================================================
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field

from backends.errors import BackendError, HostUnreachable
from backends.models import KubeNode
from backends.k0s.host import K0sHost


COMPONENTS = ("k0s", "kubernetes", "containerd", "runc", "etcd")
#: Seconds allowed per version command.
VERSION_TIMEOUT = 20.0


@dataclass
class ComponentVersions:
    """Versions of the k0s components on one host, as the tools print them (``v1.31.1+k0s``,
    ``v1.7.22``, ``1.1.14``, ``3.5.15``); None when unknown (see ``errors``)."""

    host: str
    k0s: str | None = None
    kubernetes: str | None = None
    containerd: str | None = None
    runc: str | None = None
    etcd: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def kubelet(self) -> str | None:
        """Alias of ``kubernetes`` (it is the kubelet's version when the host runs one)."""
        return self.kubernetes

    def get(self, component: str) -> str | None:
        """The version of ``component`` (one of :data:`COMPONENTS`)."""
        if component not in COMPONENTS:
            raise KeyError(component)
        return getattr(self, component)

    def as_dict(self) -> dict[str, str | None]:
        """component -> version, in :data:`COMPONENTS` order."""
        return {c: getattr(self, c) for c in COMPONENTS}


# --------------------------------------------------------------------------- output parsers


def normalize_version(v: str | None) -> str | None:
    """Comparable form: stripped, no leading ``v`` (``v1.7.22`` and ``1.7.22`` are equal)."""
    if v is None:
        return None
    v = v.strip()
    return v[1:] if v[:1] in ("v", "V") and v[1:2].isdigit() else v


_CTR_SECTION = re.compile(r"^(Client|Server):\s*$")
_CTR_VERSION = re.compile(r"^\s*Version:\s*(\S+)")


def parse_ctr_version(text: str) -> str | None:
    """The Server section's ``Version:`` of ``ctr version`` (None without a Server section:
    the client alone says nothing about the running containerd)."""
    section = ""
    for line in text.splitlines():
        m = _CTR_SECTION.match(line.strip())
        if m:
            section = m[1]
            continue
        m = _CTR_VERSION.match(line)
        if m and section == "Server":
            return m[1]
    return None


def parse_containerd_version(text: str) -> str | None:
    """``containerd github.com/containerd/containerd v1.7.22 <commit>`` -> ``v1.7.22``."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "containerd" and len(parts) >= 3:
            return parts[2]
    return None


def parse_runc_version(text: str) -> str | None:
    """``runc version 1.1.14`` (first line) -> ``1.1.14``."""
    m = re.search(r"^runc version (\S+)", text, re.M)
    return m[1] if m else None


def parse_etcd_version(text: str) -> str | None:
    """``etcd Version: 3.5.15`` -> ``3.5.15``."""
    m = re.search(r"^etcd Version:\s*(\S+)", text, re.M)
    return m[1] if m else None


def parse_kube_version(text: str) -> str | None:
    """``Kubernetes v1.31.1+k0s`` (kubelet/kube-apiserver ``--version``) -> ``v1.31.1+k0s``."""
    m = re.search(r"^Kubernetes (v\S+)", text, re.M)
    return m[1] if m else None


def kubernetes_from_k0s(k0s_version: str | None) -> str | None:
    """``v1.31.1+k0s.0`` -> ``v1.31.1+k0s`` (the Kubernetes build that k0s release ships, in
    the form kubelet reports it); None when not a k0s version."""
    if not k0s_version:
        return None
    m = re.match(r"^v?(\d+\.\d+\.\d+)\+k0s(?:\.\d+)?$", k0s_version.strip())
    return f"v{m[1]}+k0s" if m else None


# --------------------------------------------------------------------------- gathering


class _Missing(Exception):
    """A source gave no answer; the message says why (kept for ``errors``)."""


def _node_for(host: K0sHost, nodes: Sequence[KubeNode]) -> KubeNode | None:
    """The Kubernetes node that is this host: by inventory name, then by address."""
    spec = host.spec
    names = {spec.name.lower()}
    if spec.ssh is not None:
        names.add(spec.ssh.address.lower())
    for node in nodes:
        if node.name.lower() in names:
            return node
    if spec.ssh is not None:
        for node in nodes:
            if node.internal_ip and node.internal_ip == spec.ssh.address:
                return node
    return None


async def fetch_kube_nodes(host: K0sHost) -> list[KubeNode]:
    """``k0s kubectl get nodes -o json`` on ``host`` (a controller), via the k0s adapter."""
    return list(await host.kube_nodes())


async def _first(sources: Iterable[Callable[[], Awaitable[str | None]]]) -> str:
    """The first source that answers; _Missing with every reason otherwise."""
    reasons: list[str] = []
    for source in sources:
        try:
            value = await source()
        except HostUnreachable:
            raise
        except _Missing as exc:
            reasons.append(str(exc))
            continue
        except Exception as exc:  # noqa: BLE001 - the contract: a missing piece, never a crash
            reasons.append(f"{type(exc).__name__}: {exc}" if not isinstance(exc, BackendError)
                           else str(exc))
            continue
        if value:
            return value
    raise _Missing("; ".join(r for r in reasons if r) or "no source answered")


def _cmd(host: K0sHost, argv: list[str], parse: Callable[[str], str | None], *,
         sudo: bool = False) -> Callable[[], Awaitable[str | None]]:
    async def run() -> str | None:
        res = await host.transport.run(argv, sudo=sudo, timeout=VERSION_TIMEOUT)
        if not res.ok:
            why = res.stderr_text.strip().splitlines()
            raise _Missing(f"`{' '.join(argv[:3])}` exited {res.exit_status}"
                           + (f": {why[-1][:200]}" if why else ""))
        value = parse(res.stdout_text)
        if value is None:
            raise _Missing(f"`{' '.join(argv[:3])}`: version not found in its output")
        return value
    return run


async def gather_versions(
    k0s_host: K0sHost, nodes: Sequence[KubeNode] | None = None
) -> ComponentVersions:
    """Learn the component versions of one host (see the module docstring for the sources).

    ``nodes``: an already fetched ``kubectl get nodes`` result to match this host against
    (``gather_fleet_versions`` passes it so the API is asked once); None asks this host.
    Never raises: each missing component is None with its reason in ``errors``.
    """
    h = k0s_host
    bindir = h.spec.data_dir.rstrip("/") + "/bin"
    out = ComponentVersions(host=h.name)

    async def kube_from_nodes() -> str | None:
        node_list = nodes if nodes is not None else await fetch_kube_nodes(h)
        node = _node_for(h, node_list)
        if node is None or not node.kubelet_version:
            raise _Missing(f"no Kubernetes node named {h.name!r}")
        return node.kubelet_version

    async def kube_from_k0s() -> str | None:
        # k0s vX.Y.Z+k0s.N embeds Kubernetes vX.Y.Z (k0s follows Kubernetes' versions).
        derived = kubernetes_from_k0s(out.k0s)
        if derived is None:
            raise _Missing("k0s version unknown")
        return derived

    sources: dict[str, list[Callable[[], Awaitable[str | None]]]] = {
        "k0s": [h.version],
        "kubernetes": [
            kube_from_nodes,
            _cmd(h, [f"{bindir}/kubelet", "--version"], parse_kube_version, sudo=h.sudo),
            _cmd(h, [f"{bindir}/kube-apiserver", "--version"], parse_kube_version, sudo=h.sudo),
            kube_from_k0s,
        ],
        "containerd": [
            _cmd(h, h.k0s_argv("ctr", "version"), parse_ctr_version, sudo=h.sudo),
            _cmd(h, [f"{bindir}/containerd", "--version"], parse_containerd_version,
                 sudo=h.sudo),
        ],
        "runc": [
            _cmd(h, [f"{bindir}/runc", "--version"], parse_runc_version, sudo=h.sudo),
            _cmd(h, ["runc", "--version"], parse_runc_version),
        ],
        "etcd": [_cmd(h, [f"{bindir}/etcd", "--version"], parse_etcd_version, sudo=h.sudo)],
    }
    if not h.spec.is_controller:
        sources["etcd"] = []
        out.errors["etcd"] = "not a controller"

    async def one(component: str) -> None:
        if not sources[component]:
            return
        try:
            setattr(out, component, await _first(sources[component]))
        except _Missing as exc:
            out.errors[component] = str(exc)

    # k0s first: when the host is unreachable there is no point asking four more times.
    try:
        await one("k0s")
    except HostUnreachable as exc:
        for c in COMPONENTS:
            out.errors[c] = str(exc)
        return out
    results = await asyncio.gather(*(one(c) for c in COMPONENTS[1:]), return_exceptions=True)
    for c, r in zip(COMPONENTS[1:], results, strict=True):
        if isinstance(r, BaseException):
            if not isinstance(r, Exception):
                raise r
            out.errors[c] = str(r) or type(r).__name__
    return out


async def gather_fleet_versions(hosts: Sequence[K0sHost]) -> list[ComponentVersions]:
    """:func:`gather_versions` for every host, in order; ``kubectl get nodes`` runs once, on
    the first controller that answers it (hosts then match themselves in that list)."""
    nodes: list[KubeNode] | None = None
    for h in hosts:
        if not h.spec.is_controller:
            continue
        try:
            nodes = await fetch_kube_nodes(h)
            break
        except Exception:  # noqa: BLE001 - any failure: try the next controller
            continue
    return list(await asyncio.gather(
        *(gather_versions(h, nodes if nodes is not None else None) for h in hosts)))


# --------------------------------------------------------------------------- fleet skew


def _version_key(v: str) -> tuple[tuple[int, ...], str]:
    nums = tuple(int(n) for n in re.findall(r"\d+", v)[:4])
    return nums, v


def majority_versions(fleet: Sequence[ComponentVersions]) -> dict[str, str | None]:
    """component -> the (normalised) version most hosts report; ties go to the newest version
    (during a rolling upgrade the hosts left behind are the odd ones); None when nobody knows."""
    out: dict[str, str | None] = {}
    for c in COMPONENTS:
        counts = Counter(n for v in fleet if (n := normalize_version(v.get(c))) is not None)
        if not counts:
            out[c] = None
            continue
        top = max(counts.values())
        out[c] = max((v for v, n in counts.items() if n == top), key=_version_key)
    return out


def mismatches(fleet: Sequence[ComponentVersions]) -> dict[str, set[str]]:
    """component -> hosts whose version differs from the fleet majority (see
    :func:`majority_versions`). Only components with at least one such host appear; unknown
    versions (None) are never counted as mismatches."""
    ref = majority_versions(fleet)
    out: dict[str, set[str]] = {}
    for c in COMPONENTS:
        if ref[c] is None:
            continue
        odd = {v.host for v in fleet
               if (n := normalize_version(v.get(c))) is not None and n != ref[c]}
        if odd:
            out[c] = odd
    return out

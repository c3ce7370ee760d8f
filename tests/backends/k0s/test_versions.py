"""Component versions: output parsers, gathering over a real local transport (stand-in k0s
binaries in a temp dir, the machine's real runc), the demo cluster, and fleet mismatches."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from backends.hosts.spec import HostSpec
from backends.k0s.versions import (
    ComponentVersions,
    gather_fleet_versions,
    gather_versions,
    kubernetes_from_k0s,
    majority_versions,
    mismatches,
    normalize_version,
    parse_containerd_version,
    parse_ctr_version,
    parse_etcd_version,
    parse_kube_version,
    parse_runc_version,
)

CTR_VERSION = """\
Client:
  Version:  v1.7.22
  Revision: 7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c
  Go version: go1.22.7

Server:
  Version:  v1.7.21
  Revision: 472731909fa34bd7bc9c087e4c27943f9835f111
  UUID: 6f1c2c66-7d0b-4f9b-a7a9-1e2f3a4b5c6d
"""


# --------------------------------------------------------------------------- parsers


def test_output_parsers() -> None:
    assert parse_ctr_version(CTR_VERSION) == "v1.7.21"  # the server, not the client
    assert parse_ctr_version(CTR_VERSION.split("Server:")[0]) is None
    assert parse_containerd_version(
        "containerd github.com/containerd/containerd v1.7.22 7f7fdf5f\n") == "v1.7.22"
    assert parse_runc_version("runc version 1.1.14\ncommit: v1.1.14-0\nspec: 1.0.2-dev\n") == \
        "1.1.14"
    assert parse_etcd_version("etcd Version: 3.5.15\nGit SHA: 9a56\nGo Version: go1.21\n") == \
        "3.5.15"
    assert parse_kube_version("Kubernetes v1.31.1+k0s\n") == "v1.31.1+k0s"
    assert parse_runc_version("bash: runc: not found") is None
    assert normalize_version(" v1.7.22 ") == "1.7.22" and normalize_version("vX") == "vX"
    assert kubernetes_from_k0s("v1.31.1+k0s.0") == "v1.31.1+k0s"
    assert kubernetes_from_k0s("v1.21.2+k0s") == "v1.21.2+k0s"
    assert kubernetes_from_k0s("1.30.0") is None and kubernetes_from_k0s(None) is None


def test_real_runc_output_parses() -> None:
    out = subprocess.run(["runc", "--version"], capture_output=True, text=True, check=True)
    v = parse_runc_version(out.stdout)
    assert v and v[0].isdigit()


# --------------------------------------------------------------------------- mismatches


def _cv(host: str, **kw) -> ComponentVersions:
    return ComponentVersions(host=host, **kw)


def test_mismatches_against_the_majority() -> None:
    fleet = [
        _cv("c1", k0s="v1.31.1+k0s.0", kubernetes="v1.31.1+k0s", containerd="v1.7.22",
            runc="1.1.14", etcd="3.5.15"),
        _cv("c2", k0s="v1.31.1+k0s.0", kubernetes="v1.31.1+k0s", containerd="1.7.22",
            runc="1.1.14", etcd="3.5.13"),
        _cv("w1", k0s="v1.30.4+k0s.0", kubernetes="v1.30.4+k0s", containerd="v1.7.22",
            runc=None),
    ]
    assert majority_versions(fleet) == {
        "k0s": "1.31.1+k0s.0", "kubernetes": "1.31.1+k0s", "containerd": "1.7.22",
        "runc": "1.1.14", "etcd": "3.5.15"}  # etcd: 1 vs 1 -> the newer is the reference
    assert mismatches(fleet) == {"k0s": {"w1"}, "kubernetes": {"w1"}, "etcd": {"c2"}}
    # all equal (or unknown) -> nothing to highlight
    assert mismatches(fleet[:1]) == {} and mismatches([]) == {}
    assert mismatches([_cv("a"), _cv("b")]) == {}


def test_component_accessors() -> None:
    cv = _cv("h", kubernetes="v1.31.1+k0s")
    assert cv.kubelet == "v1.31.1+k0s" and cv.get("kubernetes") == "v1.31.1+k0s"
    assert list(cv.as_dict()) == ["k0s", "kubernetes", "containerd", "runc", "etcd"]
    with pytest.raises(KeyError):
        cv.get("kine")


# --------------------------------------------------------------------------- gathering


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def _nodes_json(*nodes: tuple[str, str, str]) -> str:
    items = [{
        "metadata": {"name": name, "labels": {}, "creationTimestamp": "2026-11-01T00:00:00Z"},
        "status": {
            "nodeInfo": {"kubeletVersion": kubelet, "containerRuntimeVersion": "containerd://1.7",
                         "osImage": "Debian", "kernelVersion": "6.1"},
            "addresses": [{"type": "InternalIP", "address": ip}],
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    } for name, kubelet, ip in nodes]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items})


@pytest.fixture
def fleet_dirs(tmp_path: Path) -> dict[str, HostSpec]:
    """Three hosts on the local machine, each with its own stand-in k0s and data dir."""
    nodes = _nodes_json(("ctrl-1", "v1.31.1+k0s", "10.0.0.11"),
                        ("worker-1", "v1.30.4+k0s", "10.0.0.21"))
    (tmp_path / "nodes.json").write_text(nodes)
    ctr = tmp_path / "ctr.txt"
    ctr.write_text(CTR_VERSION)
    # controller: everything answers
    k0s_c = _script(tmp_path / "ctrl" / "k0s", f"""\
        case "$1" in
          version) echo v1.31.1+k0s.0 ;;
          kubectl) cat {tmp_path / 'nodes.json'} ;;
          ctr) cat {ctr} ;;
          *) echo "Error: unknown command $1" >&2; exit 1 ;;
        esac
        """)
    _script(tmp_path / "ctrl" / "data" / "bin" / "runc",
            'echo "runc version 1.1.14"; echo "commit: v1.1.14-0-g2c9f560"\n')
    _script(tmp_path / "ctrl" / "data" / "bin" / "etcd",
            'echo "etcd Version: 3.5.15"; echo "Git SHA: 9a5533382"\n')
    # worker: no kubectl (not a controller), ctr fails -> containerd from bin/containerd,
    # kubelet from bin/kubelet, no bin/runc -> the machine's own runc
    k0s_w = _script(tmp_path / "worker" / "k0s", """\
        case "$1" in
          version) echo v1.30.4+k0s.0 ;;
          ctr) echo "ctr: failed to dial /run/k0s/containerd.sock: connection refused" >&2; exit 1 ;;
          *) exit 1 ;;
        esac
        """)
    _script(tmp_path / "worker" / "data" / "bin" / "kubelet", 'echo "Kubernetes v1.30.4+k0s"\n')
    _script(tmp_path / "worker" / "data" / "bin" / "containerd",
            'echo "containerd github.com/containerd/containerd v1.7.22 7f7fdf5"\n')
    return {
        "ctrl-1": HostSpec(name="ctrl-1", role="controller+worker", k0s_binary=str(k0s_c),
                           data_dir=str(tmp_path / "ctrl" / "data")),
        "worker-1": HostSpec(name="worker-1", role="worker", k0s_binary=str(k0s_w),
                             data_dir=str(tmp_path / "worker" / "data")),
        "gone": HostSpec(name="gone", role="controller", k0s_binary=str(tmp_path / "nope" / "k0s"),
                         data_dir=str(tmp_path / "nope")),
    }


def _machine_runc() -> str:
    out = subprocess.run(["runc", "--version"], capture_output=True, text=True, check=True)
    v = parse_runc_version(out.stdout)
    assert v
    return v


async def test_gather_versions_over_local_transport(fleet_dirs) -> None:
    from backends.k0s.host import K0sHost
    from backends.transport.local import LocalTransport

    transport = LocalTransport()
    try:
        hosts = [K0sHost(spec, transport) for spec in fleet_dirs.values()]
        ctrl = await gather_versions(hosts[0])
        assert (ctrl.host, ctrl.k0s, ctrl.kubernetes, ctrl.containerd, ctrl.runc, ctrl.etcd) == (
            "ctrl-1", "v1.31.1+k0s.0", "v1.31.1+k0s", "v1.7.21", "1.1.14", "3.5.15")
        assert ctrl.errors == {}

        worker = await gather_versions(hosts[1])
        assert (worker.k0s, worker.kubernetes, worker.containerd) == (
            "v1.30.4+k0s.0", "v1.30.4+k0s", "v1.7.22")
        assert worker.runc == _machine_runc()  # no bundled runc: the one on PATH
        assert worker.etcd is None and worker.errors["etcd"] == "not a controller"

        gone = await gather_versions(hosts[2])  # no k0s, no binaries: all None, no exception
        assert gone.as_dict() == {"k0s": None, "kubernetes": None, "containerd": None,
                                  "runc": _machine_runc(), "etcd": None}
        assert {"k0s", "kubernetes", "containerd", "etcd"} <= set(gone.errors)

        fleet = await gather_fleet_versions(hosts)
        assert [v.host for v in fleet] == ["ctrl-1", "worker-1", "gone"]
        # the worker's kubelet version now comes from the controller's node list
        assert fleet[1].kubernetes == "v1.30.4+k0s"
        odd = mismatches(fleet)
        assert odd["k0s"] == {"worker-1"} and odd["containerd"] == {"ctrl-1"}
    finally:
        await transport.close()


async def test_versions_on_the_demo_cluster() -> None:
    """The demo's lagging worker is the odd one out; controllers (no kubelet) get the
    Kubernetes version their k0s release ships."""
    from backends.demo import DemoCluster, demo_inventory, make_demo_transport
    from backends.k0s.host import K0sHost

    cluster = DemoCluster()
    hosts = [K0sHost(h, make_demo_transport(cluster, h)) for h in demo_inventory(cluster).hosts]
    fleet = await gather_fleet_versions(hosts)
    assert [v.host for v in fleet] == [h.name for h in hosts]
    assert all(v.k0s and v.kubernetes for v in fleet)
    for v, h in zip(fleet, hosts):
        if h.spec.is_controller:
            assert v.kubernetes == kubernetes_from_k0s(v.k0s)
        node = cluster.node(h.name)
        # a stopped node's containerd (run by k0s) is not there to ask
        assert v.containerd == (node.containerd_version if node.running else None)
    lagging = {n.name for n in cluster.nodes.values()
               if n.version != cluster.controllers[0].version}
    assert lagging and mismatches(fleet)["k0s"] == lagging
    assert mismatches(fleet)["kubernetes"] == lagging


async def test_demo_answers_runc_and_etcd_versions() -> None:
    """The demo ships runc everywhere and etcd on controllers, like k0s's bin dir."""
    from backends.demo import DemoCluster, DemoTransport, demo_inventory
    from backends.k0s.host import K0sHost
    from backends.k0s.versions import gather_fleet_versions

    cluster = DemoCluster()
    hosts = [K0sHost(s, DemoTransport(cluster, s.demo, latency=(0, 0))) for s in demo_inventory(cluster).hosts]
    by_host = {v.host: v for v in await gather_fleet_versions(hosts)}
    assert by_host["controller-1"].etcd and by_host["controller-1"].runc
    assert by_host["worker-1"].etcd is None and by_host["worker-1"].runc
    assert by_host["worker-3"].runc != by_host["worker-1"].runc  # the lagging worker

"""The demo cluster's outputs are in the real formats: every one goes through the real parsers."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest

from backends.k0s import parsers
from backends.demo import DemoCluster, answer
from backends.demo.formats import human_bytes, tabwrite
from backends.images.ctr import parse_ctr_containers, parse_ctr_tasks

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)


@pytest.fixture
def cluster() -> DemoCluster:
    return DemoCluster(clock=lambda: NOW)


def run(cluster: DemoCluster, node: str, *argv: str):
    return answer(cluster, node, list(argv))


def test_default_cast(cluster: DemoCluster) -> None:
    assert [n for n in cluster.nodes] == ["controller-1", "controller-2", "controller-3",
                                         "worker-1", "worker-2", "worker-3", "worker-4", "worker-5"]
    versions = {n.name: n.version for n in cluster.nodes.values()}
    assert versions["worker-3"] != versions["controller-1"]  # one worker lags behind
    assert sum(v == versions["controller-1"] for v in versions.values()) == 7
    assert not cluster.node("worker-5").running
    assert all(n.address.startswith("10.0.0.") for n in cluster.nodes.values())
    assert len({n.address for n in cluster.nodes.values()}) == 8


@pytest.mark.parametrize("fmt", ["text", "json", "yaml"])
def test_status_parses_in_every_form(cluster: DemoCluster, fmt: str) -> None:
    for node in cluster.nodes.values():
        argv = ["k0s", "status"] + ([] if fmt == "text" else ["-o", fmt])
        res = run(cluster, node.name, *argv)
        if not node.running:
            assert res.exit_status == 1 and res.stdout == b""
            assert parsers.is_not_running(res.stderr.decode())
            continue
        assert res.exit_status == 0, res.stderr
        st = parsers.parse_status(res.stdout.decode())
        assert st.version == node.version and st.pid == node.pid
        assert st.role == node.role
        assert st.workloads is (not node.is_controller)
        if not node.is_controller:
            assert st.kube_api_ok is True
        if fmt == "json":
            assert res.stdout.decode().startswith('{\n   "Version"')  # Go's 3-space indent
            assert st.args[1] == ("controller" if node.is_controller else "worker")


def test_status_text_has_the_two_space_probe_line(cluster: DemoCluster) -> None:
    text = run(cluster, "worker-1", "k0s", "status").stdout.decode()
    assert "Kube-api probing last error:  \n" in text
    assert "Kube-api" not in run(cluster, "controller-1", "k0s", "status").stdout.decode()


def test_workers_report_api_failure_when_all_controllers_stop(cluster: DemoCluster) -> None:
    for c in cluster.controllers:
        assert run(cluster, c.name, "k0s", "stop").exit_status == 0
    st = parsers.parse_status(run(cluster, "worker-1", "k0s", "status", "-o", "json").stdout.decode())
    assert st.kube_api_ok is False and "connection refused" in st.kube_api_error


def test_version(cluster: DemoCluster) -> None:
    assert parsers.parse_version(run(cluster, "worker-3", "k0s", "version").stdout.decode()) == "v1.31.9+k0s.0"


def test_sysinfo_text_and_json(cluster: DemoCluster) -> None:
    for node in cluster.nodes.values():
        if node.name == "worker-3":
            continue
        text = run(cluster, node.name, "k0s", "sysinfo", "--data-dir", "/var/lib/k0s", "--controller")
        js = run(cluster, node.name, "k0s", "sysinfo", "-o", "json")
        rt, rj = parsers.parse_sysinfo(text.stdout.decode()), parsers.parse_sysinfo(js.stdout.decode())
        assert rt.format == "text" and rj.format == "json"
        assert len(rj.probes) >= 40
        assert [p.name for p in rj.probes] == [p.name for p in rt.probes if p.name != "Executable in PATH: iptables"]
        assert [p.path for p in rj.probes][:8] == [p.path for p in rt.probes][:8]
        assert not js.stdout.endswith(b"\n")  # k0s prints its JSON without a trailing newline
        assert any(p.path == ("Operating system", "Control Groups", 'cgroup controller "cpu"') for p in rt.probes)
        expect_fail = node.sysinfo_fault != ""
        assert (text.exit_status == 1) is expect_fail and (js.exit_status == 1) is expect_fail
        if expect_fail:
            assert text.stderr == b"Error: sysinfo failed\n"
            assert rt.status == rj.status == "rejected"
            rejected = [p for p in rt.probes if p.status == "rejected"]
            assert [p.name for p in rejected] == ['cgroup controller "pids"']
            assert b"\\u003c 2.0 GiB" in js.stdout  # Go's HTML escaping of '<'
        else:
            assert rt.status == ("pass" if node.ipvs_modules else "warning") and text.stderr == b""


def test_old_worker_has_no_sysinfo_output_flag(cluster: DemoCluster) -> None:
    res = run(cluster, "worker-3", "k0s", "sysinfo", "-o", "json")
    assert res.exit_status == 1 and res.stdout == b""
    assert "unknown shorthand flag: 'o'" in res.stderr.decode()
    ok = run(cluster, "worker-3", "k0s", "sysinfo")
    assert ok.exit_status == 0 and parsers.parse_sysinfo(ok.stdout.decode()).status == "pass"


def test_images_three_refs_per_digest(cluster: DemoCluster) -> None:
    res = run(cluster, "worker-1", "k0s", "ctr", "images", "ls")
    assert res.exit_status == 0
    lines = res.stdout.decode().splitlines()
    assert lines[0].split() == ["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"]
    assert all(ln.endswith(" ") for ln in lines)  # tabwriter pads the last cell too
    images = parsers.parse_ctr_images(res.stdout.decode())
    groups = parsers.group_images(images)
    assert len(groups) >= 8 and all(len(g.refs) == 3 for g in groups)
    for g in groups:
        kinds = sorted(("bare" if i.ref.startswith("sha256:") else "digest" if "@" in i.ref else "tag") for i in g.refs)
        assert kinds == ["bare", "digest", "tag"]
    assert all(i.labels == {"io.cri-containerd.image": "managed"} for i in images)
    names = {g.primary.ref.rsplit(":", 1)[0] for g in groups}
    for system in ("kube-proxy", "coredns", "kube-router", "pause", "apiserver-network-proxy-agent", "envoy-distroless"):
        assert f"quay.io/k0sproject/{system}" in names
    quiet = run(cluster, "worker-1", "k0s", "ctr", "images", "ls", "-q").stdout.decode()
    assert sorted(parsers.parse_ctr_images_quiet(quiet)) == sorted(i.ref for i in images)


def test_old_worker_has_older_system_images(cluster: DemoCluster) -> None:
    refs = {i.ref for i in parsers.parse_ctr_images(run(cluster, "worker-3", "k0s", "ctr", "images", "ls").stdout.decode())}
    assert "quay.io/k0sproject/kube-proxy:v1.31.9" in refs


def test_ctr_on_a_stopped_node_cannot_dial(cluster: DemoCluster) -> None:
    res = run(cluster, "worker-5", "k0s", "ctr", "images", "ls")
    assert res.exit_status == 1 and "containerd.sock" in res.stderr.decode()


def test_containers_and_tasks(cluster: DemoCluster) -> None:
    conts = parse_ctr_containers(run(cluster, "worker-2", "k0s", "ctr", "containers", "ls").stdout.decode())
    tasks = parse_ctr_tasks(run(cluster, "worker-2", "k0s", "ctr", "tasks", "ls").stdout.decode())
    assert len(conts) >= 6 and all(len(cid) == 64 for cid, _img in conts)
    assert {tasks[cid] for cid, _img in conts} == {"RUNNING"}
    assert any("kube-proxy" in img for _c, img in conts)
    version = run(cluster, "worker-2", "k0s", "ctr", "version").stdout.decode()
    assert "Server:\n  Version:  v1.7.27" in version


def test_etcd_members(cluster: DemoCluster) -> None:
    res = run(cluster, "controller-2", "k0s", "etcd", "member-list", "--data-dir", "/var/lib/k0s")
    members = parsers.parse_member_list(res.stdout.decode())
    assert [(m.name, m.peer_url) for m in members] == [
        ("controller-1", "https://10.0.0.11:2380"), ("controller-2", "https://10.0.0.12:2380"),
        ("controller-3", "https://10.0.0.13:2380")]
    assert res.stdout.count(b"\n") == 1  # one line of JSON


def test_kine_cluster_has_no_etcd() -> None:
    kine = DemoCluster(storage="kine", clock=lambda: NOW)
    res = answer(kine, "controller-1", ["k0s", "etcd", "member-list"])
    assert res.exit_status == 1 and "kine" in res.stderr.decode()
    assert "type: kine" in kine.config_yaml()
    with pytest.raises(ValueError):
        DemoCluster(storage="postgres")


@pytest.mark.parametrize("storage", ["etcd", "kine"])
def test_the_config_file_and_the_status_json_hold_the_same_config(storage: str) -> None:
    """k0s.yaml is written from the data `k0s status -o json` embeds (no YAML parse there)."""
    import yaml

    demo = DemoCluster(storage=storage, clock=lambda: NOW)
    res = answer(demo, "controller-1", ["k0s", "status", "-o", "json"])
    embedded = json.loads(res.stdout)["ClusterConfig"]
    assert yaml.safe_load(demo.config_yaml()) == embedded == demo.config()
    assert embedded["spec"]["storage"]["type"] == storage and embedded["spec"]["api"]["port"] == 6443


def test_kube_nodes(cluster: DemoCluster) -> None:
    res = run(cluster, "controller-1", "k0s", "kubectl", "--data-dir", "/var/lib/k0s", "get", "nodes", "-o", "json")
    nodes = {n.name: n for n in parsers.parse_kube_nodes(res.stdout.decode())}
    assert sorted(nodes) == [f"worker-{i}" for i in range(1, 6)]
    assert [n for n, k in nodes.items() if not k.ready] == ["worker-5"]
    assert nodes["worker-3"].kubelet_version == "v1.31.9+k0s"
    assert nodes["worker-1"].internal_ip == "10.0.0.21"
    assert nodes["worker-1"].container_runtime.startswith("containerd://")
    table = run(cluster, "controller-1", "k0s", "kubectl", "get", "nodes").stdout.decode()
    assert "worker-5   NotReady" in table
    assert run(cluster, "worker-1", "k0s", "kubectl", "get", "nodes").exit_status == 1


def test_config_file(cluster: DemoCluster) -> None:
    import yaml

    doc = yaml.safe_load(cluster.read(cluster.node("controller-1"), "/etc/k0s/k0s.yaml"))
    assert doc["kind"] == "ClusterConfig" and doc["apiVersion"] == "k0s.k0sproject.io/v1beta1"
    assert doc["spec"]["network"]["kubeProxy"]["mode"] == "iptables"
    assert doc["spec"]["network"]["provider"] == "kuberouter"
    assert doc["spec"]["storage"]["type"] == "etcd"
    assert doc["spec"]["api"]["address"] == "10.0.0.11"
    with pytest.raises(FileNotFoundError):
        cluster.read(cluster.node("worker-1"), "/etc/k0s/k0s.yaml")


def test_shell_tools(cluster: DemoCluster) -> None:
    up = run(cluster, "controller-3", "cat", "/proc/uptime").stdout.decode().split()
    assert float(up[0]) > 360 * 86400
    assert run(cluster, "worker-1", "uname", "-r").stdout == b"6.1.0-28-amd64\n"
    assert run(cluster, "worker-1", "hostname").stdout == b"worker-1\n"
    missing = run(cluster, "worker-1", "cat", "/nope")
    assert missing.exit_status == 1 and b"No such file" in missing.stderr
    nf = run(cluster, "worker-1", "kubeadm", "init")
    assert nf.exit_status == 127 and b"command not found" in nf.stderr
    ls = run(cluster, "controller-1", "ls", "-1", "/var/lib/k0s/pki").stdout.decode().split()
    assert {"ca.crt", "server.crt", "etcd", "sa.key", "sa.pub", "admin.conf"} <= set(ls)
    found = run(cluster, "controller-1", "find", "/var/lib/k0s/pki", "-mindepth", "1", "(", "-name", "*.crt",
                "-o", "-name", "*.pem", ")", "-print0").stdout.decode().split("\0")
    assert "/var/lib/k0s/pki/etcd/peer.crt" in found and not any(p.endswith(".key") for p in found)
    typed = run(cluster, "controller-1", "find", "/var/lib/k0s/pki", "-type", "f").stdout.decode().split()
    assert len(typed) == 25 and "/var/lib/k0s/pki/etcd" not in typed
    nodir = run(cluster, "worker-1", "find", "/var/lib/k0s/pki", "-type", "f")
    assert nodir.exit_status == 1 and "No such file or directory" in nodir.stderr.decode()
    df = run(cluster, "worker-4", "df", "-P", "-k", "/var/lib").stdout.decode().splitlines()
    assert int(df[-1].split()[3]) == cluster.node("worker-4").disk_free_kib


def test_init_systems(cluster: DemoCluster) -> None:
    sd = run(cluster, "controller-1", "systemctl", "status", "k0scontroller", "--no-pager")
    assert sd.exit_status == 0 and "Active: active (running)" in sd.stdout.decode()
    assert run(cluster, "worker-5", "systemctl", "status", "k0sworker").exit_status == 127
    rc = run(cluster, "worker-5", "rc-service", "k0sworker", "status")
    assert rc.exit_status == 3 and rc.stdout == b" * status: stopped\n"
    run(cluster, "controller-1", "k0s", "stop")
    stopped = run(cluster, "controller-1", "sudo", "-n", "systemctl", "status", "k0scontroller")
    assert stopped.exit_status == 3 and "inactive (dead)" in stopped.stdout.decode()


def test_sudo_prefix_and_absolute_binary(cluster: DemoCluster) -> None:
    res = run(cluster, "worker-1", "sudo", "-n", "/usr/local/bin/k0s", "status", "-o", "json")
    assert parsers.parse_status(res.stdout.decode()).role == "worker"
    bad = run(cluster, "worker-1", "k0s", "frobnicate")
    assert bad.exit_status == 1 and 'unknown command "frobnicate"' in bad.stderr.decode()


def test_determinism_and_json_round_trip() -> None:
    a, b = DemoCluster(seed=11, clock=lambda: NOW), DemoCluster(seed=11, clock=lambda: NOW)
    assert a.to_json() == b.to_json()
    assert DemoCluster(seed=12, clock=lambda: NOW).to_json() != a.to_json()
    # Keys are derived from the seed: the same seed gives the same certificates' keys.
    assert a.read(a.node("controller-1"), "/var/lib/k0s/pki/server.key") == \
        b.read(b.node("controller-1"), "/var/lib/k0s/pki/server.key")
    from backends.demo import pki

    pki._CACHE.clear()  # made again from scratch: the same bytes (deterministic ECDSA)
    fresh = DemoCluster(seed=11, clock=lambda: NOW)
    assert fresh.read(fresh.node("controller-2"), "/var/lib/k0s/pki/etcd/peer.crt") == \
        a.read(a.node("controller-2"), "/var/lib/k0s/pki/etcd/peer.crt")
    run(a, "worker-1", "k0s", "stop")
    c = DemoCluster.from_json(a.to_json(), clock=lambda: NOW)
    assert c.to_json() == a.to_json()
    for node in c.nodes:
        for argv in (["k0s", "status", "-o", "json"], ["k0s", "ctr", "images", "ls"], ["cat", "/proc/uptime"]):
            assert answer(c, node, argv).stdout == answer(a, node, argv).stdout
    with pytest.raises(ValueError):
        DemoCluster.from_json(json.dumps({"format": 99}))


def test_other_sizes() -> None:
    small = DemoCluster(controllers=1, workers=2, name="tiny", clock=lambda: NOW)
    assert sorted(small.nodes) == ["controller-1", "worker-1", "worker-2"]
    assert all(n.running for n in small.nodes.values())
    big = DemoCluster(controllers=3, workers=40, clock=lambda: NOW)
    assert len({n.address for n in big.nodes.values()}) == 43


def test_startup_is_cheap() -> None:
    start = time.perf_counter()
    cluster = DemoCluster()
    for node in cluster.nodes:
        answer(cluster, node, ["k0s", "status", "-o", "json"])
    assert time.perf_counter() - start < 0.5
    assert all(not n.pki for n in cluster.nodes.values())  # certificates only when asked for


def test_format_helpers() -> None:
    assert human_bytes(0) == "0.0 B"
    assert human_bytes(1536) == "1.5 KiB"
    assert parsers.parse_size(human_bytes(16_500_000)) == pytest.approx(16_500_000, rel=0.01)
    assert tabwrite([["a", "bb"], ["ccc", "d"]]) == "a   bb \nccc d  \n"


async def test_demo_sysinfo_tells_ipvs_support_apart() -> None:
    """One controller lacks the IPVS modules: the ipvs cross-check warns there only."""
    from backends.demo import DemoCluster, DemoTransport, demo_inventory
    from backends.k0s.host import K0sHost
    from backends.k0s.config import ipvs_warning

    cluster = DemoCluster()
    warnings = {}
    for spec in demo_inventory(cluster).controllers:
        host = K0sHost(spec, DemoTransport(cluster, spec.demo, latency=(0, 0)))
        warnings[spec.name] = ipvs_warning(await host.sysinfo())
    assert warnings["controller-1"] is None and warnings["controller-3"] is None
    assert warnings["controller-2"] and "CONFIG_IP_VS" in warnings["controller-2"]

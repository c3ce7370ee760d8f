"""The demo cluster through the real adapter (K0sHost over DemoTransport): state changes with actions."""

from __future__ import annotations

import asyncio
import gzip
import io
import tarfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509

from backends.images.ctr import CtrImageBackend
from backends.k0s.backups import verify_archive
from backends.k0s.certs import scan_pki
from backends.demo import DemoCluster, DemoTransport, demo_inventory, make_demo_transport
from backends.errors import BackendError, CommandFailed, CommandTimeout, K0sRunning
from backends.k0s.host import K0sHost, ServiceState
from backends.transport.base import Transport

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cluster(clock: Clock) -> DemoCluster:
    return DemoCluster(clock=clock, pull_duration=0.3)


def host(cluster: DemoCluster, name: str) -> K0sHost:
    spec = next(s for s in demo_inventory(cluster).hosts if s.name == name)
    transport = make_demo_transport(cluster, spec)
    transport.latency = (0.0, 0.0)
    return K0sHost(spec, transport)


def test_inventory_and_transport_shape(cluster: DemoCluster) -> None:
    inv = demo_inventory(cluster)
    assert inv.name == "demo" and [h.name for h in inv.hosts] == list(cluster.nodes)
    assert all(h.ssh is None and h.demo == h.name and h.address == cluster.node(h.name).address for h in inv.hosts)
    assert [h.role for h in inv.controllers] == ["controller"] * 3
    assert inv.k0s_version == "v1.33.3+k0s.0"
    t = make_demo_transport(cluster, inv.hosts[0])
    assert isinstance(t, Transport) and t.info.kind == "demo" and t.info.address == "10.0.0.11"
    with pytest.raises(BackendError):
        make_demo_transport(None, inv.hosts[0])


async def test_snapshots_of_the_whole_cluster(cluster: DemoCluster) -> None:
    hosts = [host(cluster, n) for n in cluster.nodes]
    snaps = {s.name: s for s in await asyncio.gather(*(h.snapshot() for h in hosts))}
    assert snaps["worker-5"].state is ServiceState.STOPPED
    assert all(s.state is ServiceState.RUNNING for n, s in snaps.items() if n != "worker-5")
    assert snaps["worker-3"].version == "v1.31.9+k0s.0"
    assert snaps["controller-3"].uptime_seconds > 360 * 86400
    assert snaps["worker-5"].uptime_seconds > 0


async def test_stop_then_start(cluster: DemoCluster, clock: Clock) -> None:
    w1, c1 = host(cluster, "worker-1"), host(cluster, "controller-1")
    old_pid = (await w1.status()).pid
    await w1.stop()
    assert (await w1.snapshot()).state is ServiceState.STOPPED
    ready = {n.name: n.ready for n in await c1.kube_nodes()}
    assert ready["worker-1"] is False and ready["worker-2"] is True
    with pytest.raises(CommandFailed, match="already stopped"):
        await w1.stop()
    with pytest.raises(BackendError, match="containerd"):
        await CtrImageBackend(w1).list_images()  # containerd went down with k0s
    clock.now += timedelta(minutes=3)
    await w1.start()
    status = await w1.status()
    assert status.pid != old_pid
    assert {n.name: n.ready for n in await c1.kube_nodes()}["worker-1"] is True
    assert len(await CtrImageBackend(w1).containers()) > 0


async def test_start_reissues_controller_certificates(cluster: DemoCluster, clock: Clock) -> None:
    c3 = host(cluster, "controller-3")
    before = {c.path: c for c in await scan_pki(c3.transport, now=NOW)}
    assert all(not c.error for c in before.values())
    leaf, ca = before["/var/lib/k0s/pki/server.crt"], before["/var/lib/k0s/pki/ca.crt"]
    assert 0 < leaf.days_left < 7  # running for 360 days: the year is nearly over
    assert ca.days_left > 3000
    others = await scan_pki(host(cluster, "controller-1").transport, now=NOW)
    assert min(c.days_left for c in others) > 300
    await c3.stop()
    clock.now += timedelta(minutes=1)
    await c3.start()
    after = {c.path: c for c in await scan_pki(c3.transport, now=clock.now)}
    assert 364 < after["/var/lib/k0s/pki/server.crt"].days_left <= 365
    assert after["/var/lib/k0s/pki/server.crt"].fingerprint_sha256 != leaf.fingerprint_sha256
    assert after["/var/lib/k0s/pki/ca.crt"].fingerprint_sha256 == ca.fingerprint_sha256  # CAs stay


async def test_certificates_are_real_and_chain(cluster: DemoCluster) -> None:
    t = host(cluster, "controller-2").transport
    ca = x509.load_pem_x509_certificate(await t.read_file("/var/lib/k0s/pki/ca.crt"))
    server = x509.load_pem_x509_certificate(await t.read_file("/var/lib/k0s/pki/server.crt"))
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "kubernetes.default.svc" in sans.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)} >= {"10.0.0.12", "10.96.0.1", "127.0.0.1"}
    etcd_ca = x509.load_pem_x509_certificate(await t.read_file("/var/lib/k0s/pki/etcd/ca.crt"))
    x509.load_pem_x509_certificate(await t.read_file("/var/lib/k0s/pki/etcd/peer.crt")).verify_directly_issued_by(etcd_ca)
    admin = x509.load_pem_x509_certificate(await t.read_file("/var/lib/k0s/pki/admin.crt"))
    assert admin.subject.rfc4514_string() in ("CN=kubernetes-admin,O=system:masters",
                                              "O=system:masters,CN=kubernetes-admin")
    assert b"client-certificate-data" in await t.read_file("/var/lib/k0s/pki/admin.conf")
    assert (await scan_pki(host(cluster, "worker-1").transport))[0].error  # workers have no PKI


async def test_pull_streams_progress_then_adds_three_refs(cluster: DemoCluster) -> None:
    w2 = host(cluster, "worker-2")
    ref = "docker.io/library/busybox:1.37"
    before = {i.ref for i in await CtrImageBackend(w2).list_images()}
    updates: list[tuple[float, object]] = []
    start = time.monotonic()
    await CtrImageBackend(w2).pull(ref, lambda p: updates.append((time.monotonic() - start, p)))
    assert len(updates) > 10
    assert updates[-1][0] - updates[0][0] >= 0.2  # progress arrived over time, not at once
    assert any(p.layers and any(done and total and done < total for done, total in p.layers.values())
               for _t, p in updates)
    assert updates[-1][1].status == "done"
    added = {i.ref for i in await CtrImageBackend(w2).list_images()} - before
    assert len(added) == 3 and ref in added
    assert any(r.startswith("docker.io/library/busybox@sha256:") for r in added)
    assert any(r.startswith("sha256:") for r in added)


async def test_pull_failure(cluster: DemoCluster) -> None:
    with pytest.raises(CommandFailed, match="not found"):
        await CtrImageBackend(host(cluster, "worker-1")).pull("docker.io/library/does-not-exist:1")


async def test_pull_is_bounded_by_the_timeout(cluster: DemoCluster) -> None:
    t = DemoTransport(cluster, "worker-1", latency=(0, 0))
    with pytest.raises(CommandTimeout):
        await t.run(["k0s", "ctr", "images", "pull", "docker.io/library/redis:8"], timeout=0.1)
    assert "docker.io/library/redis:8" not in {i["ref"] for i in cluster.node("worker-1").images}


async def test_label_and_remove(cluster: DemoCluster) -> None:
    w1 = host(cluster, "worker-1")
    ref = "quay.io/k0sproject/pause:3.10.1"
    labels = await CtrImageBackend(w1).label(ref, {"team": "platform", "tier": "system"})
    assert labels == {"io.cri-containerd.image": "managed", "team": "platform", "tier": "system"}
    shown = {i.ref: i.labels for i in await CtrImageBackend(w1).list_images()}
    assert shown[ref]["team"] == "platform"
    assert await CtrImageBackend(w1).label(ref, {"tier": ""}) == {"io.cri-containerd.image": "managed", "team": "platform"}
    await CtrImageBackend(w1).remove(ref)
    assert ref not in {i.ref for i in await CtrImageBackend(w1).list_images()}
    with pytest.raises(CommandFailed, match="not found"):
        await CtrImageBackend(w1).remove(ref)


async def test_backup_is_a_real_archive(cluster: DemoCluster, tmp_path: Path) -> None:
    c1 = host(cluster, "controller-1")
    dest = tmp_path / "b.tar.gz"
    progress: list[int] = []
    await c1.backup_to(dest, progress=lambda done, total: progress.append(done))
    info = verify_archive(dest)
    assert info.storage == "etcd" and progress[-1] == dest.stat().st_size
    with tarfile.open(dest, "r:gz") as tar:
        names = tar.getnames()
        ca_in_tar = tar.extractfile("pki/ca.crt").read()
    assert names[:2] == ["k0s.yaml", "etcd-snapshot.db"]
    for member in ("pki/ca.key", "pki/server.crt", "pki/etcd/server.crt", "pki/sa.pub",
                   "manifests/coredns/coredns.yaml"):
        assert member in names
    assert ca_in_tar == await c1.transport.read_file("/var/lib/k0s/pki/ca.crt")
    assert "kubeProxy" in info.config_text


async def test_kine_backup_layout(clock: Clock, tmp_path: Path) -> None:
    kine = DemoCluster(storage="kine", clock=clock)
    c1 = host(kine, "controller-1")
    await c1.backup_to(tmp_path / "k.tar.gz")
    info = verify_archive(tmp_path / "k.tar.gz")
    with tarfile.open(tmp_path / "k.tar.gz", "r:gz") as tar:
        names = tar.getnames()
    assert info.storage == "kine" and "kine-state-backup.db" in names
    assert not any(n.startswith("pki/etcd") for n in names)


async def test_backup_to_a_directory_on_the_host(cluster: DemoCluster) -> None:
    t = DemoTransport(cluster, "controller-1", latency=(0, 0))
    res = await t.run(["k0s", "backup", "--save-path", "/var/backups"])
    assert res.ok and res.stdout == b""
    name = "/var/backups/k0s_backup_2026-11-27T09_30_00_000Z.tar.gz"
    listing = (await t.run(["ls", "-1", "/var/backups"])).stdout_text.split()
    assert listing == ["k0s_backup_2026-11-27T09_30_00_000Z.tar.gz"]
    data = await t.read_file(name)
    assert gzip.decompress(data)[:100]  # a real gzip stream
    again = await t.run(["k0s", "backup", "--save-path", "/var/backups"])
    assert again.exit_status == 1 and "exists" in again.stderr_text  # never overwrites
    assert not (await host(cluster, "worker-1").run_k0s("backup", "--save-path", "-")).ok


async def test_restore_refused_while_running_then_done(cluster: DemoCluster, tmp_path: Path) -> None:
    c1 = host(cluster, "controller-1")
    archive = tmp_path / "b.tar.gz"
    await c1.backup_to(archive)
    with pytest.raises(K0sRunning):
        await c1.restore_from(archive)
    raw = await c1.run_k0s("restore", "-", input=archive.read_bytes())
    assert raw.exit_status == 1 and "k0s seems to be running" in raw.stderr_text
    await c1.stop()
    done = await c1.restore_from(archive)
    assert done.ok and "Starting restore" in done.stderr_text
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(CommandFailed):
        await c1.restore_from(bad)
    empty = io.BytesIO()
    with tarfile.open(fileobj=empty, mode="w:gz"):
        pass
    bad.write_bytes(empty.getvalue())
    with pytest.raises(CommandFailed, match="k0s.yaml"):
        await c1.restore_from(bad)


async def test_files_and_sockets(cluster: DemoCluster) -> None:
    c1 = host(cluster, "controller-1")
    assert "ClusterConfig" in await c1.read_config()
    await c1.write_config("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n")
    assert await c1.read_config() == "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n"
    with pytest.raises(FileNotFoundError):
        await c1.transport.read_file("/etc/nothing")
    with pytest.raises(IsADirectoryError):
        await c1.transport.read_file("/var/lib/k0s/pki")
    with pytest.raises(BackendError, match="containerd socket"):
        await c1.transport.forward_unix_socket("/run/k0s/containerd.sock")
    assert "k0scontroller.service" in await c1.service_status_text()
    assert "status: stopped" in await host(cluster, "worker-5").service_status_text()
    assert await host(cluster, "worker-4").data_dir_free_bytes() < 2 << 30
    await c1.transport.close()
    with pytest.raises(BackendError):
        await c1.transport.run(["k0s", "version"])


async def test_default_latency_is_small_but_real(cluster: DemoCluster) -> None:
    t = DemoTransport(cluster, "worker-1")
    start = time.monotonic()
    res = await t.run(["k0s", "version"])
    assert res.ok and 0.004 <= time.monotonic() - start < 1.0

"""The k0s adapter over REAL SSH: a real OpenSSH sshd whose sessions find the demo `k0s`
stand-in first on PATH (via SetEnv), one sshd per simulated node, one shared state file.
"""

from __future__ import annotations

import tarfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends.images.ctr import CtrImageBackend
from backends.k0s.backups import BackupCatalog, cluster_backup, restore, verify_archive
from backends.demo import DemoCluster, write_standin
from backends.errors import BackupError
from backends.k0s.host import K0sHost, ServiceState
from backends.transport.ssh.transport import SSHTransport

NODES = ("controller-1", "worker-1")


@pytest.fixture(scope="module")
def demo_sshd(sshd_factory, tmp_path_factory):
    """{node: (server, bindir)} plus the state file; the cluster is created fresh for the module."""
    base = tmp_path_factory.mktemp("demo-ssh")
    state = base / "state.json"
    state.write_text(DemoCluster(pull_duration=0.8).to_json())
    servers = {}
    for node in NODES:
        bindir = base / f"bin-{node}"
        write_standin(bindir, state, node)
        servers[node] = sshd_factory.start(env={"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin"})
    yield servers, state
    for server in servers.values():
        server.stop()


@pytest.fixture
async def ssh_hosts(demo_sshd) -> AsyncIterator[dict[str, K0sHost]]:
    servers, _ = demo_sshd
    hosts = {}
    for node, server in servers.items():
        role = "controller" if node.startswith("controller") else "worker"
        spec = server.host_spec(name=node, role=role)
        hosts[node] = K0sHost(spec, SSHTransport(spec, server.settings()))
    yield hosts
    for host in hosts.values():
        await host.transport.close()


def _state(demo_sshd) -> DemoCluster:
    return DemoCluster.from_json(demo_sshd[1].read_text())


@pytest.mark.timeout(60)
async def test_status_sysinfo_images_over_ssh(ssh_hosts, demo_sshd) -> None:
    cluster = _state(demo_sshd)
    c1, w1 = ssh_hosts["controller-1"], ssh_hosts["worker-1"]
    st = await c1.status()
    assert st.role == "controller" and st.pid == cluster.node("controller-1").pid
    assert st.version == cluster.node("controller-1").version
    snap = await w1.snapshot()
    assert snap.state is ServiceState.RUNNING and snap.uptime_seconds and snap.uptime_seconds > 0
    assert snap.address.startswith("127.0.0.1:")
    rep = await c1.sysinfo()
    assert rep.format == "json" and len(rep.probes) > 10 and rep.status in ("pass", "warning")
    images = await CtrImageBackend(w1).list_images()
    refs = {i.ref for i in images}
    assert any(r.startswith("quay.io/k0sproject/") for r in refs)
    assert all(i.size_bytes > 0 for i in images if not i.ref.startswith("sha256:"))
    members = await c1.etcd_members()
    assert "controller-1" in {m.name for m in members}
    # One connection per host, reused for every command above.
    assert c1.transport.connect_count == 1 and w1.transport.connect_count == 1


@pytest.mark.timeout(60)
async def test_backup_downloaded_over_ssh_and_restore_after_stop(ssh_hosts, demo_sshd, tmp_path: Path) -> None:
    c1 = ssh_hosts["controller-1"]
    catalog = BackupCatalog(tmp_path / "catalog")
    entry = await cluster_backup([c1], catalog, cluster="demo")
    path = catalog.dir / entry.file
    assert entry.source_host == "controller-1" and entry.verified and path.stat().st_size == entry.size
    info = verify_archive(path)
    assert info.storage == "etcd" and info.sha256 == entry.sha256
    with tarfile.open(path) as tar:
        names = tar.getnames()
        config = tar.extractfile("k0s.yaml").read().decode()
    assert {"k0s.yaml", "etcd-snapshot.db"} <= set(names)
    assert any(n.startswith("pki/") and n.endswith(".crt") for n in names)
    assert "kind: ClusterConfig" in config
    assert not list(catalog.dir.glob("*.partial"))

    with pytest.raises(BackupError, match="k0s is running on controller-1"):
        await restore(c1, entry, catalog=catalog)
    await c1.stop()
    try:
        assert (await c1.snapshot()).state is ServiceState.STOPPED
        assert not _state(demo_sshd).node("controller-1").running
        result = await restore(c1, entry, catalog=catalog)
        assert result.ok
    finally:
        await c1.start()
    assert (await c1.snapshot()).state is ServiceState.RUNNING


@pytest.mark.timeout(60)
async def test_pull_progress_streams_live_over_ssh(ssh_hosts, demo_sshd) -> None:
    w1 = ssh_hosts["worker-1"]
    stamps: list[tuple[float, int, int | None, str]] = []
    await CtrImageBackend(w1).pull("docker.io/library/redis:7",
                        lambda p: stamps.append((time.monotonic(), p.done, p.total, p.status)))
    assert stamps[-1][3] == "done" and stamps[-1][1] == stamps[-1][2]
    # Lines arrived while the pull ran (the stand-in takes ~0.8 s), not all at the end.
    assert stamps[-1][0] - stamps[0][0] > 0.3
    assert "docker.io/library/redis:7" in {i.ref for i in await CtrImageBackend(w1).list_images()}
    labels = await CtrImageBackend(w1).label("docker.io/library/redis:7", {"owner": "ops team"})
    assert labels["owner"] == "ops team"
    listed = {i.ref: i for i in await CtrImageBackend(w1).list_images()}
    assert listed["docker.io/library/redis:7"].labels["owner"] == "ops team"

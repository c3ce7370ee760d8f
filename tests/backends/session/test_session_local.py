"""ClusterSession on real local processes (a stand-in `k0s` script): audit, read-only, failed start."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backends.session.audit import AuditLog
from backends.k0s.backups import BackupCatalog
from backends.session.session import ClusterSession, format_summary, summary
from backends.errors import ReadOnlyRefused
from backends.hosts.spec import HostSpec, Inventory
from backends.k0s.host import K0sHost, ServiceState
from backends.transport.local import LocalTransport
from tests.k0s_scripts import prepend_path, write_old_k0s

FROZEN = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def make_session(tmp_path: Path, bindir: Path, *, readonly: bool = False) -> ClusterSession:
    spec = HostSpec("local-1", role="controller+worker", k0s_binary=str(bindir / "k0s"))
    inv = Inventory("stand-in", [spec])
    return ClusterSession(inv, [K0sHost(spec, LocalTransport("local-1"))], readonly=readonly,
                          audit=AuditLog(tmp_path / "audit.log", user="tester"),
                          catalog=BackupCatalog(tmp_path / "backups"), clock=lambda: FROZEN)


def audit_lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit.log"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


async def test_readonly_refuses_before_any_io_and_audits(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    log = write_old_k0s(bindir)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir, readonly=True)
    assert s.host("local-1").readonly  # the adapter refuses too
    for call in (lambda: s.service("stop", ["local-1"]), lambda: s.pull(["local-1"], "busybox:1"),
                 lambda: s.remove_image(["local-1"], "busybox:1"), lambda: s.backup_now()):
        with pytest.raises(ReadOnlyRefused):
            await call()
    with pytest.raises(ReadOnlyRefused):
        await s.host("local-1").stop()
    with pytest.raises(ReadOnlyRefused):
        s.apply_retention(1)
    assert not log.exists()  # the stand-in logs every call: it was never run
    records = audit_lines(tmp_path)
    assert [r["operation"] for r in records] == ["stop", "pull busybox:1", "remove busybox:1", "backup",
                                                  "backup retention"]
    assert all(r["result"] == "error" and "read-only" in r["error"] and r["user"] == "tester" for r in records)


async def test_failed_start_carries_init_system_text_and_is_audited(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir, running=False)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir)
    [result] = await s.service("start", ["local-1"])
    assert not result.ok
    assert "service in failed state" in result.error
    assert "crashed" in result.error  # OpenRC's own words, not just an exit code
    [rec] = audit_lines(tmp_path)
    assert rec["operation"] == "start" and rec["hosts"] == ["local-1"] and rec["result"] == "error"
    assert rec["time"] == "2026-11-27T12:00:00Z"
    # The session took a fresh snapshot after the action.
    assert s.nodes["local-1"].state is ServiceState.STOPPED


async def test_stop_ok_and_summary(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir, running=True)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir)
    [result] = await s.service("stop", ["local-1"])
    assert result.ok
    assert audit_lines(tmp_path)[-1]["result"] == "ok"
    data = await summary(s)
    assert data["total"] == 1 and data["reachable"] == 1
    assert data["hosts"][0]["state"] == "running" and data["hosts"][0]["version"] == "v1.21.2+k0s.0"
    assert "local-1" in format_summary(data)
    await s.close()


async def test_refresh_skips_hosts_still_busy(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir)
    s._busy.add("local-1")  # a refresh of this host is still running
    assert await s.refresh_nodes() == []
    s._busy.clear()
    [snap] = await s.refresh_nodes()
    assert snap.name == "local-1" and s.busy_hosts() == set()


async def test_images_say_which_path_and_why_grpc_was_refused(tmp_path, monkeypatch):
    """No containerd socket: the pane's data names the ctr fallback and the reason."""
    from backends.demo import DemoCluster, write_standin

    state = tmp_path / "demo.json"
    state.write_text(DemoCluster().to_json())
    bindir = tmp_path / "bin"
    bindir.mkdir()
    k0s = write_standin(bindir, state, "worker-1")
    spec = HostSpec("local-1", role="worker", k0s_binary=str(k0s),
                    extra={"containerd_socket": str(tmp_path / "no-such.sock")})
    s = ClusterSession(Inventory("stand-in", [spec]), [K0sHost(spec, LocalTransport("local-1"))],
                       audit=AuditLog(tmp_path / "audit.log"), catalog=BackupCatalog(tmp_path / "b"),
                       clock=lambda: FROZEN)
    data = await s.images("local-1")
    assert data.path.startswith("ctr (fallback: ") and "no-such.sock" in data.path
    assert any("kube-proxy" in g.primary.ref for g in data.groups)
    await s.close()


async def test_stream_images_answers_every_host_with_images_or_its_error(tmp_path):
    """One stream for the whole fleet: each host's images, a failing host's typed error, and
    hosts whose previous images refresh still runs are skipped."""
    from backends.demo import DemoCluster, DemoTransport, demo_inventory
    from backends.errors import BackendError

    cluster = DemoCluster(workers=6)
    inv = demo_inventory(cluster)
    hosts = [K0sHost(spec, DemoTransport(cluster, spec.name, host=spec.name)) for spec in inv.hosts]
    s = ClusterSession(inv, hosts, audit=AuditLog(tmp_path / "audit.log"),
                       catalog=BackupCatalog(tmp_path / "b"), clock=lambda: FROZEN)
    s.fleet_limit = 2
    await hosts[4].transport.close()  # this host now fails like a dropped connection
    s._images_busy.add(inv.hosts[5].name)  # and this one is still busy from a previous refresh
    got = {host: result async for host, result in s.stream_images()}
    names = [h.name for h in inv.hosts]
    assert set(got) == set(names) - {names[5]}
    assert isinstance(got[names[4]], BackendError) and got[names[4]].host == names[4]
    for name in set(got) - {names[4]}:
        data = got[name]
        if cluster.nodes[name].running:
            assert data.host == name and any("kube-proxy" in g.primary.ref for g in data.groups), name
        else:  # the demo keeps a node stopped: its error, typed, is its answer
            assert isinstance(data, BackendError) and "not running" in data.message, name
    assert s._images_busy == {names[5]}  # the skipped host's mark is not ours to clear

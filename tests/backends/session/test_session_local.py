"""ClusterSession on real local processes (a stand-in `k0s` script): audit, read-only, failed start."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backends.session.audit import AuditLog
from backends.k0s.backups import BackupCatalog
from backends.session.session import ClusterSession
from backends.errors import AuditUnavailable, ReadOnlyRefused
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


class CountingTransport(LocalTransport):
    """This machine, counting every command and stream it is asked for (to prove none was)."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.calls: list[tuple[str, ...]] = []

    async def run(self, argv, **kwargs):
        self.calls.append(tuple(argv))
        return await super().run(argv, **kwargs)

    async def run_streaming(self, argv, *args, **kwargs):
        self.calls.append(tuple(argv))
        return await super().run_streaming(argv, *args, **kwargs)

    async def stream_stdout_to_file(self, argv, *args, **kwargs):
        self.calls.append(tuple(argv))
        return await super().stream_stdout_to_file(argv, *args, **kwargs)


def counting_session(tmp_path: Path, bindir: Path, *, readonly: bool = False,
                     audit_path: Path | None = None) -> tuple[ClusterSession, CountingTransport]:
    spec = HostSpec("local-1", role="controller+worker", k0s_binary=str(bindir / "k0s"))
    transport = CountingTransport("local-1")
    s = ClusterSession(Inventory("stand-in", [spec]), [K0sHost(spec, transport)], readonly=readonly,
                       audit=AuditLog(audit_path or tmp_path / "audit.log", user="tester"),
                       catalog=BackupCatalog(tmp_path / "backups"), clock=lambda: FROZEN)
    return s, transport


async def test_readonly_refuses_before_any_io_and_audits(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    log = write_old_k0s(bindir)
    prepend_path(monkeypatch, bindir)
    s, transport = counting_session(tmp_path, bindir, readonly=True)
    for call in (lambda: s.cluster.service("stop", ["local-1"]), lambda: s.images.pull(["local-1"], "busybox:1"),
                 lambda: s.images.remove(["local-1"], "busybox:1"), lambda: s.backups.backup_now(),
                 lambda: s.backups.apply_retention(1), lambda: s.images.label("local-1", "busybox:1", {"a": "b"})):
        with pytest.raises(ReadOnlyRefused):
            await call()
    assert transport.calls == []  # refused before any command reached the host
    assert not log.exists()  # the stand-in k0s was never started
    records = audit_lines(tmp_path)
    assert [r["operation"] for r in records] == ["stop", "pull image", "remove image", "backup",
                                                  "backup retention", "label image"]
    assert all(r["result"] == "error" and "read-only" in r["error"] and r["user"] == "tester" for r in records)


async def test_gate_writes_the_intent_before_the_action_and_the_result_after(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    log = write_old_k0s(bindir, running=True)
    prepend_path(monkeypatch, bindir)
    s, _ = counting_session(tmp_path, bindir)
    seen_when_acting: list[list[dict]] = []
    host = s.host("local-1")
    real_stop = host.stop

    async def stop_and_look():
        seen_when_acting.append(audit_lines(tmp_path))  # what the log held while acting
        return await real_stop()

    host.stop = stop_and_look  # type: ignore[method-assign]
    [result] = await s.cluster.service("stop", ["local-1"])
    assert result.ok and "stop" in log.read_text().split()
    [during] = seen_when_acting
    assert [(r["operation"], r["result"]) for r in during] == [("stop", "intent")]
    assert [(r["operation"], r["result"]) for r in audit_lines(tmp_path)] == [("stop", "intent"), ("stop", "ok")]


async def test_unwritable_audit_log_refuses_the_action_and_leaves_the_host_untouched(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir, running=True)
    prepend_path(monkeypatch, bindir)
    blocked = tmp_path / "audit-is-a-dir"
    blocked.mkdir()  # opening a directory for append fails, as root too
    s, transport = counting_session(tmp_path, bindir, audit_path=blocked)
    with pytest.raises(AuditUnavailable, match="audit log .* cannot be written"):
        await s.cluster.service("stop", ["local-1"])
    with pytest.raises(AuditUnavailable):
        await s.backups.backup_now()
    # The quorum check may read the host's state first; nothing that changes it was sent.
    verbs = [argv[1] for argv in transport.calls if argv[0].endswith("k0s") and len(argv) > 1]
    assert not {"stop", "start", "restart", "backup"} & set(verbs)


async def test_failed_start_carries_init_system_text_and_is_audited(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir, running=False)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir)
    [result] = await s.cluster.service("start", ["local-1"])
    assert not result.ok
    assert "service in failed state" in result.error
    assert "crashed" in result.error  # OpenRC's own words, not just an exit code
    intent, rec = audit_lines(tmp_path)
    assert intent["operation"] == "start" and intent["result"] == "intent"
    assert rec["operation"] == "start" and rec["hosts"] == ["local-1"] and rec["result"] == "error"
    assert "service in failed state" in rec["error"]
    assert rec["time"] == "2026-11-27T12:00:00Z"
    # The session took a fresh snapshot after the action.
    assert s.nodes.snapshot_of("local-1").state is ServiceState.STOPPED


async def test_stop_ok(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir, running=True)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir)
    [result] = await s.cluster.service("stop", ["local-1"])
    assert result.ok
    assert audit_lines(tmp_path)[-1]["result"] == "ok"
    counts = s.nodes.counts()
    assert (counts.total, counts.reachable) == (1, 1)
    snap = s.nodes.snapshot_of("local-1")
    assert snap.state is ServiceState.RUNNING and snap.version == "v1.21.2+k0s.0"
    await s.close()


async def test_refresh_skips_hosts_still_busy(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    write_old_k0s(bindir)
    prepend_path(monkeypatch, bindir)
    s = make_session(tmp_path, bindir)
    s.nodes._busy.add("local-1")  # a refresh of this host is still running
    assert await s.nodes.refresh() == []
    s.nodes._busy.clear()
    [snap] = await s.nodes.refresh()
    assert snap.name == "local-1" and s.nodes.busy_hosts() == set()


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
    data = await s.images.host_images("local-1")
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
    s.images._busy.add(inv.hosts[5].name)  # and this one is still busy from a previous refresh
    got = {host: result async for host, result in s.images.stream()}
    names = [h.name for h in inv.hosts]
    assert set(got) == set(names) - {names[5]}
    assert isinstance(got[names[4]], BackendError) and got[names[4]].host == names[4]
    for name in set(got) - {names[4]}:
        data = got[name]
        if cluster.nodes[name].running:
            assert data.host == name and any("kube-proxy" in g.primary.ref for g in data.groups), name
        else:  # the demo keeps a node stopped: its error, typed, is its answer
            assert isinstance(data, BackendError) and "not running" in data.message, name
    assert s.images._busy == {names[5]}  # the skipped host's mark is not ours to clear

"""The audit log: JSON lines appended, read back, secrets kept out; XDG paths honoured."""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from backends.session.audit import AuditLog, AuditRecord, default_audit_path
from backends.paths import xdg_config_dir, xdg_data_dir, xdg_state_dir


def test_records_are_json_lines_parsed_back(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "state" / "audit.log", user="alice")
    log.record("stop", ["ctrl-1", "worker-2"], ok=True,
               when=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    log.record("pull", ["worker-2"], ok=False, error=RuntimeError("worker-2: exited 1: not found"),
               details={"image": "docker.io/library/busybox:1.36"})
    lines = (tmp_path / "state" / "audit.log").read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {"time": "2026-01-02T03:04:05Z", "user": "alice", "hosts": ["ctrl-1", "worker-2"],
                     "operation": "stop", "result": "ok"}
    recs = list(log.records())
    assert [r.operation for r in recs] == ["stop", "pull"]
    assert recs[1].result == "error" and "exited 1" in recs[1].error
    assert recs[1].details == {"image": "docker.io/library/busybox:1.36"}
    assert oct(os.stat(log.path).st_mode & 0o777) == "0o600"


def test_secrets_never_written(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log", user="bob")
    log.record("restore", ["c1"], details={"sudo_password": "hunter2", "api_token": "abc",
                                           "file": "k0s_backup_x.tar.gz"},
               error="-----BEGIN RSA PRIVATE KEY-----\nMIIB...")
    text = log.path.read_text()
    assert "hunter2" not in text and "abc\"" not in text and "MIIB" not in text
    rec = next(log.records())
    assert rec.details["file"] == "k0s_backup_x.tar.gz"
    assert rec.details["sudo_password"] == "<redacted>" and rec.result == "error"


def test_hostile_text_stays_data(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log", user="c")
    log.record("label", ["n\n{\"fake\": 1}"], details={"label": "[bold]x\n[/]"})
    lines = log.path.read_text().splitlines()
    assert len(lines) == 1  # newlines in data are escaped, never a second record
    rec = AuditRecord.from_json(lines[0])
    assert rec.hosts == ["n\n{\"fake\": 1}"] and rec.details["label"] == "[bold]x\n[/]"


def test_concurrent_writers_never_interleave(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.log", user="d")

    def work(i: int) -> None:
        for j in range(50):
            log.record("op", [f"h{i}-{j}"], details={"pad": "x" * 2000})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = log.path.read_text().splitlines()
    assert len(lines) == 200
    assert all(json.loads(ln)["operation"] == "op" for ln in lines)


def test_missing_log_reads_empty_and_bad_lines_skipped(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "none.log", user="e")
    assert list(log.records()) == []
    log.path.write_text('not json\n{"time":"t","operation":"start","result":"ok","hosts":["a"]}\n')
    assert [r.operation for r in log.records()] == ["start"]


def test_xdg_paths_follow_environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "st"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "da"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "co"))
    assert xdg_state_dir() == tmp_path / "st" / "k0s-tui"
    assert xdg_data_dir() == tmp_path / "da" / "k0s-tui"
    assert xdg_config_dir() == tmp_path / "co" / "k0s-tui"
    assert default_audit_path() == tmp_path / "st" / "k0s-tui" / "audit.log"
    assert AuditLog(user="f").path == tmp_path / "st" / "k0s-tui" / "audit.log"
    # Relative values are invalid per the XDG spec and fall back to the home defaults.
    monkeypatch.setenv("XDG_STATE_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert xdg_state_dir() == tmp_path / "home" / ".local" / "state" / "k0s-tui"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert xdg_data_dir() == tmp_path / "home" / ".local" / "share" / "k0s-tui"


async def test_gate_records_refusal_success_and_cancellation(tmp_path: Path) -> None:
    """The session's mutation gate: a read-only refusal, an intent + ok pair, a cancelled action."""
    import asyncio

    import pytest

    from backends.demo import DemoCluster, DemoTransport, demo_inventory
    from backends.errors import ReadOnlyRefused
    from backends.k0s.backups import BackupCatalog
    from backends.k0s.host import K0sHost
    from backends.session.session import ClusterSession

    cluster = DemoCluster()
    inv = demo_inventory(cluster)
    spec = inv.hosts[3]
    hosts = [K0sHost(s, DemoTransport(cluster, s.demo, latency=(0, 0), host=s.name)) for s in inv.hosts]
    log = AuditLog(tmp_path / "audit.log", user="ops")

    def session(readonly: bool) -> ClusterSession:
        return ClusterSession(inv, hosts, readonly=readonly, audit=log, catalog=BackupCatalog(tmp_path / "b"))

    with pytest.raises(ReadOnlyRefused):
        await session(True).cluster.service("stop", [spec.name])
    assert cluster.node(spec.demo).running
    [result] = await session(False).cluster.service("stop", [spec.name])
    assert result.ok
    with pytest.raises(asyncio.CancelledError):
        async with session(False).mutation("pull", [spec.name], {"image": "n/a"}):
            raise asyncio.CancelledError()
    recs = list(log.records())
    assert [(r.operation, r.result) for r in recs] == [("stop", "error"), ("stop", "intent"), ("stop", "ok"),
                                                       ("pull", "intent"), ("pull", "error")]
    assert "read-only" in recs[0].error and recs[0].hosts == [spec.name]
    assert recs[3].details == {"image": "n/a"} and recs[4].error == "CancelledError"
    assert not cluster.node(spec.demo).running
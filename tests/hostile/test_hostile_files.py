"""Hostile input, class "files the app writes": crafted backup sidecars, corrupt sidecars,
symlinked or group-writable audit log and known_hosts, retention "keep newest 0".

Each test asserts what an attacker would want NOT to happen: files outside the catalog
untouched, nothing written through a symlink, the console's catalog listing never raising.
Runs inside a network namespace with loopback only (tests/fixtures/netns.py).
"""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backends.errors import BackendError, BackupError
from backends.k0s.backups import BackupCatalog, BackupEntry, verify_archive
from backends.privatefile import UnsafeFile
from backends.session.audit import AuditLog
from backends.transport.ssh.trust import fetch_host_key, trust_host_key
from backends.transport.ssh.transport import SSHTransport
from tests.backends.k0s.test_backups import make_archive

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def _good(cat: BackupCatalog, name: str, cluster: str = "c", when: datetime = WHEN) -> BackupEntry:
    path = make_archive(cat.ensure_dir() / name, size=1024)
    info = verify_archive(path)
    entry = BackupEntry(file=name, cluster=cluster, source_host="c1", created=when, size=info.size,
                        storage=info.storage, sha256=info.sha256, verified=True, path=path)
    cat.save(entry)
    return entry


def _sidecar(cat: BackupCatalog, archive: str) -> Path:
    return cat.dir / (archive + ".json")


# ------------------------------------------------------------------ a sidecar naming another file


@pytest.mark.parametrize("target", ["/tmp/VICTIM", "../VICTIM", "sub/../../VICTIM", "VICTIM"])
def test_sidecar_pointing_elsewhere_is_never_acted_on(tmp_path: Path, target: str) -> None:
    cat = BackupCatalog(tmp_path / "catalog")
    victim = tmp_path / "VICTIM"
    victim.write_text("precious")
    if target == "/tmp/VICTIM":
        target = str(victim)
    for i in range(3):  # three good archives, then the crafted one (newest)
        _good(cat, f"k0s_backup_c_{i}.tar.gz", when=WHEN.replace(hour=i))
    crafted = make_archive(cat.dir / "k0s_backup_c_9.tar.gz", size=512)
    record = json.loads(_sidecar(cat, "k0s_backup_c_0.tar.gz").read_text())
    record.update(file=target, created="2026-02-01T00:00:00Z")
    _sidecar(cat, crafted.name).write_text(json.dumps(record))

    rows = {e.file: e for e in cat.list()}
    assert rows[crafted.name].invalid and "names the file" in rows[crafted.name].invalid
    assert rows[crafted.name].path == crafted  # the row is the archive that is there, by name
    with pytest.raises(BackupError):
        cat.delete(rows[crafted.name])
    with pytest.raises(BackupError):
        cat.reverify(rows[crafted.name])
    # Retention keeps the newest good one and never touches the invalid row or the victim.
    deleted = cat.apply_retention(1)
    assert sorted(e.file for e in deleted) == ["k0s_backup_c_0.tar.gz", "k0s_backup_c_1.tar.gz"]
    assert victim.read_text() == "precious"
    assert crafted.exists() and _sidecar(cat, crafted.name).read_text() == json.dumps(record)
    assert not any(p.name.startswith("VICTIM") for p in tmp_path.iterdir() if p != victim)


def test_entry_forged_in_memory_cannot_escape(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path / "catalog")
    victim = tmp_path / "VICTIM.tar.gz"
    victim.write_text("precious")
    entry = _good(cat, "k0s_backup_c_1.tar.gz")
    entry.file = "../VICTIM.tar.gz"
    with pytest.raises(BackupError):
        cat.delete(entry)
    assert victim.read_text() == "precious"


# ------------------------------------------------------------------ corrupt sidecars


CORRUPT = {
    "wrong-types": json.dumps({"file": "ARCHIVE", "size": "big", "verified": "yes"}),
    "huge-number": '{"file": "ARCHIVE", "size": 1e400}',
    "deep-json": '{"file": "ARCHIVE", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "not-an-object": "[1, 2, 3]",
    "bad-date": json.dumps({"file": "ARCHIVE", "created": "yesterday"}),
    "naive-date": json.dumps({"file": "ARCHIVE", "created": "2026-01-01T00:00:00"}),
    "not-utf8": b"\xff\xfe{}",
}


@pytest.mark.parametrize("kind", [*CORRUPT, "directory", "dangling-archive", "symlinked-sidecar"])
def test_one_corrupt_sidecar_is_an_unreadable_row(tmp_path: Path, kind: str) -> None:
    cat = BackupCatalog(tmp_path / "catalog")
    good = _good(cat, "k0s_backup_c_1.tar.gz")
    bad = "k0s_backup_c_2.tar.gz"
    if kind == "dangling-archive":
        (cat.dir / bad).symlink_to(tmp_path / "gone.tar.gz")
    else:
        make_archive(cat.dir / bad, size=256)
    side = _sidecar(cat, bad)
    if kind == "directory":
        side.mkdir()
    elif kind == "symlinked-sidecar":
        other = tmp_path / "elsewhere.json"
        other.write_text(_sidecar(cat, good.file).read_text().replace(good.file, bad))
        side.symlink_to(other)
    elif kind != "dangling-archive":
        data = CORRUPT[kind]
        side.write_bytes(data if isinstance(data, bytes) else data.replace("ARCHIVE", bad).encode())
    rows = {e.file: e for e in cat.list()}  # never raises
    if kind == "naive-date":  # a date without zone is read as UTC: a valid row
        assert not rows[bad].invalid
        return
    assert rows[bad].invalid, rows[bad]
    assert rows[good.file].verified and not rows[good.file].invalid
    assert cat.retention_plan(1) == []  # the unreadable row is neither counted nor doomed
    with pytest.raises(BackupError):
        cat.delete(rows[bad])
    assert (cat.dir / bad).is_symlink() or (cat.dir / bad).exists()


def test_retention_keep_zero_is_refused(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path / "catalog")
    _good(cat, "k0s_backup_c_1.tar.gz")
    for keep in (0, -1):
        with pytest.raises(ValueError, match="at least 1"):
            cat.apply_retention(keep)
    assert [p.name for p in cat.dir.glob("*.tar.gz")] == ["k0s_backup_c_1.tar.gz"]


# ------------------------------------------------------------------ the audit log


def test_audit_log_symlink_is_refused_and_target_untouched(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    log = tmp_path / "state" / "audit.log"
    log.parent.mkdir(mode=0o700)
    log.symlink_to(victim)
    with pytest.raises(UnsafeFile, match="symbolic link"):
        AuditLog(log, user="op").record("delete backup", ["n1"])
    assert victim.read_text() == "precious\n"


def test_audit_log_writable_by_others_is_refused(tmp_path: Path) -> None:
    log = tmp_path / "audit.log"
    log.write_text("")
    log.chmod(0o666)
    with pytest.raises(UnsafeFile, match="writable by group or others"):
        AuditLog(log, user="op").record("x", [])
    assert log.read_text() == ""


def test_audit_log_created_private_and_ascii(tmp_path: Path) -> None:
    log = tmp_path / "new" / "audit.log"
    AuditLog(log, user="op").record("restore", ["evil\x1b]52;c;aGk=\x07\x9b2J"], error="bad \x7f\u202e")
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    raw = log.read_bytes()
    assert all(32 <= b < 127 for b in raw.rstrip(b"\n")), raw  # `cat audit.log` is safe
    rec = json.loads(raw)
    assert rec["hosts"] == ["evil\x1b]52;c;aGk=\x07\x9b2J"]  # the data itself is kept exactly


# ------------------------------------------------------------------ the app's known_hosts (real sshd)


async def test_known_hosts_symlink_refused_over_real_ssh(sshd_server, tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    app_kh = tmp_path / "data" / "known_hosts"
    app_kh.parent.mkdir(mode=0o700)
    app_kh.symlink_to(victim)
    settings = sshd_server.settings(known_hosts=(), app_known_hosts=app_kh)
    spec = sshd_server.host_spec("node")
    _, _, line = await fetch_host_key(spec, settings)
    with pytest.raises(BackendError, match="symbolic link"):
        await trust_host_key(spec, settings, line)
    with pytest.raises(BackendError, match="symbolic link"):
        await SSHTransport(spec, settings).run(["true"])
    assert victim.read_text() == "precious\n"


async def test_known_hosts_writable_by_others_refused(sshd_server, tmp_path: Path) -> None:
    app_kh = tmp_path / "known_hosts"
    app_kh.write_text(f"[127.0.0.1]:{sshd_server.port} {sshd_server.host_key_line}\n")
    app_kh.chmod(0o646)
    settings = sshd_server.settings(known_hosts=(), app_known_hosts=app_kh)
    with pytest.raises(BackendError, match="writable by group or others"):
        await SSHTransport(sshd_server.host_spec("node"), settings).run(["true"])
    app_kh.chmod(0o600)
    t = SSHTransport(sshd_server.host_spec("node"), settings)
    try:
        assert (await t.run(["true"])).ok  # the same file, private again, is used
    finally:
        await t.close()


async def test_trusted_key_file_created_private(sshd_server, tmp_path: Path) -> None:
    app_kh = tmp_path / "fresh" / "k0s-tui" / "known_hosts"
    settings = sshd_server.settings(known_hosts=(), app_known_hosts=app_kh)
    spec = sshd_server.host_spec("node")
    _, _, line = await fetch_host_key(spec, settings)
    await trust_host_key(spec, settings, line)
    assert stat.S_IMODE(app_kh.stat().st_mode) == 0o600
    assert stat.S_IMODE(app_kh.parent.stat().st_mode) == 0o700
    assert os.path.isfile(app_kh) and not app_kh.is_symlink()


def test_archive_with_a_device_member_is_refused(tmp_path: Path) -> None:
    import tarfile

    dev = tarfile.TarInfo("pki/evil")
    dev.type, dev.devmajor, dev.devminor = tarfile.CHRTYPE, 1, 3
    path = make_archive(tmp_path / "k0s_backup_c_1.tar.gz", extra=[dev], size=256)
    with pytest.raises(BackupError, match="device or FIFO"):
        verify_archive(path)

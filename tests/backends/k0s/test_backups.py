"""The backup catalog with real tar archives: verification, naming, retention, backup and restore."""

from __future__ import annotations

import asyncio
import gzip
import io
import os
import tarfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backends.k0s.backups import (
    BackupCatalog,
    BackupEntry,
    config_storage_type,
    sha256_file,
    verify_archive,
)
from backends.errors import BackupError

K0S_YAML_ETCD = b"apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  storage:\n    type: etcd\n"
K0S_YAML_KINE = b"apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  storage:\n    type: kine\n"


def make_archive(path: Path, members: dict[str, bytes] | None = None, *, storage: str = "etcd",
                 extra: list[tarfile.TarInfo] | None = None, size: int = 64 << 10) -> Path:
    """A k0s-layout backup archive (real gzip tar) with incompressible payload of ``size``."""
    if members is None:
        db = "etcd-snapshot.db" if storage == "etcd" else "kine-state-backup.db"
        members = {
            "k0s.yaml": K0S_YAML_ETCD if storage == "etcd" else K0S_YAML_KINE,
            db: os.urandom(size),
            "pki/ca.crt": b"-----BEGIN CERTIFICATE-----\n",
            "pki/etcd/ca.crt": b"-----BEGIN CERTIFICATE-----\n",
            "manifests/calico/x.yaml": b"kind: X\n",
        }
    with tarfile.open(path, "w:gz") as tar:
        dirs = sorted({str(Path(n).parent) for n in members if "/" in n})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o700
            tar.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def test_verify_good_etcd_and_kine(tmp_path: Path) -> None:
    good = make_archive(tmp_path / "a.tar.gz")
    info = verify_archive(good)
    assert info.storage == "etcd" and info.sha256 == sha256_file(good)
    assert info.size == good.stat().st_size and info.unpacked_size > 64 << 10
    assert "type: etcd" in info.config_text
    kine = verify_archive(make_archive(tmp_path / "k.tar.gz", storage="kine"))
    assert kine.storage == "kine"


@pytest.mark.parametrize("members, reason", [
    ({"etcd-snapshot.db": b"x", "pki/ca.crt": b"c"}, "k0s.yaml is missing"),
    ({"k0s.yaml": b"a", "pki/ca.crt": b"c"}, "neither etcd-snapshot.db nor kine-state-backup.db"),
    ({"k0s.yaml": b"a", "etcd-snapshot.db": b"x", "kine-state-backup.db": b"y", "pki/ca.crt": b"c"}, "both"),
    ({"k0s.yaml": b"a", "etcd-snapshot.db": b"x"}, "pki/ is missing"),
    ({"k0s.yaml": b"a", "etcd-snapshot.db": b"x", "pki/ca.crt": b"c", "../evil": b"e"}, "unsafe member path"),
    ({"k0s.yaml": b"a", "etcd-snapshot.db": b"x", "pki/ca.crt": b"c", "/etc/evil": b"e"}, "unsafe member path"),
    ({"k0s.yaml": b"a", "etcd-snapshot.db": b"x", "pki/../../evil": b"c"}, "unsafe member path"),
])
def test_verify_rejects_bad_layouts(tmp_path: Path, members: dict[str, bytes], reason: str) -> None:
    bad = make_archive(tmp_path / "bad.tar.gz", members)
    with pytest.raises(BackupError, match=reason.replace("/", ".").replace("(", ".")):
        verify_archive(bad)


def test_verify_rejects_symlink_escaping(tmp_path: Path) -> None:
    link = tarfile.TarInfo("pki/link")
    link.type = tarfile.SYMTYPE
    link.linkname = "../../../etc/shadow"
    bad = make_archive(tmp_path / "l.tar.gz", {"k0s.yaml": b"a", "etcd-snapshot.db": b"x", "pki/ca.crt": b"c"},
                       extra=[link])
    with pytest.raises(BackupError, match="links outside"):
        verify_archive(bad)


@pytest.mark.parametrize("cut", [0.5, 0.9, 0.999])
def test_verify_rejects_truncated(tmp_path: Path, cut: float) -> None:
    good = make_archive(tmp_path / "g.tar.gz", size=256 << 10)
    data = good.read_bytes()
    bad = tmp_path / "t.tar.gz"
    bad.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(BackupError, match="not a readable gzip tar"):
        verify_archive(bad)


def test_verify_rejects_corruption_and_garbage(tmp_path: Path) -> None:
    good = make_archive(tmp_path / "g.tar.gz", size=128 << 10)
    data = bytearray(good.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a flipped byte in the middle: CRC or inflate fails
    flipped = tmp_path / "f.tar.gz"
    flipped.write_bytes(bytes(data))
    with pytest.raises(BackupError):
        verify_archive(flipped)
    junk = tmp_path / "j.tar.gz"
    junk.write_bytes(b"this is not gzip at all")
    with pytest.raises(BackupError, match="not a readable"):
        verify_archive(junk)
    plain = tmp_path / "p.tar.gz"
    plain.write_bytes(gzip.compress(b"not a tar" * 100))
    with pytest.raises(BackupError):
        verify_archive(plain)
    with pytest.raises(BackupError, match="not found"):
        verify_archive(tmp_path / "missing.tar.gz")


def test_storage_type_of_config() -> None:
    assert config_storage_type(K0S_YAML_KINE.decode()) == "kine"
    assert config_storage_type("apiVersion: v1\nspec: {}\n") == "etcd"
    assert config_storage_type("") == "etcd"
    with pytest.raises(ValueError):
        config_storage_type("spec: [unclosed")


def _entry(catalog: BackupCatalog, name: str, cluster: str, created: datetime) -> BackupEntry:
    path = make_archive(catalog.ensure_dir() / name, size=1024)
    info = verify_archive(path)
    entry = BackupEntry(file=name, cluster=cluster, source_host="c1", created=created, size=info.size,
                        storage=info.storage, sha256=info.sha256, verified=True, verified_at=created,
                        k0s_version="v1.30.0+k0s.0", path=path)
    catalog.save(entry)
    return entry


def test_catalog_list_roundtrip_and_orphans(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path / "b")
    assert cat.list() == []
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    e1 = _entry(cat, "k0s_backup_x_1.tar.gz", "x", t0)
    _entry(cat, "k0s_backup_x_2.tar.gz", "x", t0 + timedelta(hours=1))
    make_archive(cat.dir / "foreign.tar.gz", size=10)  # no sidecar
    (cat.dir / "k0s_backup_x_3.tar.gz.partial").write_bytes(b"half")  # never listed
    listed = cat.list()
    # Newest first; the orphan is dated by its mtime (now).
    assert [e.file for e in listed] == ["foreign.tar.gz", "k0s_backup_x_2.tar.gz", "k0s_backup_x_1.tar.gz"]
    by_name = {e.file: e for e in listed}
    back = by_name["k0s_backup_x_1.tar.gz"]
    assert back.sha256 == e1.sha256 and back.created == t0 and back.verified and back.storage == "etcd"
    assert back.k0s_version == "v1.30.0+k0s.0"
    orphan = by_name["foreign.tar.gz"]
    assert not orphan.verified and "no catalog record" in orphan.verify_error
    assert cat.newest("x").file == "k0s_backup_x_2.tar.gz"


def test_archives_of_the_same_second_keep_the_order_they_were_made(tmp_path: Path) -> None:
    """Sidecar times have whole seconds: three backups in one second are `stem`, `stem-1`,
    `stem-2` (commit's suffixes), and that is their order, newest first, and what retention
    keeps (by name alone `stem.tar.gz` sorts after `stem-1.tar.gz`)."""
    cat = BackupCatalog(tmp_path)
    t0 = datetime(2026, 1, 1, 10, 15, 42, tzinfo=timezone.utc)
    stem = "k0s_backup_a_20260101T101542Z"
    for name in (f"{stem}.tar.gz", f"{stem}-1.tar.gz", f"{stem}-2.tar.gz", f"{stem}-10.tar.gz"):
        _entry(cat, name, "a", t0)
    _entry(cat, "k0s_backup_a_20260101T101541Z-3.tar.gz", "a", t0 - timedelta(seconds=1))
    assert [e.file for e in cat.list()] == [f"{stem}-10.tar.gz", f"{stem}-2.tar.gz", f"{stem}-1.tar.gz",
                                           f"{stem}.tar.gz", "k0s_backup_a_20260101T101541Z-3.tar.gz"]
    assert [e.file for e in cat.apply_retention(3)] == [f"{stem}.tar.gz", "k0s_backup_a_20260101T101541Z-3.tar.gz"]


def test_delete_and_retention(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path)
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(5):
        _entry(cat, f"k0s_backup_a_{i}.tar.gz", "a", t0 + timedelta(days=i))
    for i in range(2):
        _entry(cat, f"k0s_backup_b_{i}.tar.gz", "b", t0 + timedelta(days=i))
    deleted = cat.apply_retention(2)
    assert sorted(e.file for e in deleted) == [f"k0s_backup_a_{i}.tar.gz" for i in range(3)]
    left = sorted(e.file for e in cat.list())
    assert left == ["k0s_backup_a_3.tar.gz", "k0s_backup_a_4.tar.gz", "k0s_backup_b_0.tar.gz", "k0s_backup_b_1.tar.gz"]
    assert not (tmp_path / "k0s_backup_a_0.tar.gz.json").exists()
    cat.delete(cat.newest("b"))
    assert [e.file for e in cat.list() if e.cluster == "b"] == ["k0s_backup_b_0.tar.gz"]
    with pytest.raises(ValueError):
        cat.apply_retention(-1)


def test_reverify_detects_tampering(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path)
    entry = _entry(cat, "k0s_backup_a.tar.gz", "a", datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert cat.reverify(entry).verified
    # Replace it with a different but well-formed archive: layout fine, checksum not.
    make_archive(tmp_path / "k0s_backup_a.tar.gz", size=1024)
    again = cat.reverify(entry)
    assert not again.verified and "sha256 changed" in again.verify_error
    assert not cat.list()[0].verified  # the outcome is recorded in the sidecar
    (tmp_path / "k0s_backup_a.tar.gz").write_bytes(b"\x1f\x8b garbage")
    assert "not a readable" in cat.reverify(entry).verify_error


def test_commit_never_overwrites(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path)
    existing = tmp_path / "k0s_backup_c_T.tar.gz"
    existing.write_bytes(b"precious")
    p1 = cat.new_partial("k0s_backup_c_T")
    p1.write_bytes(b"one")
    p2 = cat.new_partial("k0s_backup_c_T")
    assert p1 != p2
    p2.write_bytes(b"two")
    f1 = cat.commit(p1, "k0s_backup_c_T")
    f2 = cat.commit(p2, "k0s_backup_c_T")
    assert existing.read_bytes() == b"precious"
    assert f1.name == "k0s_backup_c_T-1.tar.gz" and f1.read_bytes() == b"one"
    assert f2.name == "k0s_backup_c_T-2.tar.gz" and f2.read_bytes() == b"two"
    assert not p1.exists() and not p2.exists()
    assert oct(f1.stat().st_mode & 0o777) == "0o600"


# ---------------------------------------------------------------------------- backups from hosts

from backends.errors import CommandFailed  # noqa: E402
from backends.k0s.backups import cluster_backup  # noqa: E402
from backends.hosts.spec import HostSpec  # noqa: E402
from backends.k0s.host import K0sHost  # noqa: E402
from backends.transport.local import LocalTransport  # noqa: E402
from tests.k0s_scripts import prepend_path, write_backup_k0s  # noqa: E402


def _local_host(name: str, role: str = "controller", binary: str = "k0s") -> K0sHost:
    return K0sHost(HostSpec(name=name, role=role, k0s_binary=binary), LocalTransport(name))


@pytest.mark.timeout(60)
async def test_stream_cut_leaves_nothing_and_next_backup_works(tmp_path: Path, monkeypatch) -> None:
    good = make_archive(tmp_path / "src.tar.gz", size=512 << 10)
    cat = BackupCatalog(tmp_path / "catalog")
    earlier = _entry(cat, "k0s_backup_prod_20250101T000000Z.tar.gz", "prod",
                     datetime(2025, 1, 1, tzinfo=timezone.utc))
    before = {p.name: p.read_bytes() for p in cat.dir.iterdir()}
    log = write_backup_k0s(tmp_path / "bin", good, fraction=0.5)
    prepend_path(monkeypatch, tmp_path / "bin")
    hosts = [_local_host("w1", role="worker"), _local_host("c1", binary=str(tmp_path / "absent")),
             _local_host("c2")]
    seen: list[str] = []
    with pytest.raises(CommandFailed) as info:
        await cluster_backup(hosts, cat, lambda p: seen.append(p.phase), cluster="prod")
    # c2 is the first running controller; the stand-in dies by SIGKILL mid-stream.
    assert info.value.host == "c2" and info.value.exit_status == -9
    assert "connection lost" in info.value.message
    # Nothing new: no partial, no archive, the earlier entry untouched.
    assert {p.name: p.read_bytes() for p in cat.dir.iterdir()} == before
    assert [e.file for e in cat.list()] == [earlier.file]
    assert "stream" in seen and "backup --save-path - --data-dir=/var/lib/k0s" in log.read_text()
    # The next backup (stream intact) lands, verified, from the first running controller.
    write_backup_k0s(tmp_path / "bin", good)
    progress: list[tuple[str, int]] = []
    entry = await cluster_backup(hosts, cat, lambda p: progress.append((p.phase, p.done)), cluster="prod")
    assert entry.source_host == "c2" and entry.verified and entry.storage == "etcd"
    assert entry.sha256 == sha256_file(good) and entry.k0s_version == "v1.30.1+k0s.0"
    assert entry.file.startswith("k0s_backup_prod_") and entry.file.endswith(".tar.gz")
    assert (cat.dir / entry.file).read_bytes() == good.read_bytes()
    assert not list(cat.dir.glob("*.partial"))
    assert max(d for ph, d in progress if ph == "stream") == good.stat().st_size
    assert progress[-1][0] == "done"
    assert [e.file for e in cat.list()] == [entry.file, earlier.file]


async def test_backup_verification_failure_discards(tmp_path: Path, monkeypatch) -> None:
    bad = make_archive(tmp_path / "bad.tar.gz", {"k0s.yaml": b"a", "pki/ca.crt": b"c"})
    cat = BackupCatalog(tmp_path / "catalog")
    write_backup_k0s(tmp_path / "bin", bad)
    prepend_path(monkeypatch, tmp_path / "bin")
    with pytest.raises(BackupError, match="failed verification.*neither etcd-snapshot.db"):
        await cluster_backup([_local_host("c1")], cat, cluster="x")
    assert list(cat.dir.iterdir()) == []


async def test_two_backups_same_second_never_overwrite(tmp_path: Path, monkeypatch) -> None:
    good = make_archive(tmp_path / "src.tar.gz", size=1024)
    cat = BackupCatalog(tmp_path / "catalog")
    write_backup_k0s(tmp_path / "bin", good)
    prepend_path(monkeypatch, tmp_path / "bin")
    fixed = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    a, b = await asyncio.gather(*(cluster_backup([_local_host("c1")], cat, cluster="x", now=lambda: fixed)
                                  for _ in range(2)))
    assert sorted([a.file, b.file]) == ["k0s_backup_x_20260304T050607Z-1.tar.gz",
                                        "k0s_backup_x_20260304T050607Z.tar.gz"]
    assert len(cat.list()) == 2 and all(e.verified for e in cat.list())


async def test_no_running_controller_explained(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path / "catalog")
    with pytest.raises(BackupError, match="no controller with k0s running: c1: no k0s binary"):
        await cluster_backup([_local_host("c1", binary=str(tmp_path / "none"))], cat)
    with pytest.raises(BackupError, match="no controller in the inventory"):
        await cluster_backup([_local_host("w1", role="worker")], cat)


# ---------------------------------------------------------------------------- the demo cluster

from backends.k0s.backups import restore, restore_preconditions  # noqa: E402
from backends.demo import DemoCluster, DemoTransport, demo_inventory  # noqa: E402
from backends.errors import ReadOnlyRefused  # noqa: E402


def _demo_hosts(cluster: DemoCluster) -> list[K0sHost]:
    return [K0sHost(s, DemoTransport(cluster, s.demo, latency=(0, 0), host=s.name))
            for s in demo_inventory(cluster).hosts]


async def test_demo_backup_then_restore_refused_while_running_done_after_stop(tmp_path: Path) -> None:
    cluster = DemoCluster()
    hosts = _demo_hosts(cluster)
    cat = BackupCatalog(tmp_path / "catalog")
    cluster.stop(cluster.node("controller-1"))  # like k0sctl: the first controller that runs
    phases: list[str] = []
    entry = await cluster_backup(hosts, cat, lambda p: phases.append(p.phase), cluster=cluster.name)
    assert entry.source_host == "controller-2" and entry.storage == "etcd" and entry.verified
    assert entry.k0s_version and entry.k0s_version.startswith("v1.")
    assert phases[0] == "select" and phases[-1] == "done" and "verify" in phases
    with tarfile.open(cat.dir / entry.file) as tar:
        names = tar.getnames()
    assert "k0s.yaml" in names and "etcd-snapshot.db" in names and any(n.startswith("pki/") for n in names)
    assert cat.list()[0].sha256 == entry.sha256

    target = hosts[2]  # controller-3, running
    checks = {c.name: c for c in await restore_preconditions(target, entry, cat)}
    assert not checks["k0s stopped"].ok and "stop it first" in checks["k0s stopped"].detail
    assert checks["archive intact"].ok and checks["storage type"].ok
    with pytest.raises(BackupError, match="restore refused: k0s stopped: k0s is running on controller-3"):
        await restore(target, entry, catalog=cat)
    await target.stop()
    checks = await restore_preconditions(target, entry, cat)
    assert all(c.ok for c in checks if c.blocking), checks
    up: list[int] = []
    result = await restore(target, entry, lambda p: up.append(p.done), catalog=cat)
    assert result.ok and up and max(up) == entry.size


async def test_restore_checks_storage_type_and_tampering(tmp_path: Path) -> None:
    cluster = DemoCluster(storage="kine")
    hosts = _demo_hosts(cluster)
    cat = BackupCatalog(tmp_path)
    entry = await cluster_backup(hosts, cat, cluster="k")
    assert entry.storage == "kine"
    etcd_cluster = DemoCluster(storage="etcd")
    other = _demo_hosts(etcd_cluster)[0]
    await other.stop()
    checks = {c.name: c for c in await restore_preconditions(other, entry, cat)}
    assert not checks["storage type"].ok and "kine" in checks["storage type"].detail
    assert "etcd" in checks["storage type"].detail
    # Tampering after the backup is caught before anything is sent.
    make_archive(cat.dir / entry.file, storage="kine", size=1024)
    target = hosts[0]
    await target.stop()
    with pytest.raises(BackupError, match="archive intact: sha256 differs"):
        await restore(target, entry, catalog=cat)
    worker = next(h for h in hosts if h.spec.role == "worker")
    checks = {c.name: c for c in await restore_preconditions(worker, entry, cat)}
    assert not checks["target is a controller"].ok


async def test_restore_readonly_refused(tmp_path: Path) -> None:
    cluster = DemoCluster()
    cat = BackupCatalog(tmp_path)
    entry = await cluster_backup(_demo_hosts(cluster), cat, cluster="d")
    from backends.session.audit import AuditLog
    from backends.session.session import ClusterSession

    hosts = _demo_hosts(cluster)
    session = ClusterSession(demo_inventory(cluster), hosts, readonly=True, audit=AuditLog(tmp_path / "a.log"),
                             catalog=cat)
    cluster.node(hosts[0].name).running = False  # even where a restore could run
    before = cluster.to_json()
    with pytest.raises(ReadOnlyRefused):
        await session.backups.restore(entry, hosts[0].name)
    assert cluster.to_json() == before


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=4096), st.booleans())
def test_verify_garbage_only_backup_error(tmp_path: Path, data: bytes, as_gzip: bool) -> None:
    """Whatever the bytes (raw or gzipped), verification says BackupError, never anything else."""
    path = tmp_path / "g.tar.gz"
    path.write_bytes(gzip.compress(data) if as_gzip else data)
    with pytest.raises(BackupError):
        verify_archive(path)


def test_clean_partials_removes_only_stale(tmp_path: Path) -> None:
    cat = BackupCatalog(tmp_path)
    stale = cat.new_partial("k0s_backup_a_1")
    fresh = cat.new_partial("k0s_backup_a_2")
    os.utime(stale, (1_000_000, 1_000_000))
    assert cat.clean_partials() == [stale]
    assert fresh.exists() and not stale.exists()

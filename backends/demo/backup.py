"""`k0s backup` archives (real gzip tar, real layout) and reading them back for `k0s restore`."""

from __future__ import annotations

import gzip
import io
import tarfile
from datetime import datetime

from backends.demo.state import DATA_DIR, DemoNode

STORE_MEMBERS = {"etcd": "etcd-snapshot.db", "kine": "kine-state-backup.db"}


def _add(tar: tarfile.TarFile, name: str, data: bytes, mtime: float, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    info.mode = mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = 0o755
    info.mtime = int(mtime)
    tar.addfile(info)


def make_backup(cluster, node: DemoNode, when: datetime) -> bytes:
    """The archive ``k0s backup`` writes on ``node``: k0s.yaml, the store, pki/…, manifests/…."""
    mtime = when.timestamp()
    raw = io.BytesIO()
    # Go's archive/tar + gzip: one gzip member, no name in the header.
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=int(mtime)) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, "k0s.yaml", cluster.read(node, "/etc/k0s/k0s.yaml"), mtime, 0o600)
            _add(tar, STORE_MEMBERS[cluster.storage], cluster.store_bytes(node), mtime, 0o600)
            seen_dirs: set[str] = set()
            for path in cluster.file_names(node):
                for top in ("pki", "manifests"):
                    prefix = f"{DATA_DIR}/{top}/"
                    if not path.startswith(prefix):
                        continue
                    rel = path[len(DATA_DIR) + 1:]
                    parts = rel.split("/")
                    for i in range(1, len(parts)):
                        d = "/".join(parts[:i])
                        if d not in seen_dirs:
                            seen_dirs.add(d)
                            _add_dir(tar, d, mtime)
                    mode = 0o600 if rel.endswith((".key", ".conf")) else 0o644
                    _add(tar, rel, cluster.read(node, path), mtime, mode)
    return raw.getvalue()


class RestoreError(Exception):
    """The archive cannot be restored (the message reads like k0s's)."""


def read_backup(data: bytes) -> dict[str, bytes]:
    """Regular files of a backup archive (name -> bytes); RestoreError when unreadable or incomplete."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            files: dict[str, bytes] = {}
            for member in tar:
                name = member.name.lstrip("./")
                if member.name.startswith("/") or ".." in member.name.split("/"):
                    raise RestoreError(f"illegal file path in archive: {member.name}")
                if member.isfile():
                    fh = tar.extractfile(member)
                    files[name] = fh.read() if fh else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RestoreError(f"failed to extract archive: {exc}") from exc
    if "k0s.yaml" not in files:
        raise RestoreError("failed to restore: k0s.yaml not found in the backup archive")
    if not any(n in files for n in STORE_MEMBERS.values()):
        raise RestoreError("failed to restore: no etcd snapshot or kine database in the backup archive")
    return files

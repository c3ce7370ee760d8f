"""The local backup catalog: cluster backups streamed home, verified, kept, restored.

Layout: one directory (default ``$XDG_DATA_HOME/k0s-tui/backups``) holding
``k0s_backup_<cluster>_<UTC timestamp>.tar.gz`` archives, each with a sidecar
``<archive>.json`` (a :class:`BackupEntry`). A backup in progress lives in a ``*.partial``
file that is removed on any failure, so the catalog only ever shows verified archives.
Archives hold the cluster's private keys: files are created 0600.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import stat
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath


from backends.errors import (
    AuthFailed,
    BackendError,
    BackupError,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    K0sNotInstalled,
    K0sNotRunning,
)
from backends.k0s.host import K0sHost
from backends.paths import xdg_data_dir
from backends.safetext import clean_line
from backends.safeyaml import UnsafeYAML, load_file_yaml, load_json
from backends.transport.base import CommandResult

ARCHIVE_PREFIX = "k0s_backup_"
ARCHIVE_SUFFIX = ".tar.gz"
SIDECAR_SUFFIX = ".json"
PARTIAL_SUFFIX = ".partial"
STORAGE_FILES = {"etcd-snapshot.db": "etcd", "kine-state-backup.db": "kine"}
_CHUNK = 1 << 20


def default_backup_dir() -> Path:
    """$XDG_DATA_HOME/k0s-tui/backups."""
    return xdg_data_dir() / "backups"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if dt else None


def _parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)  # comparable with the rest


def safe_name(text: str) -> str:
    """``text`` reduced to characters safe in a file name (others become ``_``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "cluster"


# ---------------------------------------------------------------------------- archive checks

@dataclass
class ArchiveInfo:
    """What verification learnt about an archive."""

    path: Path
    size: int
    sha256: str
    storage: str  # "etcd" or "kine"
    members: int
    unpacked_size: int
    config_text: str = ""


def _member_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _unsafe_path(name: str) -> bool:
    return name.startswith("/") or ".." in PurePosixPath(name).parts


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_and_check_gzip(path: Path, label: str) -> str:
    """sha256 of the file, inflating it to the end on the way (bounded memory); the hex digest."""
    digest = hashlib.sha256()
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            data = chunk
            while data:
                if inflate.eof:  # another gzip member follows (concatenated members are valid gzip)
                    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
                inflate.decompress(data, _CHUNK)  # output discarded: only the CRC check matters
                data = inflate.unconsumed_tail or inflate.unused_data
    if size == 0 or not inflate.eof:
        raise BackupError("", f"{label}: not a readable gzip tar archive (gzip stream ends early: truncated)")
    return digest.hexdigest()


def verify_archive(path: Path | str) -> ArchiveInfo:
    """Check a k0s backup archive end to end; raise BackupError saying what is wrong.

    Holds when: the gzip stream decompresses to its end with a good CRC, the tar reads to its
    end, ``k0s.yaml`` and exactly one of ``etcd-snapshot.db`` / ``kine-state-backup.db`` are at
    the top level, ``pki/`` is present, and no member (or link target) is absolute or uses ``..``.
    """
    import tarfile  # here, not at module level: the console's start-up never reads an archive

    path = Path(path)
    label = path.name
    try:
        size = path.stat().st_size
        # Pass 1: checksum and the whole gzip stream (truncation or a bad CRC fails here).
        sha = _hash_and_check_gzip(path, label)
        # Pass 2: the tar members, each read to its end.
        names: set[str] = set()
        members = 0
        unpacked = 0
        config = b""
        with tarfile.open(path, mode="r|gz") as tar:
            for member in tar:
                members += 1
                name = _member_name(member.name)
                if _unsafe_path(member.name):
                    raise BackupError("", f"{label}: unsafe member path {member.name!r}")
                if (member.issym() or member.islnk()) and _unsafe_path(member.linkname):
                    raise BackupError("", f"{label}: member {member.name!r} links outside the archive")
                if member.isdev():  # device nodes and FIFOs: never in a k0s backup, dangerous to restore
                    raise BackupError("", f"{label}: member {member.name!r} is a device or FIFO")
                names.add(name)
                if member.isfile():
                    unpacked += member.size
                    fh = tar.extractfile(member)
                    assert fh is not None
                    if name == "k0s.yaml":
                        config = fh.read(4 << 20)
                    while fh.read(_CHUNK):
                        pass
    except BackupError:
        raise
    except FileNotFoundError as exc:
        raise BackupError("", f"{label}: archive not found") from exc
    except (OSError, EOFError, tarfile.TarError, zlib.error) as exc:
        raise BackupError("", f"{label}: not a readable gzip tar archive ({exc or type(exc).__name__})") from exc
    if members == 0:
        raise BackupError("", f"{label}: archive is empty")
    problems: list[str] = []
    if "k0s.yaml" not in names:
        problems.append("k0s.yaml is missing")
    stores = [f for f in STORAGE_FILES if f in names]
    if not stores:
        problems.append("neither etcd-snapshot.db nor kine-state-backup.db is present")
    elif len(stores) > 1:
        problems.append("both etcd-snapshot.db and kine-state-backup.db are present")
    if not any(n == "pki" or n.startswith("pki/") for n in names):
        problems.append("pki/ is missing")
    if problems:
        raise BackupError("", f"{label}: " + "; ".join(problems))
    return ArchiveInfo(path=path, size=size, sha256=sha, storage=STORAGE_FILES[stores[0]],
                       members=members, unpacked_size=unpacked,
                       config_text=config.decode("utf-8", "replace"))


def config_storage_type(config_text: str) -> str:
    """``spec.storage.type`` of a k0s.yaml (``etcd`` when unset, k0s's default)."""
    import yaml  # for YAMLError; loaded with the first parse (see backends.safeyaml)

    try:
        # The archive's or the host's k0s.yaml: aliases, depth and size bounded like the Config pane's.
        docs = [d for d in load_file_yaml(config_text) if d is not None]
        doc = docs[0] if docs else {}
    except UnsafeYAML as exc:
        raise ValueError(f"k0s.yaml refused: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"k0s.yaml is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError("k0s.yaml is not a mapping")
    storage = ((doc.get("spec") or {}).get("storage") or {}) if isinstance(doc.get("spec") or {}, dict) else {}
    kind = storage.get("type") if isinstance(storage, dict) else None
    return str(kind or "etcd")


# ---------------------------------------------------------------------------- catalog

@dataclass
class BackupEntry:
    """One archive of the catalog (stored as the archive's ``.json`` sidecar)."""

    file: str  # file name inside the catalog directory
    cluster: str
    source_host: str
    created: datetime
    size: int
    storage: str  # "etcd", "kine" or "" when unknown
    sha256: str
    verified: bool = False
    verified_at: datetime | None = None
    k0s_version: str | None = None
    unpacked_size: int = 0
    verify_error: str = ""
    path: Path = field(default=Path(), compare=False, repr=False)
    # Why the catalog refuses to act on this row ("" when it may): a sidecar naming another
    # file, an unreadable sidecar, an archive that is a symlink or not a regular file.
    invalid: str = field(default="", compare=False)

    @property
    def storage_label(self) -> str:
        """Display name of the storage type (kine is SQLite in k0s's default setup)."""
        return {"etcd": "etcd", "kine": "kine (SQLite)"}.get(self.storage, self.storage or "?")

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("path")
        data.pop("invalid")
        data["created"] = _iso(self.created)
        data["verified_at"] = _iso(self.verified_at)
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, path: Path) -> "BackupEntry":
        """The record of the archive at ``path``; ValueError for anything but a well-typed record
        naming exactly that archive (a sidecar cannot point the catalog at another file)."""
        data = load_json(text, max_depth=4)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        name = _field(data, "file", str, required=True)
        if name != path.name or not is_archive_name(name):
            raise ValueError(f"names the file {name!r}, not the archive {path.name!r} beside it")
        return cls(
            file=name, cluster=_field(data, "cluster", str),
            source_host=_field(data, "source_host", str),
            created=_parse_iso(_field(data, "created", str)) or _utcnow(),
            size=_field(data, "size", int), storage=_field(data, "storage", str),
            sha256=_field(data, "sha256", str), verified=_field(data, "verified", bool),
            verified_at=_parse_iso(_field(data, "verified_at", str) or None),
            k0s_version=_field(data, "k0s_version", str) or None,
            unpacked_size=_field(data, "unpacked_size", int),
            verify_error=_field(data, "verify_error", str), path=path,
        )


_DEFAULTS: dict[type, object] = {str: "", int: 0, bool: False}


def _field(data: dict[str, object], key: str, kind: type, required: bool = False):  # type: ignore[no-untyped-def]
    """``data[key]`` when it is exactly of ``kind`` (bool is not an int here); ValueError otherwise."""
    value = data.get(key)
    if value is None and not required:
        return _DEFAULTS[kind]
    if type(value) is not kind:
        raise ValueError(f"{key} is not {'a string' if kind is str else 'an integer' if kind is int else 'true/false'}")
    if kind is int and not 0 <= value < 1 << 62:  # type: ignore[operator]
        raise ValueError(f"{key} out of range")
    if kind is str and len(value) > 4096:  # type: ignore[arg-type]
        raise ValueError(f"{key} longer than 4096 characters")
    return value


def is_archive_name(name: str) -> bool:
    """True for a bare archive file name: no directory part, no NUL, not hidden, ``*.tar.gz``."""
    return (isinstance(name, str) and "/" not in name and "\\" not in name and "\0" not in name
            and not name.startswith(".") and name.endswith(ARCHIVE_SUFFIX)
            and len(name.encode("utf-8", "surrogateescape")) <= 255)


@dataclass
class BackupProgress:
    """Where a backup or restore is: phase ("select", "stream", "verify", "done", "upload"), bytes."""

    phase: str
    host: str = ""
    done: int = 0
    total: int | None = None
    message: str = ""


BackupProgressCallback = Callable[[BackupProgress], None]


MAX_RECORD_BYTES = 64 * 1024


def _read_record(path: Path) -> str:
    """A sidecar's text: a regular file (not a symlink, not a directory) of at most 64 KiB."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("the record is not a regular file")
        data = fh.read(MAX_RECORD_BYTES + 1)
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"the record is larger than {MAX_RECORD_BYTES // 1024} KiB")
    return data.decode("utf-8")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class BackupCatalog:
    """A directory of verified backup archives with their JSON sidecars."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else default_backup_dir()

    def ensure_dir(self) -> Path:
        """Create the directory (0700: archives hold private keys) and return it."""
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.dir

    def list(self) -> list[BackupEntry]:
        """All archives, newest first. An archive without a sidecar shows as unverified; one
        whose sidecar cannot be read, names another file, or that is not a regular file shows
        as an unreadable row (``invalid`` set) that no action touches. Never raises for the
        directory's contents."""
        if not self.dir.is_dir():
            return []
        entries: list[BackupEntry] = []
        for archive in self.dir.glob(f"*{ARCHIVE_SUFFIX}"):
            entries.append(self._entry(archive))
        entries.sort(key=lambda e: (e.created, *_name_order(e.file)), reverse=True)
        return entries

    def _entry(self, archive: Path) -> BackupEntry:
        invalid = ""
        try:
            st = archive.lstat()
        except OSError as exc:
            return self._row(archive, None, f"archive unreadable: {exc.strerror}", invalid=True)
        if stat.S_ISLNK(st.st_mode):
            return self._row(archive, st, "archive is a symbolic link; not acted on", invalid=True)
        if not stat.S_ISREG(st.st_mode):
            return self._row(archive, st, "archive is not a regular file; not acted on", invalid=True)
        if not is_archive_name(archive.name):
            return self._row(archive, st, "archive name not usable; not acted on", invalid=True)
        try:
            text = _read_record(archive.with_name(archive.name + SIDECAR_SUFFIX))
            return BackupEntry.from_json(text, archive)
        except FileNotFoundError:
            err = "no catalog record (not made by k0s-tui, or record lost)"
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            err = invalid = f"catalog record unreadable: {clean_line(exc)}"
        return self._row(archive, st, err, invalid=bool(invalid))

    @staticmethod
    def _row(archive: Path, st: os.stat_result | None, err: str, *, invalid: bool) -> BackupEntry:
        when = datetime.fromtimestamp(st.st_mtime, timezone.utc) if st else datetime.fromtimestamp(0, timezone.utc)
        return BackupEntry(
            file=archive.name, cluster="", source_host="", created=when,
            size=st.st_size if st and stat.S_ISREG(st.st_mode) else 0,
            storage="", sha256="", verify_error=err, path=archive, invalid=err if invalid else "")

    def _target(self, entry: BackupEntry) -> Path:
        """The archive ``entry`` stands for, inside the catalog; BackupError for an invalid row."""
        if entry.invalid:
            raise BackupError("", f"{entry.file}: {entry.invalid}")
        if not is_archive_name(entry.file):
            raise BackupError("", f"{entry.file!r} is not an archive of the catalog; refused")
        return self.dir / entry.file

    def newest(self, cluster: str | None = None) -> BackupEntry | None:
        """The most recent entry (of ``cluster`` when given)."""
        for entry in self.list():
            if cluster is None or entry.cluster == cluster:
                return entry
        return None

    def save(self, entry: BackupEntry) -> None:
        """Write the entry's sidecar (atomically)."""
        _write_atomic(self.dir / (entry.file + SIDECAR_SUFFIX), entry.to_json())

    def delete(self, entry: BackupEntry) -> None:
        """Remove the archive and its sidecar (names inside the catalog only; an invalid row is refused)."""
        path = self._target(entry)
        path.unlink(missing_ok=True)
        path.with_name(path.name + SIDECAR_SUFFIX).unlink(missing_ok=True)

    def retention_plan(self, keep_newest: int, cluster: str | None = None) -> list[BackupEntry]:
        """The archives :meth:`apply_retention` would delete: all but the newest ``keep_newest``
        (at least 1) per cluster; invalid rows are neither counted nor deleted."""
        if isinstance(keep_newest, bool) or not isinstance(keep_newest, int) or keep_newest < 1:
            raise ValueError("keep newest must be at least 1 (deleting every archive is refused)")
        seen: dict[str, int] = {}
        doomed: list[BackupEntry] = []
        for entry in self.list():  # newest first
            if entry.invalid or (cluster is not None and entry.cluster != cluster):
                continue
            seen[entry.cluster] = seen.get(entry.cluster, 0) + 1
            if seen[entry.cluster] > keep_newest:
                doomed.append(entry)
        return doomed

    def apply_retention(self, keep_newest: int, cluster: str | None = None) -> list[BackupEntry]:
        """Keep the newest ``keep_newest`` (>= 1) archives per cluster (or of ``cluster``); return the deleted."""
        deleted = self.retention_plan(keep_newest, cluster)
        for entry in deleted:
            self.delete(entry)
        return deleted

    def reverify(self, entry: BackupEntry) -> BackupEntry:
        """Verify the archive again (and its recorded sha256); record the outcome and return it.

        An invalid row is refused (BackupError): its sidecar is never rewritten."""
        path = self._target(entry)
        entry.verified_at = _utcnow()
        try:
            info = verify_archive(path)
        except BackupError as exc:
            entry.verified, entry.verify_error = False, exc.message
        else:
            if entry.sha256 and entry.sha256 != info.sha256:
                entry.verified = False
                entry.verify_error = f"sha256 changed since the backup (was {entry.sha256[:12]}…, now {info.sha256[:12]}…)"
            else:
                entry.verified, entry.verify_error = True, ""
                entry.sha256 = entry.sha256 or info.sha256
                entry.storage = entry.storage or info.storage
                entry.size, entry.unpacked_size = info.size, info.unpacked_size
        if path.exists():
            self.save(entry)
        return entry

    def new_partial(self, stem: str) -> Path:
        """Create and return an empty, unique ``<stem>….partial`` file (0600)."""
        self.ensure_dir()
        for attempt in range(100):
            suffix = "" if attempt == 0 else f".{secrets.token_hex(3)}"
            path = self.dir / f"{stem}{suffix}{PARTIAL_SUFFIX}"
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
                return path
            except FileExistsError:
                continue
        raise BackupError("", f"could not create a partial file in {self.dir}")

    def clean_partials(self, older_than: float = 6 * 3600) -> list[Path]:
        """Delete ``*.partial`` files untouched for ``older_than`` seconds (left by a crash)."""
        removed: list[Path] = []
        if not self.dir.is_dir():
            return removed
        cutoff = time.time() - older_than
        for partial in self.dir.glob(f"*{PARTIAL_SUFFIX}"):
            try:
                if partial.stat().st_mtime < cutoff:
                    partial.unlink()
                    removed.append(partial)
            except FileNotFoundError:
                continue
        return removed

    def commit(self, partial: Path, stem: str) -> Path:
        """Move ``partial`` to ``<stem>.tar.gz`` without ever replacing a file (suffix -1, -2…)."""
        for n in range(1000):
            final = self.dir / (f"{stem}{ARCHIVE_SUFFIX}" if n == 0 else f"{stem}-{n}{ARCHIVE_SUFFIX}")
            try:
                os.link(partial, final)  # fails if final exists: no overwrite, no race
            except FileExistsError:
                continue
            partial.unlink()
            return final
        raise BackupError("", f"no free archive name for {stem} in {self.dir}")


def _name_order(file: str) -> tuple[str, int]:
    """An archive name as (stem, n) for ``<stem>-<n>.tar.gz``, the n-th made in the same second
    (:meth:`BackupCatalog.commit`), else (stem, 0): sidecar times have whole seconds, and by
    name alone ``stem.tar.gz`` would sort after ``stem-1.tar.gz``, its successor."""
    match = _SAME_SECOND.search(file)
    if match:
        return file[:match.start() + 1], int(match.group(1))
    return file.removesuffix(ARCHIVE_SUFFIX), 0


_SAME_SECOND = re.compile(r"Z-(\d{1,3})" + re.escape(ARCHIVE_SUFFIX) + "$")


# ---------------------------------------------------------------------------- backup / restore

_CONNECTION = (HostUnreachable, AuthFailed, HostKeyUnknown, HostKeyChanged)


async def pick_backup_host(hosts: Sequence[K0sHost]) -> tuple[K0sHost, list[str]]:
    """The first controller whose k0s runs (like k0sctl), plus why earlier ones were skipped."""
    skipped: list[str] = []
    for host in hosts:
        if not host.spec.is_controller:
            continue
        try:
            await host.status()
            return host, skipped
        except K0sNotRunning:
            skipped.append(f"{host.name}: k0s not running")
        except BackendError as exc:
            skipped.append(f"{host.name}: {exc.message}")
    if not skipped:
        raise BackupError("", "no controller in the inventory")
    raise BackupError("", "no controller with k0s running: " + "; ".join(skipped))


async def cluster_backup(
    hosts: Sequence[K0sHost],
    catalog: BackupCatalog,
    progress: BackupProgressCallback | None = None,
    *,
    cluster: str = "k0s",
    now: Callable[[], datetime] = _utcnow,
) -> BackupEntry:
    """Back the cluster up from its first running controller into ``catalog``.

    Streams `k0s backup --save-path -` into a ``.partial`` file, verifies it, then renames it
    to ``k0s_backup_<cluster>_<UTC timestamp>.tar.gz`` (never replacing a file). On any
    failure — or cancellation — the partial file is deleted and the catalog is left as it was.
    """
    def report(phase: str, host: str = "", done: int = 0, total: int | None = None, message: str = "") -> None:
        if progress is not None:
            progress(BackupProgress(phase=phase, host=host, done=done, total=total, message=message))

    catalog.clean_partials()  # leftovers of a console killed mid-backup; live ones are fresh
    report("select", message="looking for a running controller")
    host, _skipped = await pick_backup_host(hosts)
    try:
        version: str | None = await host.version()
    except BackendError:
        version = None
    started = now()
    stem = f"{ARCHIVE_PREFIX}{safe_name(cluster)}_{started.strftime('%Y%m%dT%H%M%SZ')}"
    partial = catalog.new_partial(stem)
    try:
        report("stream", host.name, 0, None, f"streaming backup from {host.name}")
        await host.backup_to(partial, progress=lambda done, total: report("stream", host.name, done, total))
        report("verify", host.name, message="verifying archive")
        try:
            info = await asyncio.to_thread(verify_archive, partial)
        except BackupError as exc:
            raise BackupError(host.name, f"backup archive failed verification: {exc.message}") from exc
        final = catalog.commit(partial, stem)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    entry = BackupEntry(
        file=final.name, cluster=cluster, source_host=host.name, created=started, size=info.size,
        storage=info.storage, sha256=info.sha256, verified=True, verified_at=now(),
        k0s_version=version, unpacked_size=info.unpacked_size, path=final,
    )
    try:
        catalog.save(entry)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    report("done", host.name, info.size, info.size, f"saved {final.name}")
    return entry


@dataclass
class Check:
    """One restore precondition: what, whether it holds, and the detail shown to the operator."""

    name: str
    ok: bool
    detail: str
    blocking: bool = True


async def restore_preconditions(host: K0sHost, entry: BackupEntry, catalog: BackupCatalog | None = None) -> list[Check]:
    """Everything that must hold before restoring ``entry`` on ``host``, each with its reason."""
    checks: list[Check] = []
    if entry.invalid:
        return [Check("catalog record", False, entry.invalid)]
    path = catalog._target(entry) if catalog is not None else entry.path
    # The archive itself.
    try:
        info = await asyncio.to_thread(verify_archive, path)
        if entry.sha256 and info.sha256 != entry.sha256:
            checks.append(Check("archive intact", False, "sha256 differs from the one recorded at backup time"))
        else:
            checks.append(Check("archive intact", True, f"{info.storage} archive, sha256 {info.sha256[:12]}…"))
    except BackupError as exc:
        info = None
        checks.append(Check("archive intact", False, exc.message))
    # k0s stopped on the target.
    if not host.spec.is_controller:
        checks.append(Check("target is a controller", False, f"{host.name} is a {host.spec.role}; restore runs on a controller"))
    try:
        await host.status()
        checks.append(Check("k0s stopped", False, f"k0s is running on {host.name}; stop it first"))
    except K0sNotRunning:
        checks.append(Check("k0s stopped", True, f"k0s is not running on {host.name}"))
    except K0sNotInstalled as exc:
        checks.append(Check("k0s stopped", False, exc.message))
    except BackendError as exc:
        checks.append(Check("k0s stopped", False, f"could not ask {host.name}: {exc.message}"))
        if isinstance(exc, _CONNECTION):
            return checks
    # Storage type: archive vs the target's config.
    storage = entry.storage or (info.storage if info else "")
    try:
        target = config_storage_type(await host.read_config())
        if not storage:
            checks.append(Check("storage type", False, "the archive's storage type is unknown"))
        elif target == storage:
            checks.append(Check("storage type", True, f"{storage} in the archive and in {host.spec.config_path}"))
        else:
            checks.append(Check("storage type", False,
                                f"archive holds {storage} data but {host.name}'s {host.spec.config_path} uses {target}"))
    except FileNotFoundError:
        checks.append(Check("storage type", True,
                            f"no {host.spec.config_path} on {host.name}; the archived k0s.yaml will be used",
                            blocking=False))
    except (ValueError, BackendError) as exc:
        checks.append(Check("storage type", False, f"could not read the target's config: {exc}"))
    # Free disk where the data dir lives.
    need = max(entry.unpacked_size or (info.unpacked_size if info else 0), entry.size * 3)
    try:
        free = await host.data_dir_free_bytes()
        ok = free >= need
        checks.append(Check("free disk", ok, f"{free // (1 << 20)} MiB free near {host.spec.data_dir}, "
                                             f"about {max(1, need // (1 << 20))} MiB needed"))
    except BackendError as exc:
        checks.append(Check("free disk", False, f"could not measure free disk: {exc.message}"))
    return checks


async def restore(
    host: K0sHost,
    entry: BackupEntry,
    progress: BackupProgressCallback | None = None,
    catalog: BackupCatalog | None = None,
) -> CommandResult:
    """Restore ``entry`` on ``host`` after checking every precondition; refuse with the reasons."""
    checks = await restore_preconditions(host, entry, catalog)
    failed = [c for c in checks if c.blocking and not c.ok]
    if failed:
        raise BackupError(host.name, "restore refused: " + "; ".join(f"{c.name}: {c.detail}" for c in failed))
    path = catalog._target(entry) if catalog is not None else entry.path

    def on_bytes(done: int, total: int | None) -> None:
        if progress is not None:
            progress(BackupProgress("upload", host.name, done, total))

    result = await host.restore_from(path, progress=on_bytes)
    if progress is not None:
        progress(BackupProgress("done", host.name, entry.size, entry.size, f"restored {entry.file}"))
    return result

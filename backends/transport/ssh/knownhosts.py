"""Strict host-key checking and explicit trust-on-first-use for the SSH transport.

Checking: every known_hosts file of :class:`~backends.transport.ssh.transport.SSHSettings` is read (OpenSSH
format, hashed entries and ``[host]:port`` names included). The presented key must be one on
record for that host. Otherwise the connection is refused with

- :class:`~backends.errors.HostKeyUnknown` (carrying the SHA256 fingerprint) when the host
  has no key on record, or
- :class:`~backends.errors.HostKeyChanged` when it has one and the presented key differs —
  always a hard error: asyncssh calls ``validate_host_public_key`` for changed keys too, and
  our client answers "no" to every such call.

Trusting, the safe way: :func:`fetch_host_key` fetches the key without logging in, the user
compares the fingerprint, :func:`trust_host_key` appends it to the app's own known_hosts file
(refusing when a different key is already on record). Only then does a connect succeed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import asyncssh

from backends.errors import BackendError, HostKeyChanged, HostKeyUnknown
from backends.hosts.spec import HostSpec
from backends.privatefile import UnsafeFile, open_private_append

if TYPE_CHECKING:
    from backends.transport.ssh.transport import SSHSettings


def known_hosts_name(host: str, port: int) -> str:
    """The known_hosts name for a host: ``host`` on port 22, ``[host]:port`` otherwise."""
    return host if port == 22 else f"[{host}]:{port}"


def fingerprint(key: asyncssh.SSHKey) -> str:
    """OpenSSH-style SHA256 fingerprint (``SHA256:…``)."""
    return key.get_fingerprint("sha256")


#: Parsed files by (path, mtime, size): a fleet connect reads the same big file once, and a
#: trusted key appended later (new mtime/size) is seen by the next connect.
_CACHE: dict[tuple[str, int, int], asyncssh.SSHKnownHosts] = {}


def _load_file(path: Path) -> asyncssh.SSHKnownHosts:
    """Parse one known_hosts file (cached while unchanged)."""
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    parsed = _CACHE.get(key)
    if parsed is None:
        if len(_CACHE) > 64:
            _CACHE.clear()
        parsed = _CACHE[key] = _parse_file(path)
    return parsed


def _parse_file(path: Path) -> asyncssh.SSHKnownHosts:
    """Parse one known_hosts file; lines asyncssh cannot read are skipped, not fatal."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return asyncssh.import_known_hosts(text)
    except (ValueError, asyncssh.KeyImportError):
        good = asyncssh.SSHKnownHosts()
        for line in text.splitlines():
            try:
                good.load(line)
            except (ValueError, asyncssh.KeyImportError):
                continue
        return good


@dataclass
class KnownHosts:
    """The keys on record, from several known_hosts files (missing files are skipped)."""

    files: list[Path]
    _loaded: list[asyncssh.SSHKnownHosts] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        for path in self.files:
            try:
                self._loaded.append(_load_file(path))
            except (FileNotFoundError, NotADirectoryError):
                continue  # e.g. no ~/.ssh/known_hosts yet
            except OSError as exc:  # unreadable: say so rather than treat every host as unknown
                raise BackendError("", f"cannot read known_hosts file {path}: {exc.strerror}") from None

    def match(self, host: str, addr: str, port: int | None) -> tuple:
        """asyncssh's 7-tuple (host keys, CA keys, revoked, x509…) merged over every file."""
        merged: list[list] = [[] for _ in range(7)]
        for kh in self._loaded:
            for i, part in enumerate(kh.match(host, addr, port)):
                merged[i].extend(part)
        return tuple(merged)

    def keys_for(self, host: str, port: int) -> list[asyncssh.SSHKey]:
        """Host keys on record for ``host:port`` (name match only, as a trust check needs)."""
        return list(self.match(host, "", None if port == 22 else port)[0])


class HostKeyCheck:
    """Per-connection record of the host-key decision, plugged into asyncssh.

    ``matcher`` is given as asyncssh's ``known_hosts`` callable and remembers whether keys
    were on record; :class:`StrictClient` remembers the key presented when it was not one of
    them. :meth:`error` then says which of unknown/changed happened.
    """

    def __init__(self, known: KnownHosts) -> None:
        self.known = known
        self.had_keys = False
        self.presented: asyncssh.SSHKey | None = None

    def matcher(self, host: str, addr: str, port: int | None) -> tuple:
        result = self.known.match(host, addr, port)
        self.had_keys = bool(result[0] or result[1])
        return result

    def error(self, host: str, exc: Exception) -> BackendError:
        """The typed error for a refused host key."""
        key = self.presented
        if key is None:  # revoked key or bad certificate: never an "unknown, trust it" case
            return HostKeyChanged(host, detail=str(exc))
        if self.had_keys:
            return HostKeyChanged(host, fingerprint(key))
        return HostKeyUnknown(host, fingerprint(key), key.get_algorithm())


class StrictClient(asyncssh.SSHClient):
    """An SSH client that accepts no host key beyond those on record."""

    def __init__(self, check: HostKeyCheck) -> None:
        self._check = check

    def validate_host_public_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        # Called for unknown AND changed keys alike: record it and always refuse.
        self._check.presented = key
        return False

    def validate_host_ca_key(self, host: str, addr: str, port: int, key: asyncssh.SSHKey) -> bool:
        return False


@dataclass(frozen=True)
class FetchedHostKey:
    """A host's key as fetched for the user to confirm."""

    key_type: str
    fingerprint: str
    public_key_line: str  # "ssh-ed25519 AAAA…", no comment

    def __iter__(self):  # allows `key_type, fp, line = await fetch_host_key(...)`
        return iter((self.key_type, self.fingerprint, self.public_key_line))


def host_key_spec(error: BackendError, spec: HostSpec) -> HostSpec:
    """The spec to pass to :func:`fetch_host_key`/:func:`trust_host_key` for a host-key error.

    Connection errors about a bastion carry ``error.key_spec`` (the bastion as a HostSpec);
    otherwise it is ``spec`` itself.
    """
    return getattr(error, "key_spec", None) or spec


async def fetch_host_key(spec: HostSpec, settings: "SSHSettings") -> FetchedHostKey:
    """Fetch the host key ``spec`` presents, without authenticating (for the user to confirm).

    Goes through the bastion when the spec has one (the bastion itself must be trusted).
    Raises the connection errors of :mod:`backends.errors`.
    """
    from backends.transport.ssh.transport import SSHConnector

    key = await SSHConnector(spec, settings).fetch_server_key()
    line = key.export_public_key("openssh").decode().split()
    return FetchedHostKey(key.get_algorithm(), fingerprint(key), " ".join(line[:2]))


async def trust_host_key(
    spec: HostSpec, settings: "SSHSettings", public_key_line: str
) -> Path:
    """Append ``public_key_line`` for ``spec``'s host to the app's known_hosts file.

    Refuses (``HostKeyChanged``) when a *different* key is already on record for that host:
    replacing a key is a deliberate manual edit, never one click. Returns the file written.
    """
    from backends.transport.ssh.transport import SSHConnector

    try:
        key = asyncssh.import_public_key(public_key_line.strip())
    except (ValueError, asyncssh.KeyImportError) as exc:
        raise BackendError(spec.name, f"not an SSH public key: {exc}") from None
    host, port = await SSHConnector(spec, settings).resolved_host_port()
    known = KnownHosts(settings.known_hosts_files())
    on_record = known.keys_for(host, port)
    if on_record and key not in on_record:
        raise HostKeyChanged(spec.name, fingerprint(key), "a different key is already on record")
    if key in on_record:
        return settings.app_known_hosts
    path = settings.app_known_hosts
    kb64 = key.export_public_key("openssh").decode().split()[:2]
    entry = f"{known_hosts_name(host, port)} {' '.join(kb64)}\n"
    # Append with O_APPEND so concurrent trusts never interleave inside a line.
    # O_NOFOLLOW, 0600 in 0700, refusing a file others can write (UnsafeFile).
    try:
        fd = open_private_append(path, "known_hosts file")
    except UnsafeFile as exc:
        raise BackendError(spec.name, str(exc)) from None
    try:
        if os.fstat(fd).st_size and not _ends_with_newline(fd):
            entry = "\n" + entry
        os.write(fd, entry.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def _ends_with_newline(fd: int) -> bool:
    return os.pread(fd, 1, os.fstat(fd).st_size - 1) == b"\n"

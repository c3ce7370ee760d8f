"""Reviewing a host's SSH key before trusting it (the console's trust-on-first-use flow).

:func:`review_host_key` fetches the key a host presents *now* (without logging in) and says
whether it is unknown, already trusted, or different from the one on record — and in which
known_hosts files that record lives, so the UI can explain how to remove a stale entry.
Trusting is :func:`trust_host_key`: the user compares the fingerprint, the key is appended to
the app's own known_hosts file (refusing when a different key is already on record), and only
then does a connect succeed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from backends.errors import BackendError, HostKeyChanged, HostKeyUnknown
from backends.hosts.spec import HostSpec
from backends.privatefile import UnsafeFile, open_private_append
from backends.transport.ssh.knownhosts import KnownHosts, fingerprint, known_hosts_name
from backends.transport.ssh.settings import SSHSettings
from backends.transport.ssh.transport import SSHConnector


@dataclass(frozen=True)
class HostKeyReview:
    """The key a host presents and how it compares with the keys on record.

    ``spec`` is the host whose key this is: the inventory host, or its bastion when the
    bastion's key is the one in question. ``known_name`` is its known_hosts name
    (``[addr]:port`` off port 22), as ``ssh-keygen -R`` wants it.
    """

    spec: HostSpec
    key_type: str
    fingerprint: str
    public_key_line: str
    known_name: str
    #: known_hosts files holding some key for this host (the stale one, when ``changed``).
    on_record: list[Path] = field(default_factory=list)
    #: The presented key is already on record (nothing to trust).
    trusted: bool = False

    @property
    def changed(self) -> bool:
        """A different key is on record: a hard error, never trusted with one click."""
        return bool(self.on_record) and not self.trusted

    @property
    def address(self) -> str:
        """``user@address:port`` of the host whose key this is."""
        t = self.spec.ssh
        return f"{t.user}@{t.address}:{t.port}" if t is not None else self.spec.address


async def review_host_key(spec: HostSpec, settings: SSHSettings) -> HostKeyReview:
    """Fetch the key ``spec`` presents and compare it with every known_hosts file of ``settings``.

    When the host sits behind a bastion whose own key is unknown or changed, the review is
    about the bastion (``review.spec`` is then the bastion's spec). Other connection errors
    (unreachable, timeout…) propagate as the typed errors of :mod:`backends.errors`.
    """
    try:
        fetched = await fetch_host_key(spec, settings)
    except (HostKeyUnknown, HostKeyChanged) as exc:
        bastion = host_key_spec(exc, spec)
        if bastion is spec:
            raise
        spec = bastion
        fetched = await fetch_host_key(spec, settings)
    key = asyncssh.import_public_key(fetched.public_key_line)
    host, port = await SSHConnector(spec, settings).resolved_host_port()
    on_record: list[Path] = []
    trusted = False
    for path in settings.known_hosts_files():
        keys = KnownHosts([path]).keys_for(host, port)
        if keys:
            on_record.append(path)
            trusted = trusted or key in keys
    return HostKeyReview(spec=spec, key_type=fetched.key_type, fingerprint=fetched.fingerprint,
                         public_key_line=fetched.public_key_line, known_name=known_hosts_name(host, port),
                         on_record=on_record, trusted=trusted)


def removal_argv(review: HostKeyReview, path: Path) -> list[str]:
    """The ``ssh-keygen -R`` command that removes ``review``'s host from known_hosts file ``path``."""
    return ["ssh-keygen", "-R", review.known_name, "-f", str(path)]


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


async def fetch_host_key(spec: HostSpec, settings: SSHSettings) -> FetchedHostKey:
    """Fetch the host key ``spec`` presents, without authenticating (for the user to confirm).

    Goes through the bastion when the spec has one (the bastion itself must be trusted).
    Raises the connection errors of :mod:`backends.errors`.
    """
    key = await SSHConnector(spec, settings).fetch_server_key()
    line = key.export_public_key("openssh").decode().split()
    return FetchedHostKey(key.get_algorithm(), fingerprint(key), " ".join(line[:2]))


async def trust_host_key(
    spec: HostSpec, settings: SSHSettings, public_key_line: str
) -> Path:
    """Append ``public_key_line`` for ``spec``'s host to the app's known_hosts file.

    Refuses (``HostKeyChanged``) when a *different* key is already on record for that host:
    replacing a key is a deliberate manual edit, never one click. Returns the file written.
    """
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

"""Reviewing a host's SSH key before trusting it (the console's trust-on-first-use flow).

:func:`review_host_key` fetches the key a host presents *now* (without logging in) and says
whether it is unknown, already trusted, or different from the one on record — and in which
known_hosts files that record lives, so the UI can explain how to remove a stale entry.
Trusting itself is :func:`backends.transport.ssh.knownhosts.trust_host_key` (append-only, refuses changes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from backends.errors import HostKeyChanged, HostKeyUnknown
from backends.hosts.spec import HostSpec
from backends.transport.ssh.knownhosts import KnownHosts, fetch_host_key, host_key_spec, known_hosts_name
from backends.transport.ssh.transport import SSHConnector, SSHSettings


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

"""SSH host keys of the session's hosts: review the key a host presents now, and trust an
unknown one on the user's word (appended to the app's known_hosts; gated and audited).

Trusting changes nothing on the cluster, so read-only mode allows it: the gate is entered
with ``allow_readonly``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from backends.errors import BackendError, HostKeyChanged
from backends.hosts.spec import HostSpec
from backends.session.core import SessionCore
from backends.transport.ssh.settings import SSHSettings

if TYPE_CHECKING:  # annotation only; the module is imported on first use (below)
    from backends.transport.ssh.trust import HostKeyReview

# backends.transport.ssh.trust and .knownhosts load asyncssh and cryptography (~0.2 s): they are
# imported when a key is first reviewed or trusted, not when the session is built.


class HostKeysService:
    """Host-key review and trust-on-first-use for the hosts reached over SSH."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core

    def settings(self, name: str) -> SSHSettings:
        """The SSHSettings host ``name``'s transport connects with (its known_hosts files)."""
        settings = getattr(self.core.hosts[name].transport, "settings", None)
        if self.core.hosts[name].spec.ssh is None or not isinstance(settings, SSHSettings):
            raise BackendError(name, "not reached over SSH: there is no host key to trust")
        return settings

    def key_file(self, name: str) -> Path:
        """The app's known_hosts file, where trusting a key of host ``name`` appends it."""
        return Path(self.settings(name).app_known_hosts).expanduser()

    async def review(self, name: str) -> HostKeyReview:
        """The key host ``name`` (or its bastion) presents now, compared with the keys on
        record. Nothing is written."""
        from backends.transport.ssh.trust import review_host_key

        return await review_host_key(self.core.hosts[name].spec, self.settings(name))

    async def to_trust(self, name: str) -> HostKeyReview:
        """The review of a key that may be trusted; raises HostKeyChanged when a different key
        is on record (never trusted from the console)."""
        review = await self.review(name)
        if review.changed:
            raise HostKeyChanged(review.spec.name, review.fingerprint,
                                 "old key in " + ", ".join(str(p) for p in review.on_record))
        return review

    async def trust(self, name: str, line: str, spec: HostSpec | None = None) -> Path:
        """Append the reviewed key ``line`` for host ``name`` (or ``spec``, its bastion) to the
        app's known_hosts; refuses (HostKeyChanged) when a different key is on record. The
        host's transport reconnects on its next command. Returns the file written."""
        import asyncssh

        from backends.transport.ssh.knownhosts import fingerprint
        from backends.transport.ssh.trust import trust_host_key

        spec = spec or self.core.hosts[name].spec
        settings = self.settings(name)
        details: dict[str, object] = {"address": spec.address}
        try:
            key = asyncssh.import_public_key(line.strip())
            details.update(key_type=key.get_algorithm(), fingerprint=fingerprint(key))
        except (ValueError, asyncssh.KeyImportError):
            pass  # trust_host_key says why in words
        async with self.core.mutation("trust-host-key", [name], details, allow_readonly=True) as m:
            path = await trust_host_key(spec, settings, line)
            m.details["file"] = str(path)
            return path

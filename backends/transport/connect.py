"""Pick the transport for a host: demo, SSH or local."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backends.hosts.spec import HostSpec
from backends.transport.local import LocalTransport
from backends.transport.base import Transport

if TYPE_CHECKING:
    from backends.transport.ssh.transport import SSHSettings


def make_transport(spec: HostSpec, settings: SSHSettings | None = None, demo: Any = None) -> Transport:
    """The transport reaching ``spec``.

    ``spec.demo`` set: the simulated node of the demo cluster ``demo`` (built by
    :mod:`backends.demo`); ``spec.ssh`` set: :class:`SSHTransport` with ``settings`` (shared by
    every host of the session, so handshakes are bounded fleet-wide); otherwise this machine.
    """
    if spec.demo:
        from backends.demo import make_demo_transport  # imported late: the demo is optional

        return make_demo_transport(demo, spec)
    if spec.ssh is not None:
        # Imported on first use: asyncssh (and cryptography under it) cost start-up time that a
        # demo or local session never needs.
        from backends.transport.ssh.transport import SSHSettings, SSHTransport

        return SSHTransport(spec, settings if settings is not None else SSHSettings())
    return LocalTransport(spec.name or "localhost")

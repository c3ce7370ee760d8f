"""Pick the transport for a host: simulated (the demo), SSH or local."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from backends.errors import BackendError
from backends.hosts.spec import HostSpec
from backends.transport.base import Transport
from backends.transport.local import LocalTransport

if TYPE_CHECKING:
    from backends.transport.ssh.settings import SSHSettings

#: Builds the transport of a simulated host (``HostSpec.demo`` set): the demo cluster's.
SimulatedTransports = Callable[[HostSpec], Transport]


def make_transport(spec: HostSpec, settings: SSHSettings | None = None,
                   simulated: SimulatedTransports | None = None) -> Transport:
    """The transport reaching ``spec``.

    ``spec.demo`` set: ``simulated(spec)`` (the demo cluster's transports, passed in by whoever
    built the demo: this layer never imports it); ``spec.ssh`` set: an SSH transport with
    ``settings`` (shared by every host of the session, so handshakes are bounded fleet-wide),
    built by its first command (:class:`DeferredSSHTransport`); otherwise this machine.
    """
    if spec.demo:
        if simulated is None:
            raise BackendError(spec.name, "no demo cluster was given for this demo host")
        return simulated(spec)
    if spec.ssh is not None:
        # asyncssh (and cryptography under it) load with the host's first command, not while
        # the session is built before the console's first frame; this layer's SSH modules
        # load with the first SSH host (the demo and a local controller have none).
        from backends.transport.ssh.deferred import DeferredSSHTransport
        from backends.transport.ssh.settings import SSHSettings

        return DeferredSSHTransport(spec, settings if settings is not None else SSHSettings())
    return LocalTransport(spec.name or "localhost")

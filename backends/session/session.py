"""ClusterSession: the one facade the console (and headless callers) talk to.

A small core (:class:`~backends.session.core.SessionCore`: inventory, hosts, read-only switch,
audit log, clock, the mutation gate) composed with one service per feature, each owning its
view data behind methods:

- ``session.nodes`` — snapshots, details, versions, start/stop/restart
- ``session.images`` — images and containers per host, pull/label/remove
- ``session.sysinfo`` — `k0s sysinfo` results
- ``session.certs`` — PKI scans, renewal by restart
- ``session.config`` — k0s.yaml reads, kube-proxy changes
- ``session.backups`` — the backup catalog, backup/verify/delete/retention/restore
- ``session.hostkeys`` — SSH host-key review and trust
- ``session.cluster`` — quorum-checked stop/restart, drain/uncordon, rolling restart

No Textual here: the app calls these coroutines from its workers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from backends.hosts.spec import Inventory
from backends.k0s.backups import BackupCatalog
from backends.k0s.host import K0sHost
from backends.session.audit import AuditLog
from backends.session.backups import BackupsService
from backends.session.certs import CertsService
from backends.session.core import Clock, SessionCore, utcnow
from backends.session.hostkeys import HostKeysService
from backends.session.images import ImagesService
from backends.session.nodes import NodesService
from backends.session.sysinfo import SysinfoService
from backends.transport.connect import SimulatedTransports, make_transport
from backends.transport.ssh.settings import SSHSettings

if TYPE_CHECKING:
    from backends.session.clusterops import ClusterOpsService
    from backends.session.config import ConfigService


class ClusterSession(SessionCore):
    """The session core plus its feature services."""

    def __init__(self, inventory: Inventory, hosts: list[K0sHost], *, readonly: bool = False,
                 audit: AuditLog | None = None, catalog: BackupCatalog | None = None,
                 clock: Clock = utcnow) -> None:
        super().__init__(inventory, hosts, readonly=readonly, audit=audit, clock=clock)
        self.nodes = NodesService(self)
        self.images = ImagesService(self)
        self.sysinfo = SysinfoService(self)
        self.certs = CertsService(self, self.nodes)
        self.backups = BackupsService(self, catalog if catalog is not None else BackupCatalog())
        self.hostkeys = HostKeysService(self)

    # Made on first use: no start-up step needs them, and their modules (k0s.yaml handling,
    # quorum rules) cost the console's start a few milliseconds.
    @functools.cached_property
    def config(self) -> ConfigService:
        from backends.session.config import ConfigService

        return ConfigService(self, self.sysinfo)

    @functools.cached_property
    def cluster(self) -> ClusterOpsService:
        from backends.session.clusterops import ClusterOpsService

        return ClusterOpsService(self, self.nodes)

    @classmethod
    def open(
        cls,
        inventory: Inventory,
        *,
        settings: SSHSettings | None = None,
        simulated: SimulatedTransports | None = None,
        sudo: bool = False,
        readonly: bool = False,
        backup_dir: Path | str | None = None,
        audit_path: Path | str | None = None,
        clock: Clock = utcnow,
    ) -> "ClusterSession":
        """Build hosts (transports via make_transport) for every inventory entry."""
        hosts = [K0sHost(spec, make_transport(spec, settings, simulated), sudo=sudo)
                 for spec in inventory.hosts]
        return cls(inventory, hosts, readonly=readonly, audit=AuditLog(audit_path),
                   catalog=BackupCatalog(backup_dir), clock=clock)

    async def close(self) -> None:
        """Close image channels, then every transport (errors ignored: we are leaving)."""
        await self.images.close()
        await super().close()

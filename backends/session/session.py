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
from backends.k0s.host import K0sHost
from backends.session.audit import AuditLog
from backends.session.core import Clock, SessionCore, utcnow
from backends.session.nodes import NodesService
from backends.transport.connect import SimulatedTransports, make_transport

if TYPE_CHECKING:
    from backends.k0s.backups import BackupCatalog
    from backends.session.backups import BackupsService
    from backends.session.certs import CertsService
    from backends.session.clusterops import ClusterOpsService
    from backends.session.config import ConfigService
    from backends.session.hostkeys import HostKeysService
    from backends.session.images import ImagesService
    from backends.session.sysinfo import SysinfoService
    from backends.transport.ssh.settings import SSHSettings


class ClusterSession(SessionCore):
    """The session core plus its feature services."""

    def __init__(self, inventory: Inventory, hosts: list[K0sHost], *, readonly: bool = False,
                 audit: AuditLog | None = None, catalog: BackupCatalog | None = None,
                 backup_dir: Path | str | None = None, clock: Clock = utcnow) -> None:
        super().__init__(inventory, hosts, readonly=readonly, audit=audit, clock=clock)
        self.nodes = NodesService(self)
        self._catalog = catalog
        self._backup_dir = backup_dir

    # The other services are made on first use: the console's first frame needs only the
    # nodes, and their modules (images, certificates, the backup catalog, SSH host keys,
    # k0s.yaml handling, quorum rules) cost its start some 20 milliseconds.
    @functools.cached_property
    def images(self) -> ImagesService:
        from backends.session.images import ImagesService

        return ImagesService(self)

    @functools.cached_property
    def sysinfo(self) -> SysinfoService:
        from backends.session.sysinfo import SysinfoService

        return SysinfoService(self)

    @functools.cached_property
    def certs(self) -> CertsService:
        from backends.session.certs import CertsService

        return CertsService(self, self.nodes)

    @functools.cached_property
    def backups(self) -> BackupsService:
        from backends.k0s.backups import BackupCatalog
        from backends.session.backups import BackupsService

        catalog = self._catalog if self._catalog is not None else BackupCatalog(self._backup_dir)
        return BackupsService(self, catalog)

    @functools.cached_property
    def hostkeys(self) -> HostKeysService:
        from backends.session.hostkeys import HostKeysService

        return HostKeysService(self)

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
        return cls(inventory, hosts, readonly=readonly, audit=AuditLog(audit_path), backup_dir=backup_dir,
                   clock=clock)

    async def close(self) -> None:
        """Close image channels, then every transport (errors ignored: we are leaving)."""
        if "images" in self.__dict__:  # made: it may hold channels
            await self.images.close()
        await super().close()

"""Certificates: each controller's k0s PKI scanned per host, the fleet's nearest expiry, and
renewal by restarting k0s (which re-issues every certificate but the CAs) through the gate."""

from __future__ import annotations

import asyncio
from datetime import datetime

from backends.errors import BackendError
from backends.k0s.certs import CertInfo, nearest_expiry, scan_host
from backends.session.core import SessionCore
from backends.session.nodes import NodesService

RENEW_OPERATION = "restart k0s (renew certificates)"


def _iso(cert: CertInfo | None) -> str:
    return cert.not_after.isoformat() if cert is not None and cert.not_after else "-"


class CertsService:
    """The latest PKI scan per controller and when it ran."""

    def __init__(self, core: SessionCore, nodes: NodesService) -> None:
        self.core = core
        self.nodes = nodes
        self._certs: dict[str, list[CertInfo]] = {}
        self._times: dict[str, datetime] = {}
        #: After a renewing restart: seconds to keep re-scanning until new certificates appear.
        self.renew_wait: float = 30.0
        self.renew_poll: float = 2.0

    def of(self, name: str) -> list[CertInfo]:
        """The certificates of ``name``'s last scan ([] before one)."""
        return list(self._certs.get(name, []))

    def scanned_at(self, name: str) -> datetime | None:
        """When ``name`` was last scanned (None: never)."""
        return self._times.get(name)

    def scanned_hosts(self) -> list[str]:
        """Hosts with a scan, in inventory order."""
        return [n for n in self.core.hosts if n in self._certs]

    def expiry_of(self, name: str) -> datetime | None:
        """The nearest not-after among ``name``'s scanned certificates."""
        cert = nearest_expiry(self._certs.get(name, []))
        return cert.not_after if cert is not None else None

    def nearest(self) -> tuple[str, datetime] | None:
        """(host, not_after) of the certificate expiring first among scanned hosts."""
        known = [(h, t) for h in self._certs if (t := self.expiry_of(h)) is not None]
        return min(known, key=lambda ht: ht[1]) if known else None

    async def scan(self, name: str) -> list[CertInfo]:
        """Scan one host's PKI now (remembered with its time)."""
        certs = await scan_host(self.core.hosts[name], now=self.core.clock())
        self._certs[name] = certs
        self._times[name] = self.core.clock()
        return certs

    async def renew(self, name: str) -> list[CertInfo]:
        """Restart k0s on controller ``name`` so it re-issues its leaf certificates, then re-scan
        until a leaf changed (a real k0s writes them a moment after its service started) or
        ``renew_wait`` passed. One gated action; the audit has the nearest expiry before/after."""
        details: dict[str, object] = {"nearest_before": _iso(nearest_expiry(self._certs.get(name, [])))}
        async with self.core.mutation(RENEW_OPERATION, [name], details) as m:
            results = m.results(await self.core.on_hosts([name], lambda h: h.restart()))
            if not results[0].ok:
                raise BackendError(name, results[0].error)
            try:
                await self.nodes.refresh_one(name)
            except BackendError:
                pass  # the row shows it on the next refresh
            old_prints = {c.fingerprint_sha256 for c in self._certs.get(name, []) if c.renewed_by_restart}
            try:
                certs = await self.scan(name)
                waited = 0.0
                while old_prints and waited < self.renew_wait and not (
                        {c.fingerprint_sha256 for c in certs if c.renewed_by_restart} - old_prints):
                    await asyncio.sleep(self.renew_poll)
                    waited += self.renew_poll
                    certs = await self.scan(name)
            except BackendError as exc:
                raise BackendError(name, f"restarted, re-scan failed: {exc.message}") from exc
            m.details["nearest_after"] = _iso(nearest_expiry(certs))
            return certs

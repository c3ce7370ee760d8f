"""Sysinfo: `k0s sysinfo` per host, cached with the time it ran, and the fleet matrix's groups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from backends.errors import BackendError
from backends.models import STATUS_RANK, SysinfoProbe, SysinfoReport
from backends.session.core import SessionCore

#: Probe groups of the Sysinfo matrix, in column order: (name, pattern over the probe path).
PROBE_GROUPS: list[tuple[str, re.Pattern[str]]] = [
    ("Kernel", re.compile(r"^CONFIG_|kernel config", re.I)),  # first: CONFIG_MEMCG is not "memory"
    ("Resources", re.compile(r"memory|disk|file ?system of|cpu|machine id", re.I)),
    ("Network", re.compile(r"name resolution|network|iptables|nftables|ipv[46]|bridge|netfilter", re.I)),
    ("Cgroups", re.compile(r"cgroup|control group", re.I)),
    ("OS", re.compile(r"operating system|kernel|descriptor|apparmor|executable|/proc|selinux|init", re.I)),
]
OTHER_GROUP = "Other"


def probe_group(probe: SysinfoProbe) -> str:
    """The matrix column a probe belongs to (first matching group over its own name, then its path)."""
    for text in (probe.name, *reversed(probe.path[:-1])):
        for name, pattern in PROBE_GROUPS:
            if pattern.search(text):
                return name
    return OTHER_GROUP


def group_statuses(report: SysinfoReport) -> dict[str, tuple[str, int]]:
    """Per probe group: (worst status, number of probes at that status)."""
    out: dict[str, tuple[str, int]] = {}
    for probe in report.probes:
        group = probe_group(probe)
        worst, count = out.get(group, ("pass", 0))
        if STATUS_RANK[probe.status] > STATUS_RANK[worst]:
            out[group] = (probe.status, 1)
        elif probe.status == worst:
            out[group] = (worst, count + 1)
        else:
            out[group] = (worst, count)
    return out


@dataclass
class SysinfoResult:
    """A cached `k0s sysinfo` of one host (``report`` None when it failed; ``error`` says why)."""

    host: str
    at: datetime
    report: SysinfoReport | None = None
    error: str = ""

    @property
    def verdict(self) -> str:
        """"pass" / "warning" / "rejected" / "error"."""
        return self.report.status if self.report is not None else "error"


class SysinfoService:
    """`k0s sysinfo` results per host; re-run on demand."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core
        self._results: dict[str, SysinfoResult] = {}

    def result(self, name: str) -> SysinfoResult | None:
        """The cached result of ``name`` (None: never ran)."""
        return self._results.get(name)

    def results(self) -> list[SysinfoResult]:
        """Every cached result, in inventory order."""
        return [r for n in self.core.hosts if (r := self._results.get(n)) is not None]

    async def run(self, name: str, *, force: bool = False) -> SysinfoResult:
        """The host's sysinfo, from the cache unless ``force`` or never run."""
        cached = self._results.get(name)
        if cached is not None and not force:
            return cached
        try:
            result = SysinfoResult(host=name, at=self.core.clock(), report=await self.core.hosts[name].sysinfo())
        except BackendError as exc:
            result = SysinfoResult(host=name, at=self.core.clock(), error=exc.message)
        self._results[name] = result
        return result

    def verdict(self) -> str | None:
        """The worst verdict over cached reports (None before any ran)."""
        if not self._results:
            return None
        return max((r.verdict for r in self._results.values()), key=lambda s: STATUS_RANK.get(s, 3))

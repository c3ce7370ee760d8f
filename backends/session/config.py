"""k0s.yaml per controller: the latest read, kube-proxy changes validated before anything is
written, and the write itself (backup on the host, atomic replace) through the gate."""

from __future__ import annotations

from dataclasses import dataclass, field

from backends.errors import ValidationError
from backends.k0s.config import HostConfig, apply_to_host, ipvs_warning, mode_warning, read_host_config, set_kube_proxy
from backends.session.core import SessionCore
from backends.session.sysinfo import SysinfoService


@dataclass
class KubeProxyPlan:
    """A validated kube-proxy change of one controller's k0s.yaml, not yet written.

    ``old``/``new`` are what a cell shows ("iptables", "ipvs", "disabled"); ``warnings`` must be
    shown before the write (mode caveats, missing IPVS kernel modules)."""

    host: str
    path: str
    old: str
    new: str
    mode: str | None
    disabled: bool | None
    new_text: str
    k0s_version: str | None = None
    warnings: list[str] = field(default_factory=list)


class ConfigService:
    """The latest k0s.yaml read per controller, and kube-proxy changes."""

    def __init__(self, core: SessionCore, sysinfo: SysinfoService) -> None:
        self.core = core
        self.sysinfo = sysinfo
        self._configs: dict[str, HostConfig] = {}

    def of(self, name: str) -> HostConfig | None:
        """The last read of ``name``'s k0s.yaml (None before one)."""
        return self._configs.get(name)

    async def read(self, name: str) -> HostConfig:
        """Read one controller's k0s.yaml and `k0s version`; never raises for a bad file
        (``error`` says why)."""
        hc = await read_host_config(self.core.hosts[name])
        self._configs[name] = hc
        return hc

    async def plan_kube_proxy(self, name: str, *, mode: str | None = None,
                              disabled: bool | None = None) -> KubeProxyPlan:
        """Validate a kube-proxy change against the host's current k0s.yaml (read again) and
        collect the warnings to show before writing. Writes nothing; raises
        :class:`~backends.errors.ValidationError` (unknown mode: the message lists the allowed ones)."""
        hc = await self.read(name)
        if hc.error:
            raise ValidationError(f"{name}: {hc.error}")
        new_text = set_kube_proxy(hc.text, mode=mode, disabled=disabled, k0s_version=hc.k0s_version)
        old = hc.summary.kube_proxy.label if hc.summary is not None else "?"
        new = "disabled" if disabled else (mode or (hc.summary.kube_proxy.mode if hc.summary else "?"))
        warnings: list[str] = []
        if not disabled and mode is not None:
            if (w := mode_warning(mode, hc.k0s_version)) is not None:
                warnings.append(w)
            if mode == "ipvs":
                # Cross-check with the host's (cached) sysinfo: ipvs needs the IP_VS modules.
                si = await self.sysinfo.run(name)
                if (w := ipvs_warning(si.report)) is not None:
                    warnings.append(w)
        return KubeProxyPlan(host=name, path=hc.path, old=old, new=new, mode=mode, disabled=disabled,
                             new_text=new_text, k0s_version=hc.k0s_version, warnings=warnings)

    async def apply_kube_proxy(self, plan: KubeProxyPlan) -> str:
        """Write a planned kube-proxy change (backup on the host, atomic replace); returns the
        backup path ("" when there was no previous file). Gated and audited. k0s reads k0s.yaml
        only at start: offer a restart afterwards."""
        details: dict[str, object] = {"file": plan.path, "from": plan.old, "to": plan.new}
        async with self.core.mutation(f"kube-proxy {plan.new}", [plan.host], details) as m:
            backup = await apply_to_host(self.core.hosts[plan.host], plan.new_text, now=self.core.clock())
            m.details["backup"] = backup or "-"
        await self.read(plan.host)
        return backup

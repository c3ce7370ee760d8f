"""How to reach one host of the cluster: what an inventory entry boils down to."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("controller", "worker", "controller+worker", "single", "unknown")
#: "unknown": a host given by address only (``--ssh``, this machine) until `k0s status` tells;
#: it is neither a controller nor a worker for ``is_controller``/``runs_workloads``.


@dataclass(frozen=True)
class SSHTarget:
    """An SSH endpoint (the host itself, or a bastion in front of it)."""

    address: str
    user: str = "root"
    port: int = 22
    key_path: str | None = None
    bastion: "SSHTarget | None" = None


@dataclass(frozen=True)
class HostSpec:
    """One host of the inventory.

    ``ssh`` is None for the local machine (``localhost.enabled`` in k0sctl.yaml, or no
    inventory at all). ``demo`` names the simulated node when running ``--demo``.
    """

    name: str
    role: str = "controller"
    ssh: SSHTarget | None = None
    data_dir: str = "/var/lib/k0s"
    k0s_binary: str = "k0s"
    config_path: str = "/etc/k0s/k0s.yaml"
    install_flags: tuple[str, ...] = ()
    demo: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def address(self) -> str:
        """Where the host is reached: its SSH address, 'localhost', or 'demo'."""
        if self.ssh is not None:
            return self.ssh.address if self.ssh.port == 22 else f"{self.ssh.address}:{self.ssh.port}"
        if self.demo:  # the simulated node's address (display only, never contacted)
            return self.extra.get("address", "demo")
        return "localhost"

    @property
    def is_controller(self) -> bool:
        return self.role in ("controller", "controller+worker", "single")

    @property
    def runs_workloads(self) -> bool:
        return self.role in ("worker", "controller+worker", "single")


@dataclass
class Inventory:
    """A named set of hosts (a k0sctl.yaml, `--ssh` hosts, the local machine, or the demo)."""

    name: str
    hosts: list[HostSpec]
    k0s_version: str | None = None
    source: str = ""

    @property
    def controllers(self) -> list[HostSpec]:
        return [h for h in self.hosts if h.is_controller]

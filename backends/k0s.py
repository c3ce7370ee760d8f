"""The k0s adapter: every k0s operation on one host, over any transport.

INTERFACE SKELETON — implemented by the adapter work (issue 2). Signatures are the
contract other modules (fleet, TUI, headless CLI) code against; keep them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from backends.hostspec import HostSpec
from backends.models import (
    Container,
    EtcdMember,
    Image,
    K0sStatus,
    KubeNode,
    PullProgress,
    SysinfoReport,
)
from backends.transport import CommandResult, ProgressCallback, StreamResult, Transport


class ServiceState(str, enum.Enum):
    """What the Nodes pane says about k0s on a host."""

    RUNNING = "running"
    STOPPED = "stopped"
    NOT_INSTALLED = "not installed"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"


@dataclass
class NodeSnapshot:
    """Everything the Nodes pane shows for one host, gathered in one refresh."""

    name: str
    address: str
    role: str
    state: ServiceState
    version: str | None = None
    status: K0sStatus | None = None
    uptime_seconds: float | None = None
    error: str = ""  # why unreachable / not running / etc.
    kube_ready: bool | None = None
    kubelet_version: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class K0sHost:
    """k0s on one host. Mutating methods raise ReadOnlyRefused when ``readonly``."""

    def __init__(
        self,
        spec: HostSpec,
        transport: Transport,
        *,
        sudo: bool = False,
        readonly: bool = False,
    ) -> None:
        self.spec = spec
        self.transport = transport
        self.sudo = sudo
        self.readonly = readonly

    @property
    def name(self) -> str:
        return self.spec.name

    async def version(self) -> str: ...
    async def status(self) -> K0sStatus: ...
    async def snapshot(self) -> NodeSnapshot: ...
    async def sysinfo(self) -> SysinfoReport: ...
    async def images(self) -> list[Image]: ...
    async def pull_image(self, ref: str, progress: Callable[[PullProgress], None] | None = None) -> None: ...
    async def label_image(self, ref: str, labels: dict[str, str]) -> dict[str, str]: ...
    async def remove_image(self, ref: str) -> None: ...
    async def containers(self) -> list[Container]: ...
    async def etcd_members(self) -> list[EtcdMember]: ...
    async def kube_nodes(self) -> list[KubeNode]: ...
    async def start(self) -> CommandResult: ...
    async def stop(self) -> CommandResult: ...
    async def restart(self) -> CommandResult: ...
    async def service_status_text(self) -> str: ...
    async def backup_to(self, dest: Path, progress: ProgressCallback | None = None) -> StreamResult: ...
    async def restore_from(self, src: Path, progress: ProgressCallback | None = None) -> CommandResult: ...
    async def read_config(self) -> str: ...
    async def uptime(self) -> float: ...

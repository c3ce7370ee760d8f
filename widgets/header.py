"""The cluster header: name and live fleet figures in one or two lines."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from widgets.style import level_style
from widgets.safe import safe_str


@dataclass
class HeaderInfo:
    """Everything the header shows (strings already humanised by the app)."""

    cluster: str = ""
    reachable: int = 0
    total: int = 0
    controllers_running: int = 0
    controllers: int = 0
    workers_ready: int = 0
    workers: int = 0
    sysinfo: str | None = None  # worst verdict, None before any ran
    backup_age: str | None = None  # "3h ago", None when there is no backup
    cert_expiry: str | None = None  # "in 364d (node-1)", None before a scan
    cert_level: str = "muted"
    readonly: bool = False
    clock: str = ""
    drift: str | None = None  # "3 of 8 hosts behind v1.33.3+k0s.0", None before any version
    drift_level: str = "muted"


class ClusterHeader(Static):
    """Header line(s): cluster, hosts reachable/total, controllers, workers, sysinfo, backup, certs."""

    DEFAULT_CSS = """
    ClusterHeader { height: auto; max-height: 2; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.info = HeaderInfo()

    def show(self, info: HeaderInfo) -> None:
        """Redraw with ``info`` (skipped when nothing changed)."""
        if info == self.info and self.content:
            return
        self.info = info
        self.update(self.render_info(info))

    def render_info(self, i: HeaderInfo) -> Text:
        app = self.app
        sep = Text(" │ ", style=level_style(app, "muted"))
        t = Text(no_wrap=False, end="")
        t.append(safe_str(i.cluster or "k0s", line=True), style=level_style(app, "accent", bold=True))
        if i.readonly:
            t.append(" [read-only]", style=level_style(app, "warning", bold=True))
        parts: list[tuple[str, str]] = []
        ok_hosts = "success" if i.total and i.reachable == i.total else ("warning" if i.reachable else "error")
        parts.append((f"hosts {i.reachable}/{i.total}", ok_hosts))
        parts.append((f"controllers {i.controllers_running}/{i.controllers} up",
                      "success" if i.controllers and i.controllers_running == i.controllers else "warning"))
        if i.workers:
            parts.append((f"workers {i.workers_ready}/{i.workers} Ready",
                          "success" if i.workers_ready == i.workers else "warning"))
        parts.append((f"sysinfo {i.sysinfo or '…'}", i.sysinfo or "muted"))
        parts.append((f"backup {i.backup_age or 'none'}", "muted" if i.backup_age else "warning"))
        parts.append((f"certs {i.cert_expiry or '…'}", i.cert_level))
        if i.drift:
            parts.append((f"k0s {i.drift}", i.drift_level))
        for text, level in parts:
            t.append_text(sep)
            t.append(safe_str(text, line=True), style=level_style(app, level))
        return t

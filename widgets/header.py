"""The cluster header: name and live fleet figures on one line, shortened (then facts dropped,
the least important first) to fit the terminal's width."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.events import Resize
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
    drift_short: str | None = None  # "3/8 behind" (what a narrow header shows)


@dataclass
class _Part:
    key: str
    long: str
    short: str
    level: str


#: How the header makes room, one step at a time until it fits: ("short", part) switches a
#: fact to its short form, ("drop", part) leaves it out. Least important first.
SHRINK_STEPS = (
    ("short", "drift"), ("short", "certs"), ("short", "controllers"), ("short", "workers"),
    ("short", "backup"), ("drop", "backup"), ("drop", "sysinfo"), ("drop", "drift"),
    ("drop", "certs"), ("drop", "workers"), ("drop", "controllers"),
)
SEP = " │ "


def header_parts(i: HeaderInfo) -> list[_Part]:
    """The facts of ``i`` in display order, each with a long and a short form."""
    parts: list[_Part] = []
    ok_hosts = "success" if i.total and i.reachable == i.total else ("warning" if i.reachable else "error")
    parts.append(_Part("hosts", f"hosts {i.reachable}/{i.total}", f"hosts {i.reachable}/{i.total}", ok_hosts))
    ctl = f"{i.controllers_running}/{i.controllers}"
    parts.append(_Part("controllers", f"controllers {ctl} up", f"ctrl {ctl}",
                       "success" if i.controllers and i.controllers_running == i.controllers else "warning"))
    if i.workers:
        wk = f"{i.workers_ready}/{i.workers}"
        parts.append(_Part("workers", f"workers {wk} Ready", f"workers {wk}",
                           "success" if i.workers_ready == i.workers else "warning"))
    parts.append(_Part("sysinfo", f"sysinfo {i.sysinfo or '…'}", f"sysinfo {i.sysinfo or '…'}", i.sysinfo or "muted"))
    backup = i.backup_age or "none"
    parts.append(_Part("backup", f"backup {backup}", f"bkp {backup.removesuffix(' ago')}",
                       "muted" if i.backup_age else "warning"))
    certs = i.cert_expiry or "…"
    parts.append(_Part("certs", f"certs {certs}", f"certs {certs.split(' (')[0]}", i.cert_level))
    if i.drift:
        parts.append(_Part("drift", f"k0s {i.drift}", f"k0s {i.drift_short or i.drift}", i.drift_level))
    return parts


def fit_parts(i: HeaderInfo, width: int) -> list[tuple[str, str]]:
    """(text, level) of the facts shown in ``width`` cells after the cluster name."""
    parts = header_parts(i)
    short: set[str] = set()
    dropped: set[str] = set()
    lead = len(i.cluster or "k0s") + (len(" [read-only]") if i.readonly else 0)

    def shown() -> list[tuple[str, str]]:
        return [(p.short if p.key in short else p.long, p.level) for p in parts if p.key not in dropped]

    def length(items: list[tuple[str, str]]) -> int:
        return lead + sum(len(SEP) + len(text) for text, _ in items)

    items = shown()
    for how, key in SHRINK_STEPS:
        if width <= 0 or length(items) <= width:
            break
        (short if how == "short" else dropped).add(key)
        items = shown()
    return items


class ClusterHeader(Static):
    """One header line: cluster, hosts reachable/total, controllers, workers, sysinfo, backup,
    certs, k0s drift — shortened to the width it has."""

    DEFAULT_CSS = """
    ClusterHeader { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.info = HeaderInfo()
        self._width = 0

    def show(self, info: HeaderInfo) -> None:
        """Redraw with ``info`` (skipped when nothing changed)."""
        if info == self.info and self.content and self._width == self.content_size.width:
            return
        self.info = info
        self._width = self.content_size.width
        # One line of fixed height and full width: new text never changes the layout, and a
        # layout pass repaints the whole screen (start-up: the header changes several times).
        self.update(self.render_info(info), layout=False)

    def on_resize(self, event: Resize) -> None:
        if self.content_size.width != self._width:
            self._width = self.content_size.width
            self.update(self.render_info(self.info), layout=False)

    def render_info(self, i: HeaderInfo) -> Text:
        app = self.app
        sep = Text(SEP, style=level_style(app, "muted"))
        t = Text(no_wrap=True, overflow="ellipsis", end="")
        t.append(safe_str(i.cluster or "k0s", line=True), style=level_style(app, "accent", bold=True))
        if i.readonly:
            t.append(" [read-only]", style=level_style(app, "warning", bold=True))
        for text, level in fit_parts(i, self.content_size.width):
            t.append_text(sep)
            t.append(safe_str(text, line=True), style=level_style(app, level))
        return t

"""Config: each controller's k0s.yaml at a glance (kube-proxy, storage, network, API, k0s version)
and the kube-proxy mode edit.

The edit: `m` offers only the modes that host's k0s version accepts (plus "disabled"); the
change is validated (whole document) and its warnings (mode caveats, missing IPVS kernel
modules from the host's cached sysinfo) are shown in the confirmation, BEFORE anything is
written; then the file is replaced atomically with a timestamped backup on the host, and a
k0s restart is offered (k0s reads k0s.yaml only at start). Hidden and refused with --readonly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from backends.session.core import HostResult
from tui.console import WorkerKey
from backends.errors import ValidationError
from tui import screens
from tui.panes.base import Pane
from widgets.rowmessage import RowMessage
from widgets.style import status_text
from widgets.table import Col, ResourceTable

if TYPE_CHECKING:  # k0s.yaml handling loads with the pane's first read, not with the console
    from backends.k0s.config import HostConfig
    from backends.session.config import KubeProxyPlan

COLUMNS = [
    Col("host", "Host"), Col("kube_proxy", "kube-proxy"), Col("storage", "Storage"),
    Col("network", "Network"), Col("api", "API address"), Col("version", "k0s version"),
    Col("file", "File"), Col("note", "Note"),
]
#: The choice that turns kube-proxy off (every other choice is a mode and enables it).
DISABLED = "disabled"


def mode_choices(hc: HostConfig) -> list[str]:
    """What the edit offers for a host: its version's allowed modes, then "disabled"."""
    from backends.k0s.config import allowed_modes

    return [*allowed_modes(hc.k0s_version), DISABLED]


def plan_detail(plan: KubeProxyPlan) -> str:
    """The confirmation's body: the change, every warning, what happens next."""
    lines = [f"kube-proxy: {plan.old} -> {plan.new}   (k0s {plan.k0s_version or 'version unknown'})", ""]
    for w in plan.warnings:
        lines.append(f"WARNING: {w}")
    if plan.warnings:
        lines.append("")
    lines.append(f"{plan.path} is validated, backed up on the host as {plan.path}.<time>.bak and")
    lines.append("replaced atomically. k0s reads it only at start: you will be offered a restart.")
    return "\n".join(lines)


class ConfigPane(Pane):
    """k0s.yaml of every controller; `m` changes the kube-proxy mode (or disables it)."""

    pane_id = "config"
    title = "Config"
    aliases = ("k0s.yaml", "cfg", "kubeproxy", "kube-proxy")
    MUTATING = frozenset({"kube_proxy"})
    MESSAGE_COLUMN = "note"
    BINDINGS = [
        Binding("m", "kube_proxy", "kube-proxy mode", id="config.kube_proxy"),
        Binding("c", "reload", "Re-read", id="config.reload"),
        Binding("enter", "details", "k0s.yaml", id="config.details"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        #: host -> backup path of the last write from this console (until k0s restarts).
        self.backups: dict[str, str] = {}

    def compose_content(self) -> ComposeResult:
        yield Static("", classes="pane-status", id="config-status", markup=False)
        yield ResourceTable(COLUMNS, id="config-table", sort_column="host")
        yield RowMessage(id="config-message")

    def on_built(self) -> None:
        table = self.primary_table()
        for host in self.session.controllers():
            table.upsert(host, {"host": host, "kube_proxy": status_text(self.app, "…", "muted")})
        for hc in self._configs():
            self.show_config(hc)
        self.show_status(
            "kube-proxy mode and high-signal k0s.yaml fields per controller"
            + ("" if self.console.readonly else " · m: change the kube-proxy mode (validated, backed up)"))

    # ------------------------------------------------------------------ data

    def show_config(self, hc: HostConfig) -> None:
        """Fill in one controller's row."""
        app = self.app
        s = hc.summary
        values: dict = {"host": hc.host, "version": hc.k0s_version or "-",
                        "file": hc.path if hc.exists else f"{hc.path} (absent: defaults)"}
        if s is not None:
            kp = s.kube_proxy
            values.update({
                "kube_proxy": status_text(app, kp.label, "warning" if kp.disabled else "accent"),
                "storage": s.storage_type, "network": s.network_provider,
                "api": f"{s.api_address}:{s.api_port or 6443}" if s.api_address else "-",
                "note": ", ".join(f"{d} default" for d in s.defaults_used),
            })
            if hc.host in self.backups:  # written this session: where the previous file went
                values["note"] = f"restart pending · backup {self.backups[hc.host]}"
        else:
            values["kube_proxy"] = status_text(app, "?", "error")
            values["note"] = status_text(app, hc.error.splitlines()[0] if hc.error else "unreadable", "error")
        self.primary_table().upsert(hc.host, values)
        self.show_row_message(hc.host)

    def _configs(self) -> list[HostConfig]:
        return [hc for h in self.session.controllers() if (hc := self.session.config.of(h)) is not None]

    def load(self, host: str) -> None:
        """Read ``host``'s k0s.yaml in a worker (skipped while one runs)."""
        self.console.start_once(WorkerKey("config", host), self._load(host))

    async def _load(self, host: str) -> None:
        self.show_config(await self.session.config.read(host))

    def refresh_data(self) -> None:
        # The file changes rarely: read once per host; `c` re-reads.
        for host in self.session.controllers():
            if self.session.config.of(host) is None:
                self.load(host)

    def redraw(self) -> None:
        for hc in self._configs():
            self.show_config(hc)

    def action_reload(self) -> None:
        for host in self.primary_table().target_keys() or self.session.controllers():
            self.load(host)

    def action_details(self) -> None:
        host = self.primary_table().selected_key()
        hc = self.session.config.of(host) if host else None
        if hc is None:
            return
        body = hc.text if hc.exists else f"{hc.path} does not exist: k0s runs on its defaults."
        if hc.error:
            body = f"{hc.error}\n\n{body}"
        self.console.show_text(f"{host}: {hc.path}", Text(body))

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    # ------------------------------------------------------------------ the edit

    def action_kube_proxy(self) -> None:
        """Choose a mode (only those this host's k0s accepts) or "disabled"."""
        host = self.primary_table().selected_key()
        hc = self.session.config.of(host) if host else None
        if host is None or hc is None:
            return
        if hc.error or hc.summary is None:
            self.notify(f"{host}: cannot edit: {hc.error or 'k0s.yaml not read'}", severity="error", markup=False)
            return
        current = hc.summary.kube_proxy.label

        def chosen(choice: str | None) -> None:
            if choice and choice != current:
                self.console.spawn(WorkerKey("config-plan", host), self.prepare(host, choice))

        self.app.push_screen(screens.ChoiceScreen(
            f"kube-proxy on {host}", mode_choices(hc), current=current,
            help_text=f"modes k0s {hc.k0s_version or '(unknown version)'} accepts, or disable kube-proxy"), chosen)

    async def prepare(self, host: str, choice: str) -> KubeProxyPlan | None:
        """Validate the change and ask for confirmation, showing every warning first."""
        try:
            if choice == DISABLED:
                plan = await self.session.config.plan_kube_proxy(host, disabled=True)
            else:
                plan = await self.session.config.plan_kube_proxy(host, mode=choice, disabled=False)
        except ValidationError as exc:
            self.notify(str(exc), title=f"kube-proxy {host}", severity="error", markup=False)
            return None
        finally:
            if (hc := self.session.config.of(host)) is not None:
                self.show_config(hc)

        def go(ok: bool | None) -> None:
            if ok:
                self.apply(plan)

        self.app.push_screen(screens.ConfirmScreen(f"Set kube-proxy to {plan.new} on {host}?", [f"{host}: {plan.path}"],
                                           detail=plan_detail(plan), confirm_label="Write"), go)
        return plan

    def apply(self, plan: KubeProxyPlan):
        """Write the planned change (tracked operation), then offer to restart k0s."""
        async def job(op) -> str:
            backup = await self.session.config.apply_kube_proxy(plan)
            self.backups[plan.host] = backup or "(none: no previous file)"
            if (hc := self.session.config.of(plan.host)) is not None:
                self.show_config(hc)
            self.offer_restart(plan.host)
            return f"written; backup {backup}" if backup else "written (no previous file)"
        return self.console.start_operation(f"kube-proxy {plan.new}", [plan.host], job)

    def offer_restart(self, host: str) -> None:
        def go(ok: bool | None) -> None:
            if ok:
                self.backups.pop(host, None)
                if (hc := self.session.config.of(host)) is not None:
                    self.show_config(hc)
                self.restart(host)

        self.app.push_screen(screens.ConfirmScreen(
            f"Restart k0s on {host} now?", [host],
            detail="\nk0s reads k0s.yaml only when it starts: the new kube-proxy setting applies after a restart.",
            confirm_label="Restart"), go)

    def restart(self, host: str):
        """Restart k0s on ``host`` (the user confirmed) so it reads the new k0s.yaml."""
        async def job(op) -> list[HostResult]:
            # Quorum-checked: refused (the error says why) when this restart would break etcd quorum.
            results = await self.session.cluster.service("restart", [host])
            self.announce("nodes", [host])
            return results
        return self.console.start_operation("restart k0s", [host], job, show=True)

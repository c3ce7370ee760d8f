"""Nodes: every inventory host with k0s service state, readiness, uptime; start/stop/restart
(quorum-checked, see :mod:`tui.panes.cluster_actions`) and the rolling restart."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from backends.k0s.drift import SOURCE_LABELS
from backends.k0s.host import NodeSnapshot, ServiceState
from tui.console import WorkerKey
from tui import screens
from tui.panes import cluster_actions
from tui.panes.base import Pane
from widgets.activity import Operation
from widgets.fmt import human_duration
from widgets.rowmessage import RowMessage
from widgets.style import status_text
from widgets.table import Col, ResourceTable

COLUMNS = [
    Col("host", "Host"), Col("address", "Address"), Col("role", "Role"), Col("version", "Version"),
    Col("state", "State"), Col("pid", "PID"), Col("ready", "Ready"), Col("kubelet", "Kubelet"),
    Col("workloads", "Workloads"), Col("uptime", "Uptime"), Col("message", "Message"),
]
#: Longest wait between two recomputes of the fleet's version mismatches (seconds).
MISMATCH_MAX_INTERVAL = 0.5
#: Optional component-version columns (`v` toggles them; filled by a version scan).
VERSION_COLUMNS = [Col("containerd", "containerd"), Col("runc", "runc"), Col("etcd", "etcd")]
#: Table column -> versions component, for the mismatch highlight.
VERSION_COMPONENTS = {"version": "k0s", "kubelet": "kubernetes", "containerd": "containerd",
                      "runc": "runc", "etcd": "etcd"}
#: State and message cells (state, message, level) for SSH host-key errors; the nodes.trust
#: binding (``{key}``: `t` unless keymap.toml rebinds it) reviews the key. The state says it
#: too: the message column is cut on narrow terminals.
HOST_KEY_MESSAGES = {
    "host-key-unknown": ("key unknown", "host key unknown — press {key} to review", "warning"),
    "host-key-changed": ("KEY CHANGED", "HOST KEY CHANGED — press {key} for details", "error"),
}


#: Readiness older than this (seconds) shows its age ("Ready (45s)"): the controllers have
#: not answered since.
STALE_READINESS_S = 30.0


def _kube_shown(snap: NodeSnapshot) -> tuple:
    """What of a snapshot's readiness the row shows (a change re-shows the row)."""
    return (snap.kube_ready, snap.kubelet_version, snap.kube_reason, snap.kube_at)


class NodesPane(Pane):
    """All hosts of the inventory in one table."""

    pane_id = "nodes"
    title = "Nodes"
    aliases = ("node", "no", "hosts")
    VERBS = ("plans", "autopilot")
    MUTATING = frozenset({"start", "stop", "restart", "rolling_restart", "shell"})
    ERROR_KINDS = frozenset({"nodes"})
    MESSAGE_COLUMN = "message"
    BUILD_AT_START = True
    BINDINGS = [
        Binding("u", "start", "Start", id="nodes.start"),
        Binding("x", "stop", "Stop", id="nodes.stop"),
        Binding("r", "restart", "Restart", id="nodes.restart"),
        Binding("R", "rolling_restart", "Rolling restart", id="nodes.roll"),
        Binding("enter", "details", "Details", id="nodes.details"),
        Binding("v", "toggle_versions", "Versions", id="nodes.versions"),
        # Not in the footer: rows with an unknown/changed key say "press t" themselves.
        Binding("t", "trust", "Host key", show=False, id="nodes.trust"),
        Binding("l", "logs", "Logs", id="nodes.logs"),
        # k9s's key for a shell; priority: it wins over the table's sort key here.
        Binding("s", "shell", "Shell", id="nodes.shell", priority=True),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.show_versions = False
        self._mismatch: dict[str, set[str]] = {}
        # Fleet-wide work is batched: each snapshot only notes whether its host's versions
        # changed (O(1)); one pass per burst then re-colours just the rows whose highlight
        # changed (a 2,000-host refresh stays linear).
        self._seen_versions: dict[str, tuple] = {}
        self._versions_dirty = False
        # Readiness/kubelet shown per host: a controller's snapshot fills them into the other
        # hosts' snapshots in place (ClusterSession._store), so the batch re-shows those rows.
        self._shown_kube: dict[str, tuple] = {}
        self._in_batch = False
        self._batch_pending = False
        self._batch_at = 0.0  # monotonic time of the last batch pass
        self._batch_cost = 0.0  # how long it took (the throttle scales with it)

    def compose_content(self) -> ComposeResult:
        yield ResourceTable(COLUMNS, id="nodes-table")
        yield RowMessage(id="nodes-message")
        yield Static("", classes="pane-status", id="nodes-status", markup=False)

    def on_built(self) -> None:
        table = self.primary_table()
        for name in self.session.host_names:
            spec = self.session.spec(name)
            table.upsert(name, self._connecting_row(name, spec))
        for snap in self.session.nodes.snapshots():
            self.show_snapshot(snap)
        self.show_drift()

    def show_drift(self) -> None:
        """The status line: the fleet's k0s versions against the target (and who is behind)."""
        drift = self.session.nodes.drift()
        t = Text(end="")
        if drift.target is None:
            t.append("k0s versions: none known yet")
        else:
            t.append("k0s: ")
            t.append_text(status_text(self.app, drift.summary(), drift.level, bold=drift.level == "warning"))
            t.append(f"   target: {SOURCE_LABELS[drift.source]}")
            if drift.behind:
                t.append(f"   behind: {', '.join(drift.behind[:8])}{' …' if len(drift.behind) > 8 else ''}")
            if drift.ahead:
                t.append(f"   ahead: {', '.join(drift.ahead[:8])}{' …' if len(drift.ahead) > 8 else ''}")
        self.show_status(t)

    def start(self) -> None:
        self.refresh_data()

    def _connecting_row(self, name: str, spec) -> dict:
        return {"host": name, "address": spec.address, "role": spec.role,
                "state": status_text(self.app, "connecting…", "connecting")}

    def show_snapshot(self, snap: NodeSnapshot) -> None:
        """Fill in (or update) one host's row."""
        app = self.app
        state = snap.state.value
        level = {ServiceState.RUNNING: "running", ServiceState.STOPPED: "stopped",
                 ServiceState.NOT_INSTALLED: "not installed", ServiceState.UNREACHABLE: "unreachable"}.get(
            snap.state, "unknown")
        if snap.state is ServiceState.UNKNOWN and snap.error:
            state, level = "error", "error"
        status = snap.status
        ready = "-" if snap.kube_ready is None else ("Ready" if snap.kube_ready else "NotReady")
        if snap.kube_at is not None:  # a value kept from an earlier answer: say how old
            age = (self.console.now() - snap.kube_at).total_seconds()
            if age >= STALE_READINESS_S:
                ready += f" ({human_duration(age)})"
        values = {
            "host": snap.name,
            "address": snap.address,
            "role": status.role if status else snap.role,
            "version": snap.version or "-",
            "state": status_text(app, state, level),
            "pid": str(status.pid) if status and status.pid else "-",
            "ready": status_text(app, ready, "ready" if snap.kube_ready else ("not-ready" if snap.kube_ready is False else "muted")),
            "kubelet": snap.kubelet_version or "-",
            "workloads": ("yes" if status.workloads else "no") if status else "-",
            "uptime": human_duration(snap.uptime_seconds),
            "message": Text(snap.error.splitlines()[0] if snap.error else "", end="", no_wrap=True),
        }
        if not snap.error and snap.kube_ready is False and snap.kube_reason:
            values["message"] = status_text(app, f"NotReady: {snap.kube_reason}", "warning")
        key_problem = HOST_KEY_MESSAGES.get(snap.extra.get("error_kind", ""))
        if key_problem:
            state_word, message, key_level = key_problem
            values["state"] = status_text(app, state_word, key_level)
            message = message.format(key=self.console.key_for("nodes.trust", "t"))
            values["message"] = status_text(app, message, key_level)
        self._shown_kube[snap.name] = _kube_shown(snap)
        seen = (snap.version, snap.kubelet_version, self.session.nodes.versions_of(snap.name))
        if self._seen_versions.get(snap.name) != seen:  # the fleet majority may move
            self._seen_versions[snap.name] = seen
            self._versions_dirty = True
        self._version_cells(snap.name, values)
        # restyle: the mismatch highlight may change a version cell's colour alone.
        self.primary_table().upsert(snap.name, values, {"pid": status.pid if status else None,
                                                        "uptime": snap.uptime_seconds},
                                    restyle=VERSION_COMPONENTS)
        self.show_row_message(snap.name)
        if not self._in_batch:
            self._batch_soon()

    def _batch_soon(self) -> None:
        """Run the fleet-wide pass once for a whole burst of snapshots: after the next frame,
        or (when the last pass was costly: a big fleet) no sooner than ten times its cost
        after it, capped at MISMATCH_MAX_INTERVAL (so it takes ~10% of the loop at most)."""
        if self._batch_pending:
            return
        self._batch_pending = True
        interval = min(MISMATCH_MAX_INTERVAL, 10 * self._batch_cost)
        delay = self._batch_at + interval - time.monotonic()
        if delay > 0.001:
            self.set_timer(delay, self._batch)
        else:
            self.call_after_refresh(self._batch)

    def _batch(self) -> None:
        """Re-show rows whose snapshot changed in place, then recompute the mismatches if
        some version changed."""
        self._batch_pending = False
        t0 = time.perf_counter()
        self._in_batch = True
        try:
            shown = self._shown_kube
            for snap in self.session.nodes.snapshots():
                was = shown.get(snap.name)
                if was is not None and was != _kube_shown(snap):
                    self.show_snapshot(snap)
            if self._versions_dirty:
                self._fleet_mismatches()
                self.show_drift()
        finally:
            self._in_batch = False
        self._batch_cost = time.perf_counter() - t0
        self._batch_at = time.monotonic()

    def _fleet_mismatches(self) -> dict[str, set[str]]:
        """Recompute the session's version mismatches now and re-colour only the rows whose
        highlight changed. Returns them (component -> hosts)."""
        self._versions_dirty = False
        new = self.session.nodes.version_mismatches()
        old, self._mismatch = self._mismatch, new
        if new != old:
            changed: set[str] = set()
            for component in old.keys() | new.keys():
                changed |= old.get(component, set()) ^ new.get(component, set())
            for host in changed:
                snap = self.session.nodes.snapshot_of(host)
                if snap is not None:
                    self.show_snapshot(snap)
        return new

    def _version_cells(self, host: str, values: dict) -> None:
        """Fill the optional version columns and colour versions that differ from the fleet's."""
        known = self.session.nodes.versions_of(host)
        if self.show_versions:
            for c in VERSION_COLUMNS:
                values[c.key] = (known.get(c.key) if known else None) or "-"
        for col, component in VERSION_COMPONENTS.items():
            if col in values and host in self._mismatch.get(component, ()):
                plain = values[col].plain if isinstance(values[col], Text) else str(values[col])
                values[col] = status_text(self.app, plain, "warning", bold=True)

    def action_toggle_versions(self) -> None:
        """Show/hide the containerd/runc/etcd columns (a version scan fills them)."""
        table = self.primary_table()
        self.show_versions = not self.show_versions
        if self.show_versions:
            for c in VERSION_COLUMNS:  # before Message: seen at 120 columns
                table.add_column(c.label, key=c.key, default="…", before="message")
            self.console.start_once(WorkerKey("versions"), self._scan_versions())
        else:
            for c in VERSION_COLUMNS:
                table.remove_column(c.key)
                if table.sort_column == c.key:
                    table.sort_column = None
        self.redraw()

    async def _scan_versions(self) -> None:
        await self.session.nodes.refresh_versions()
        self._mismatch = self._fleet_mismatches()
        self.redraw()

    def show_error(self, host: str, message: str) -> None:
        """Put a worker's error on the host's row."""
        table = self.primary_table()
        if table.has_key(host):  # O(1): errors from a big fleet arrive one by one
            values = table.row_values(host)
            values["message"] = status_text(self.app, message.splitlines()[0] if message else "", "error")
            table.upsert(host, values)
            self.show_row_message(host)

    def targets(self) -> list[str]:
        return self.primary_table().target_keys()

    # ------------------------------------------------------------------ refresh

    def refresh_data(self) -> None:
        """Snapshot every idle host; rows fill in as hosts answer, those on screen and the
        marked ones first (the fleet runner starts hosts in the order given)."""
        self.console.spawn(WorkerKey("nodes"), self._refresh(self.refresh_order()))

    def refresh_order(self) -> list[str]:
        """Every host, the marked and on-screen rows first, then the rest in inventory order."""
        table = self.primary_table()
        first = [*(k for k in table.keys if k in table.marked), *table.keys_on_screen()]
        return list(dict.fromkeys([*first, *self.session.host_names]))

    def refresh_hosts(self, hosts: list[str]) -> None:
        """Snapshot ``hosts`` now (after a change on them)."""
        for host in hosts:
            self.console.start_once(WorkerKey("nodes", host), self._refresh([host]))

    async def _refresh(self, names: list[str] | None = None) -> None:
        def on_snapshot(snap: NodeSnapshot) -> None:
            self.show_snapshot(snap)
            self.console.header_soon()
        await self.session.nodes.refresh(on_snapshot, names=names)
        self.console.header_soon()

    def command(self, args: list[str]) -> None:
        if args[:1] in (["plans"], ["autopilot"]):  # `:plans`: autopilot's Plan objects (read only)
            from tui.screens.plans import PlansScreen

            self.app.push_screen(PlansScreen(self.session))

    def redraw(self) -> None:
        for snap in self.session.nodes.snapshots():
            self.show_snapshot(snap)

    def data_changed(self, topic: str, hosts: tuple[str, ...]) -> None:
        if topic == "nodes":
            for host in hosts or self.session.host_names:
                if (snap := self.session.nodes.snapshot_of(host)) is not None:
                    self.show_snapshot(snap)

    # ------------------------------------------------------------------ start / stop / restart

    def _service(self, op: str) -> None:
        hosts = self.targets()
        if hosts:
            self.confirm_service(op, hosts)

    def action_start(self) -> None:
        self._service("start")

    def action_stop(self) -> None:
        self._service("stop")

    def action_restart(self) -> None:
        self._service("restart")

    def confirm_service(self, operation: str, hosts: list[str]) -> None:
        """Ask (naming every host, with what etcd/the API/the workers keep), then act."""
        cluster_actions.confirm_service(self, operation, hosts)

    def service(self, operation: str, hosts: list[str]) -> Operation:
        """Run the service operation (no confirmation: callers ask first)."""
        return cluster_actions.run_service(self, operation, hosts)

    def action_rolling_restart(self) -> None:
        """Restart the marked hosts (else all) one at a time, controllers first, gated."""
        table = self.primary_table()
        hosts = [k for k in table.target_keys() if k in table.marked] or self.session.host_names
        cluster_actions.confirm_roll(self, hosts)

    # ------------------------------------------------------------------ details, host keys

    def action_details(self) -> None:
        key = self.primary_table().selected_key()
        if key:
            self.app.push_screen(screens.NodeDetailsScreen(self.session, key))

    def action_trust(self) -> None:
        """Review the selected host's SSH key: trust an unknown one, explain a changed one."""
        key = self.primary_table().selected_key()
        if key:
            from tui.hostkeys import review_host_key  # loads asyncssh: only when asked

            review_host_key(self, key)

    def action_logs(self) -> None:
        """The node's k0s log (the last hour: a failed start or NotReady is in it)."""
        if key := self.primary_table().selected_key():
            from tui.panes.logs import show_logs

            show_logs(self.tui, [key])

    def action_shell(self) -> None:
        """Suspend the console for a shell on the node (ssh -t, or local)."""
        if key := self.primary_table().selected_key():
            from tui.shell import open_shell

            open_shell(self.tui, key)

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()

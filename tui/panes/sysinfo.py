"""Sysinfo: a fleet matrix (host x probe group) and the probes of the selected host as a tree."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Tree

from backends.session.sysinfo import OTHER_GROUP, PROBE_GROUPS, SysinfoResult, group_statuses
from tui.console import WorkerKey
from tui.panes.base import Pane
from widgets.safe import safe_str
from widgets.style import status_text
from widgets.table import Col, ResourceTable

GROUPS = ["Resources", "Network", "OS", "Cgroups", "Kernel", OTHER_GROUP]
assert set(GROUPS) == {name for name, _ in PROBE_GROUPS} | {OTHER_GROUP}
COLUMNS = [Col("host", "Host"), Col("verdict", "Verdict")] + [Col(g.lower(), g) for g in GROUPS] + [
    Col("at", "Checked")]
SHORT = {"pass": "pass", "warning": "warn", "rejected": "REJECTED", "error": "error"}


class SysinfoPane(Pane):
    """`k0s sysinfo` across the fleet, cached with the time each ran; `r` re-runs."""

    pane_id = "sysinfo"
    title = "Sysinfo"
    aliases = ("si",)
    BINDINGS = [
        Binding("r", "rerun", "Re-run", id="sysinfo.rerun"),
        Binding("enter", "details", "Probes", id="sysinfo.details"),
        Binding("l", "logs", "Logs", id="sysinfo.logs"),
    ]
    DEFAULT_CSS = """
    SysinfoPane #sysinfo-table { height: 1fr; min-height: 5; }
    SysinfoPane #sysinfo-tree { height: 1fr; border-top: solid $primary-darken-2; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown_host: str | None = None

    def compose_content(self) -> ComposeResult:
        yield ResourceTable(COLUMNS, id="sysinfo-table")
        tree: Tree[str] = Tree("probes", id="sysinfo-tree")
        tree.show_root = False
        yield tree

    def on_built(self) -> None:
        table = self.primary_table()
        for name in self.session.host_names:
            table.upsert(name, {"host": name, "verdict": status_text(self.app, "…", "muted")})
        for res in self.session.sysinfo.results():
            self.show_result(res)

    def start(self) -> None:
        self.refresh_data()

    def refresh_data(self) -> None:
        # Cached: run only for hosts that never ran (re-run is on demand).
        for name in self.session.host_names:
            if self.session.sysinfo.result(name) is None:
                self.run(name, force=False)

    def run(self, host: str, *, force: bool) -> None:
        """(Re-)run sysinfo on ``host`` in a worker (a forced re-run replaces a running one)."""
        key = WorkerKey("sysinfo", host)
        if force:
            self.console.spawn(key, self._run(host, True), exclusive=True)
        else:
            self.console.start_once(key, self._run(host, False))

    async def _run(self, host: str, force: bool) -> None:
        self.show_result(await self.session.sysinfo.run(host, force=force))
        self.console.header_soon()

    def show_result(self, res: SysinfoResult) -> None:
        """Update one host's matrix row (and the tree when it shows that host)."""
        if not self.built:  # on_built shows the session's results
            return
        app = self.app
        values: dict = {"host": res.host, "verdict": status_text(app, res.verdict, bold=True),
                        "at": res.at.strftime("%H:%M:%S")}
        if res.report is not None:
            groups = group_statuses(res.report)
            for g in GROUPS:
                if g in groups:
                    st, n = groups[g]
                    label = SHORT[st] if st == "pass" else f"{SHORT[st]} {n}"
                    values[g.lower()] = status_text(app, label, st)
        else:
            values["other"] = status_text(app, res.error.splitlines()[0] if res.error else "failed", "error")
        self.primary_table().upsert(res.host, values)
        if self.shown_host in (None, res.host):
            self.show_tree(res.host)

    def show_tree(self, host: str) -> None:
        """Fill the tree with ``host``'s probes (values and messages)."""
        res = self.session.sysinfo.result(host)
        tree = self.query_one("#sysinfo-tree", Tree)
        self.shown_host = host
        tree.clear()
        tree.root.set_label(Text(safe_str(host, line=True)))
        if res is None:
            tree.root.add_leaf(Text("not run yet"))
            return
        if res.report is None:
            tree.root.add_leaf(status_text(self.app, f"{host}: {res.error}", "error"))
            return
        tree.root.add_leaf(Text(safe_str(f"{host}: {res.verdict}", line=True) + f" at {res.at.strftime('%Y-%m-%d %H:%M:%S')}"))
        stack = [tree.root]
        for probe in res.report.probes:
            depth = probe.depth
            parent = stack[min(depth, len(stack) - 1)]
            label = Text()
            label.append_text(status_text(self.app, f"{SHORT[probe.status]:<8}", probe.status))
            label.append(safe_str(f" {probe.name}: {probe.value}", line=True))
            if probe.message:
                label.append(safe_str(f" ({probe.message})", line=True), style="italic")
            node = parent.add(label, expand=True)
            del stack[depth + 1:]
            stack.append(node)
        pending = list(tree.root.children)
        while pending:  # leaves get no expander
            node = pending.pop()
            if node.children:
                pending.extend(node.children)
            else:
                node.allow_expand = False
        tree.root.expand_all()

    def on_resource_table_row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        if event.row_key is not None and event.row_key.value:
            self.show_tree(str(event.row_key.value))

    def action_rerun(self) -> None:
        hosts = self.primary_table().target_keys() or self.session.host_names
        for host in hosts:
            self.run(host, force=True)

    def action_details(self) -> None:
        self.query_one("#sysinfo-tree", Tree).focus()

    def action_logs(self) -> None:
        """The host's k0s log around the time its probes ran (why was it rejected?)."""
        if key := self.primary_table().selected_key():
            from tui.panes.logs import show_logs

            res = self.session.sysinfo.result(key)
            show_logs(self.tui, [key], around=res.at.timestamp() if res is not None else None)

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def redraw(self) -> None:
        for res in self.session.sysinfo.results():
            self.show_result(res)

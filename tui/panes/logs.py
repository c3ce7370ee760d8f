"""Logs: k0s's own log of one host or many merged by time, followed live; CRI container logs.

`:logs [host…]` picks the hosts (default: every host of a small fleet, else the node under
the Nodes cursor). Streams run while the pane is shown and close when another pane is (their
SSH channels close with them); the ring buffer keeps what was read.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from typing import TYPE_CHECKING

from backends.errors import BackendError
from backends.paths import xdg_data_dir
from tui.console import WorkerKey
from tui.panes.base import Pane

if TYPE_CHECKING:
    # The log machinery (its parsers compile ~40 patterns, the view, the follower) loads when
    # the pane is first used, not with the console: the pane exists from the start, empty.
    from backends.k0s.logs import LogFollower, RingBuffer
    from backends.k0s.parsers.logs import Row
    from widgets.logview import LogView

#: Hosts followed when `:logs` names none and the fleet is this small.
ALL_HOSTS_UP_TO = 8
_MIN_LEVELS = ["", "warning", "error"]


class LogsPane(Pane):
    """One log view over a ring buffer fed by one follow stream per host."""

    pane_id = "logs"
    title = "Logs"
    aliases = ("log",)
    BINDINGS = [
        Binding("c", "cycle_component", "Component", id="logs.component"),
        Binding("v", "cycle_level", "Level", id="logs.level"),
        Binding("ctrl+s", "save", "Save", id="logs.save"),
    ]
    DEFAULT_CSS = "LogsPane > #logs-status { height: 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._buffer: RingBuffer | None = None
        self.hosts: list[str] = []
        self._generation = 0
        self._follower: LogFollower | None = None
        self.window: tuple[float, float] | None = None  # a fixed window (a "show logs" link)
        self.title_note = ""
        self.saved_path: Path | None = None

    @property
    def buffer(self) -> RingBuffer:
        """The lines kept (made on first use)."""
        if self._buffer is None:
            from backends.k0s.logs import DEFAULT_BUFFER, RingBuffer

            self._buffer = RingBuffer(DEFAULT_BUFFER)
        return self._buffer

    @property
    def follower(self) -> LogFollower:
        """The streams feeding the buffer since the last reset (made on first use)."""
        if self._follower is None:
            from backends.k0s.logs import LogFollower

            self._follower = LogFollower(self._sink())
        return self._follower

    def compose_content(self) -> ComposeResult:
        from widgets.logview import LogView

        yield Static("", classes="pane-status", id="logs-status", markup=False)
        yield LogView(id="log-view")

    @property
    def view(self) -> LogView:
        return self.query_one("#log-view")  # type: ignore[return-value]

    def primary_table(self) -> LogView:  # type: ignore[override]
        return self.view

    def focused_table(self) -> LogView:  # type: ignore[override]
        return self.view

    def on_built(self) -> None:
        self.view.bind_source(lambda: self.buffer.rows)
        self.set_interval(1.0, self._stop_when_hidden)

    # ------------------------------------------------------------------ what to show

    def _default_hosts(self) -> list[str]:
        names = self.session.host_names
        if len(names) <= ALL_HOSTS_UP_TO:
            return list(names)
        key = self.tui.nodes_pane.primary_table().selected_key()
        return [key] if key in names else names[:1]

    def command(self, args: list[str]) -> None:
        """`:logs [host…]`: follow those hosts (unknown names are reported, not fatal)."""
        names = [a for a in args if a in self.session.host_names]
        unknown = [a for a in args if a not in self.session.host_names]
        if unknown:
            self.app.notify("unknown host: " + ", ".join(unknown), severity="warning", markup=False)
        self.open_hosts(names or self._default_hosts())

    def open_hosts(self, names: list[str], *, around: float | None = None) -> None:
        """Show ``names``: followed live, or (``around``) the window from 10 min before to 5 after."""
        self.hosts = list(names)
        self.window = (around - 600, around + 300) if around is not None else None
        self._restart()

    def open_container(self, host: str, name: str, log_path: str, *, sudo: bool) -> None:
        """Follow one container's CRI log file (``tail -F`` over the host's transport)."""
        self.hosts = []
        self.window = None
        from backends.k0s.logs import container_log_argv, error_entry, follow_command

        self._reset(f"container {name} on {host} ({log_path})")
        transport = self.session.host(host).transport
        argv = container_log_argv(log_path)
        sink = self._sink()

        async def run() -> None:
            try:
                await follow_command(transport, host, argv, "cri", sink, sudo=sudo, component=name)
            except BackendError as exc:
                sink([error_entry(host, f"log stream lost ({exc.kind}): {exc.message}")])

        self.follower.add_task(f"{host}/{name}", run())

    def on_shown(self) -> None:
        if not self.hosts and not self.follower.tasks:
            self.hosts = self._default_hosts()
            self._restart()
        elif self.window is None and self.hosts and not self.follower.running:
            self.follower.start([self.session.host(n) for n in self.hosts], since=self._since())

    def _since(self) -> float:
        """The default window's start (1 h), by the app's clock (the demo's may be frozen)."""
        from backends.k0s.logs import DEFAULT_SINCE

        return self.tui.now().timestamp() - DEFAULT_SINCE

    def _reset(self, note: str) -> None:
        if self._follower is not None:
            self.console.spawn(WorkerKey("logs-stop"), self._follower.stop())
        self._generation += 1
        self._follower = None  # a new one (on first use) feeds the new generation
        self.buffer.clear()
        self.view.clear()
        self.title_note = note
        self._status()

    def _restart(self) -> None:
        if self.window is None:
            self._reset("following " + ", ".join(self.hosts))
            self.follower.start([self.session.host(n) for n in self.hosts], since=self._since())
            return
        since, until = self.window
        stamp = datetime.fromtimestamp(since + 600).strftime("%Y-%m-%d %H:%M:%S")
        self._reset(f"{', '.join(self.hosts)} around {stamp}")
        self.view.follow = False
        self.console.spawn(WorkerKey("logs-window"), self._read_window(since, until), exclusive=True)

    async def _read_window(self, since: float, until: float) -> None:
        from backends.k0s.logs import error_entry, merge_by_time, read_logs

        sink = self._sink()
        results: list[list[Row]] = []
        for name in self.hosts:
            try:
                results.append(await read_logs(self.session.host(name), since=since, until=until, lines=None))
            except BackendError as exc:
                results.append([error_entry(name, f"cannot read the log ({exc.kind}): {exc.message}")])
        sink(merge_by_time(results))
        self.view.action_scroll_end()

    def _stop_when_hidden(self) -> None:
        # The pane no longer needs its streams once another pane is shown.
        if self._follower is not None and self._follower.tasks and self.tui.active_pane is not self \
                and self.window is None:
            self.console.spawn(WorkerKey("logs-stop"), self.follower.stop())

    def _sink(self):
        """A callback feeding this pane until the next reset (a stopping stream's last lines
        must not land in the new view)."""
        generation = self._generation

        def sink(rows: list[Row]) -> None:
            if generation == self._generation:
                self.add_rows(rows)

        return sink

    def add_rows(self, rows: list[Row]) -> None:
        """Lines into the buffer and the view (what the streams' sink calls)."""
        evicted, in_order = self.buffer.add(rows)
        if self.is_mounted:
            self.view.add(rows, evicted, in_order)

    # ------------------------------------------------------------------ status and keys

    def on_log_view_state_changed(self, _event: LogView.StateChanged) -> None:
        self._status()

    def _status(self) -> None:
        v = self.view
        parts = [self.title_note, f"{len(v.rows):,}/{len(self.buffer):,} lines",
                 "follow" if v.follow else "paused", "wrap" if v.wrap else ""]
        if v.flt.components:
            parts.append("component=" + ",".join(sorted(v.flt.components)))
        if v.flt.min_level:
            parts.append(f"level≥{v.flt.min_level}")
        if v.flt.text:
            parts.append(f"/{v.flt.text}")
        if self.saved_path:
            parts.append(f"saved {self.saved_path}")
        self.show_status("  ".join(p for p in parts if p))

    def action_cycle_component(self) -> None:
        """All components -> each seen component in turn -> all."""
        v = self.view
        names = sorted(v.components)
        current = next(iter(v.flt.components), None)
        nxt = names[names.index(current) + 1] if current in names and names.index(current) + 1 < len(names) else (
            names[0] if current is None and names else None)
        from widgets.logview import LogFilter

        v.set_log_filter(LogFilter(v.flt.text, frozenset({nxt}) if nxt else frozenset(), v.flt.min_level))

    def action_cycle_level(self) -> None:
        """All levels -> warnings and worse -> errors and worse -> all."""
        v = self.view
        from widgets.logview import LogFilter

        i = _MIN_LEVELS.index(v.flt.min_level) if v.flt.min_level in _MIN_LEVELS else 0
        v.set_log_filter(LogFilter(v.flt.text, v.flt.components, _MIN_LEVELS[(i + 1) % len(_MIN_LEVELS)]))

    def action_save(self) -> None:
        """Write the rows shown (filters applied) to a new file under the data dir."""
        lines = self.view.export_lines()
        folder = xdg_data_dir() / "logs"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"logs-{time.strftime('%Y%m%d-%H%M%S')}-{len(lines)}.log"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        except OSError as exc:
            self.app.notify(f"cannot save the log: {exc}", severity="error", markup=False)
            return
        self.saved_path = path
        self._status()
        self.app.notify(f"saved {len(lines):,} lines to {path}", markup=False)


def show_logs(app, hosts: list[str], *, around: float | None = None) -> None:
    """Open the Logs pane on ``hosts`` (followed, or the window ``around`` a moment): the
    "show logs" link of the Nodes and Sysinfo rows."""
    app.action_show_pane(LogsPane.pane_id)
    pane = app.pane(LogsPane.pane_id)
    pane.when_built(lambda: pane.open_hosts(hosts, around=around))


def show_container_log(app, host: str, container_id: str) -> None:
    """Open the Logs pane on a running container's CRI log (enter on a Containers row)."""
    data = app.images_pane.data.get(host)
    container = next((c for c in (data.containers if data else []) if c.id == container_id), None)
    if container is None or container.state != "running" or container.kind != "container":
        app.notify("logs are shown for running containers (not sandboxes)", severity="warning", markup=False)
        return

    async def open_it() -> None:
        # Imported here: it loads the gRPC client, which the first frame must not wait for.
        from backends.images.container_logs import container_log_path

        backend = await app.session.images.backend(host)
        path = await container_log_path(host, backend, container)  # BackendError: the error sink
        app.action_show_pane(LogsPane.pane_id)
        pane = app.pane(LogsPane.pane_id)
        pane.when_built(lambda: pane.open_container(host, container.name, path, sudo=app.session.host(host).sudo))

    app.start_once(WorkerKey("container-log", host), open_it())

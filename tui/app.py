"""The k0s-tui Textual app: composition, the refresh tick, the keymap, the `:` bar, help, the
activity panel and the one error sink. Each pane owns its own flows (see tui/panes/)."""

from __future__ import annotations

import dataclasses
import itertools
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Input
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from backends.errors import BackendError, ReadOnlyRefused
from backends.paths import default_commands_path
from backends.session.core import HostResult, error_text, utcnow
from backends.session.session import ClusterSession
from tui.commands import K0sCommands
from tui.console import REFRESH_KINDS, DataChanged, WorkerKey
from tui.gcpolicy import GcPolicy
from tui.keymap import KeymapError, app_chains, default_keymap_path, keymap_warnings, load_keymap
from tui.panes import PANES, Pane, pane_for_word
from tui import screens
from widgets.activity import ActivityPanel, Operation
from widgets.fmt import human_age
from widgets.footer import PinnedFooter
from widgets.header import ClusterHeader, HeaderInfo
from widgets.safe import safe_str
from widgets.tabbar import TabBar

if TYPE_CHECKING:
    from backends.k0s.backups import BackupEntry
    from tui.panes.backups import BackupsPane
    from tui.panes.containers import ContainersPane
    from tui.panes.nodes import NodesPane
    from tui.panes.sysinfo import SysinfoPane


def drift_short(drift) -> str:
    """The header's narrow form of the k0s drift: ``1/8 behind`` or ``all on v1.33.3+k0s.0``."""
    if drift.behind or drift.ahead:
        text = f"{len(drift.behind)}/{drift.total} behind"
        return text + (f", {len(drift.ahead)} ahead" if drift.ahead else "")
    return drift.summary().replace(f"all {drift.total} hosts on", "all on")

_ACTIVE = (WorkerState.PENDING, WorkerState.RUNNING)
#: Footer keys kept first (visible at 80 columns whatever the pane adds).
PINNED_ACTIONS = ("help", "command_bar('/')")
#: How many previously shown panes `esc`/`q` can go back through.
PANE_HISTORY = 20
#: Seconds between two looks of the garbage-collection policy (tui/gcpolicy.py).
GC_TICK = 0.1
#: CPython's GIL switch interval while the console runs (the default is 5 ms). Our threads (the
#: parser of a fleet's `kubectl get nodes`, the demo's hosts) exist so the event loop keeps
#: handling keys; at 1 ms the loop gets the GIL back sooner from them: a 2,000-host refresh's
#: slowest key took 45-61 ms instead of 78-86 (three runs each), the refresh 2% longer.
SWITCH_INTERVAL = 0.001
#: Seconds between two recomputes of the header's fleet figures at most.
HEADER_INTERVAL = 0.5
#: The panes not on screen start their work (certificate scan, sysinfo) once no worker has run
#: for this long after the pane on screen asked its hosts (checked every half of it), and at the
#: latest BACKGROUND_LATEST s after the first frame: what the screen shows is asked first, and
#: the first keys are not queued behind parsing that nothing on screen needs yet.
BACKGROUND_QUIET = 0.1
BACKGROUND_LATEST = 2.0


class ConsoleScreen(Screen):
    """The main screen. No auto focus: it would focus the (hidden) command bar first; the
    pane's table is focused once it is on screen (one bindings change, one footer build)."""

    AUTO_FOCUS = ""


class K0sTuiApp(App):
    """The console. Built around one :class:`ClusterSession`; never exits on a backend error."""

    TITLE = "k0s-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {K0sCommands}

    BINDINGS = [
        *[Binding(str(i + 1), f"show_pane('{p.pane_id}')", p.title, id=f"app.pane.{p.pane_id}",
                  show=False) for i, p in enumerate(PANES)],
        Binding("colon", "command_bar(':')", "Cmd", id="app.command"),
        Binding("slash", "command_bar('/')", "Filter", id="app.filter"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("a", "toggle_activity", "Activity", id="app.activity"),
        Binding("escape", "back", "Close bar / clear filter / clear marks / previous pane", show=False,
                id="app.back"),
        # k9s habits: q goes back one level (previous pane) and quits from the top.
        Binding("q", "back_or_quit", "Back (close screen, previous pane); quit at the top", show=False,
                id="app.back_q"),
        Binding("ctrl+q", "quit", "Quit (also `:q`)", show=False, priority=True, id="app.quit"),
        Binding("ctrl+r", "refresh_now", "Refresh", show=False, id="app.refresh"),
    ]

    def __init__(
        self,
        session: ClusterSession,
        *,
        refresh: float = 5.0,
        clock: Callable[[], datetime] | None = None,
        keymap_path: Path | None = None,
        start_pane: str = "nodes",
        scan_certs: bool = True,
        retention_default: int = 7,
        commands_path: Path | None = None,
    ) -> None:
        #: Full garbage collections only while idle (tui/gcpolicy.py: why). Started here, before
        #: the widgets exist: start-up's own collections then skip the modules and the session.
        self.gc_policy = GcPolicy()
        self.gc_policy.start()
        super().__init__()
        self.session = session
        self.refresh_seconds = refresh
        self.clock = clock or session.clock or utcnow
        self.keymap_path = keymap_path
        #: commands.toml (None: $XDG_CONFIG_HOME/k0s-tui/commands.toml); loaded on mount.
        self.commands_path = commands_path
        self.user_commands: list = []
        #: Binding id -> keys from keymap.toml (only what the user rebound).
        self.user_keymap: dict[str, str] = {}
        self.start_pane = start_pane
        #: Scan every controller's certificates at start (the header shows the nearest expiry).
        self.scan_certs = scan_certs
        self.retention_default = retention_default
        self._op_ids = itertools.count(1)
        self._workers_by_key: dict[WorkerKey, Worker] = {}
        self.header_widget = ClusterHeader(id="header")
        self.activity = ActivityPanel(id="activity")
        self.command_input = Input(id="command-bar", placeholder=":nodes  :images [host]  :sysinfo  :backups  :certs  :config  :q")
        self.command_input.display = False
        self.command_mode = ":"
        self.errors: list[tuple[str, str]] = []  # (host, message) every error shown, newest last
        self._header_pending = False
        self._header_at = float("-inf")  # monotonic time of the last header recompute
        #: Whether the panes were started (just after the first frame).
        self._started = False
        self._switch_interval = sys.getswitchinterval()  # given back at exit
        #: Until the panes not on screen started: the check's timer, the latest start, and
        #: when a worker was last seen running (monotonic).
        self._background_timer: Timer | None = None
        self._background_latest = 0.0
        self._background_busy_at = 0.0
        self._first_shown: Pane | None = None
        self._newest_backup: BackupEntry | None = None
        self._newest_backup_known = False
        #: Panes shown before the current one (newest last), for esc / q: recorded when a key
        #: or `:` command switches panes (focus moves may switch tabs too; those are no steps).
        self.pane_history: list[str] = []

    # ------------------------------------------------------------------ layout

    @property
    def readonly(self) -> bool:
        return self.session.readonly

    def now(self) -> datetime:
        """The app's clock (frozen in tests and snapshots)."""
        return self.clock()

    def get_default_screen(self) -> Screen:
        return ConsoleScreen(id="_default")

    def compose(self) -> ComposeResult:
        yield self.header_widget
        yield TabBar([(p.pane_id, p.title) for p in PANES], active=self.start_pane, id="pane-tabs")
        with ContentSwitcher(initial=f"pane-{self.start_pane}", id="panes"):
            for pane_cls in PANES:
                # Only the pane on screen (and the Nodes pane) is built now; the others
                # when first shown (start-up cost: their tables, styles and layout).
                built = pane_cls.BUILD_AT_START or pane_cls.pane_id == self.start_pane
                yield pane_cls(id=f"pane-{pane_cls.pane_id}", built=built)
        yield self.command_input
        yield self.activity
        yield PinnedFooter(PINNED_ACTIONS)

    def on_mount(self) -> None:
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.apply_user_keymap()
        if (self.commands_path or default_commands_path()).exists():
            # The loader (its modules: ~3 ms) only when there is a file to load.
            from tui.usercommands import install_user_commands

            install_user_commands(self)
        self.update_header(nodes_only=True)
        self.header_soon()  # the whole header, just after the first frame
        self.theme_changed_signal.subscribe(self, lambda _theme: self._redraw_all())
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self.tick, name="refresh")
        self._focus_active_table()  # before the first frame: its footer shows the pane's keys
        # The first frame (header, tabs, "connecting…" rows) is drawn before any host is asked:
        # workers started now would run first (the demo answers on the event loop).
        self.call_after_refresh(self._start_panes)
        self.set_interval(GC_TICK, self._gc_tick, name="gc")

    def _start_panes(self) -> None:
        """After the first frame: the pane on screen is shown (its first refresh); the others
        start their own work once that has answered (:data:`BACKGROUND_QUIET`). Starting the
        one on screen too would refresh it twice."""
        self._started = True
        shown = self._first_shown = self.active_pane
        shown.when_built(lambda: self._first_show(shown))
        now = time.monotonic()
        self._background_latest = now + BACKGROUND_LATEST
        self._background_busy_at = now
        self._background_timer = self.set_interval(BACKGROUND_QUIET / 2, self._start_background_when_quiet,
                                                   name="background-start")

    def _start_background_when_quiet(self) -> None:
        if not self.is_running:  # quit right after the start: the panes are going away
            return
        now = time.monotonic()
        if any(w.is_running for w in self.workers):
            self._background_busy_at = now
        if now - self._background_busy_at < BACKGROUND_QUIET and now < self._background_latest:
            return
        if self._background_timer is not None:
            self._background_timer.stop()
            self._background_timer = None
        for pane_cls in PANES:
            if (pane := self.pane(pane_cls.pane_id)) is not self._first_shown:
                pane.start()

    @property
    def background_pending(self) -> bool:
        """Whether the panes not on screen have yet to start their work (the certificate scan,
        sysinfo): for a while after the first frame."""
        return not self._started or self._background_timer is not None

    def _first_show(self, pane: Pane) -> None:
        pane.on_shown()
        self._focus_active_table()  # a no-op unless a key switched panes before the first frame

    def _gc_tick(self) -> None:
        self.gc_policy.tick(busy=any(w.is_running for w in self.workers))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self.gc_policy.saw_input()
        await super().on_event(event)

    def apply_user_keymap(self) -> None:
        """Load keymap.toml and apply it with App.set_keymap (errors are shown, never fatal)."""
        try:
            keymap = load_keymap(self.keymap_path)
        except KeymapError as exc:
            self.notify(str(exc), title="keymap", severity="error", markup=False)
            return
        if keymap:
            self.user_keymap = dict(keymap)
            self.set_keymap(keymap)
            where = self.keymap_path or default_keymap_path()
            for warning in keymap_warnings(keymap, app_chains(type(self)), where):
                self.notify(warning, title="keymap", severity="warning", markup=False)

    def key_for(self, binding_id: str, default: str) -> str:
        """The key that runs binding ``binding_id`` now (the keymap's first, else ``default``),
        for texts that tell the user which key to press."""
        keys = self.user_keymap.get(binding_id, "")
        first = keys.split(",")[0].strip()
        return first or default

    # ------------------------------------------------------------------ panes

    def pane(self, pane_id: str) -> Pane:
        """The pane ``pane_id`` (maybe not built yet: see :meth:`Pane.when_built`)."""
        return self.query_one(f"#pane-{pane_id}", Pane)

    def built_panes(self) -> list[Pane]:
        """The panes whose widgets exist (the others fill themselves from the session when built)."""
        return [pane for pane_cls in PANES if (pane := self.pane(pane_cls.pane_id)).built]

    @property
    def active_pane_id(self) -> str:
        """The id of the pane on screen."""
        current = self.query_one("#panes", ContentSwitcher).current or ""
        return current.removeprefix("pane-") or PANES[0].pane_id

    @property
    def active_pane(self) -> Pane:
        return self.pane(self.active_pane_id)

    @property
    def nodes_pane(self) -> NodesPane:
        return self.pane("nodes")  # type: ignore[return-value]

    @property
    def images_pane(self) -> ContainersPane:
        return self.pane("images")  # type: ignore[return-value]

    @property
    def sysinfo_pane(self) -> SysinfoPane:
        return self.pane("sysinfo")  # type: ignore[return-value]

    @property
    def backups_pane(self) -> BackupsPane:
        return self.pane("backups")  # type: ignore[return-value]

    def action_show_pane(self, pane_id: str) -> None:
        shown = self.active_pane_id
        if shown != pane_id:
            self.pane_history = [*self.pane_history, shown][-PANE_HISTORY:]
            self._switch_to(pane_id)
        else:
            self._focus_active_table()

    @on(TabBar.Clicked)
    def _tab_clicked(self, event: TabBar.Clicked) -> None:
        self.action_show_pane(event.tab_id)

    def _switch_to(self, pane_id: str) -> None:
        """Put pane ``pane_id`` on screen; it is built (its first show) and shown just after."""
        self.query_one("#panes", ContentSwitcher).current = f"pane-{pane_id}"
        self.query_one(TabBar).active = pane_id
        self.call_later(self._pane_switched, self.pane(pane_id))

    async def _pane_switched(self, pane: Pane) -> None:
        started = self._started
        await pane.build()  # its first show
        if started and pane is self.active_pane:  # else _start_panes shows the pane on screen (once built)
            pane.on_shown()
            self.call_after_refresh(self._focus_active_table)

    def _focus_active_table(self) -> None:
        try:
            self.active_pane.primary_table().focus()
        except NoMatches:  # a pane without a table
            pass

    @on(DataChanged)
    def _data_changed(self, event: DataChanged) -> None:
        """A pane changed data others show: every pane hears of it, the header is redrawn."""
        if event.topic == "backups":
            self._newest_backup_known = False
        for pane in self.built_panes():
            pane.data_changed(event.topic, event.hosts)
        self.update_header()  # after an action, not in a burst: at once

    # ------------------------------------------------------------------ refresh

    def tick(self) -> None:
        """Periodic refresh: nodes always (the header needs them), plus the pane on show."""
        self.nodes_pane.refresh_data()
        pane = self.active_pane
        if pane is not self.nodes_pane and pane.built:  # else its first show refreshes it
            pane.refresh_data()
        self._newest_backup_known = False
        self.update_header()

    def action_refresh_now(self) -> None:
        self.tick()

    # ------------------------------------------------------------------ workers

    def spawn(self, key: WorkerKey, coro: Awaitable[Any], *, exclusive: bool = False) -> Worker:
        """Run ``coro`` in a worker on the App (it outlives screens); its failure goes to the
        error sink under ``key``. ``exclusive`` cancels a running worker of the same key."""
        worker = self.run_worker(self._guarded(key, coro), name=str(key), group=str(key),
                                 exclusive=exclusive, exit_on_error=False)
        self._workers_by_key[key] = worker
        return worker

    def worker_running(self, key: WorkerKey) -> bool:
        """Whether a worker of ``key`` is pending or running."""
        worker = self._workers_by_key.get(key)
        return worker is not None and worker.state in _ACTIVE

    def start_once(self, key: WorkerKey, coro: Awaitable[Any]) -> Worker | None:
        """Run ``coro`` under ``key`` unless a worker of that key still runs (then None).

        This is what keeps refreshes from piling up behind a slow host: the next tick simply
        skips the busy host instead of queueing (or cancelling) its request.
        """
        if self.worker_running(key):
            coro.close()  # type: ignore[attr-defined]
            return None
        return self.spawn(key, coro)

    async def _guarded(self, key: WorkerKey, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except Exception as exc:  # noqa: BLE001 - every failure is shown, none exits the app
            self.report_error(key, exc)
            return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Safety net: a worker not started through :meth:`spawn` that failed is shown too."""
        if event.state is WorkerState.ERROR:
            self.report_error(WorkerKey(event.worker.name or "worker"), event.worker.error)

    # ------------------------------------------------------------------ the one error sink

    def report_error(self, key: WorkerKey, exc: BaseException | None, *, host: str = "") -> None:
        """THE place errors become visible: on the host's row (the pane owning ``key.kind``), on
        the operation in the activity panel, and as a toast — except for background refreshes
        (:data:`~tui.console.REFRESH_KINDS`: they repeat every tick and show in place only).
        Never raises, never exits."""
        host = host or key.host
        if isinstance(exc, BackendError):
            host = host or exc.host
            text = exc.message
        else:
            text = error_text(exc) if exc is not None else "failed"
        self.errors.append((host, text))
        op = self.activity.operations.get(key.op) if key.op is not None else None
        if op is not None:
            if op.state == "running":
                op.state = "refused" if isinstance(exc, ReadOnlyRefused) else "failed"
            op.errors[host] = text
            self.activity.changed(op.id)
        if host:
            for pane_cls in PANES:
                if key.kind in pane_cls.ERROR_KINDS:
                    self.pane(pane_cls.pane_id).show_error(host, text)
        if op is not None or key.kind not in REFRESH_KINDS or not isinstance(exc, BackendError):
            title = f"{op.what} failed on {host}" if op is not None and host else f"{key.kind} {host}".strip()
            self.notify(text.splitlines()[0] if text else "failed", title=title, severity="error",
                        markup=False)

    # ------------------------------------------------------------------ operations

    def start_operation(self, what: str, hosts: Sequence[str],
                        job: Callable[[Operation], Awaitable[Any]], *, show: bool = False) -> Operation:
        """Run a (mutating) job in a worker, tracked in the activity panel (shown when ``show``).
        A job returning HostResults has each failed host reported through the error sink."""
        op = Operation(id=next(self._op_ids), what=what, hosts=list(hosts), started=self.now())
        self.activity.add(op)
        if show:
            self.activity.add_class("-shown")
        self.spawn(WorkerKey("op", "", op.id), self._run_operation(op, job))
        return op

    async def _run_operation(self, op: Operation, job: Callable[[Operation], Awaitable[Any]]) -> None:
        result = await job(op)  # a failure propagates to the error sink via _guarded
        if isinstance(result, list) and result and all(isinstance(r, HostResult) for r in result):
            failed = [r for r in result if not r.ok]
            op.state = "failed" if failed else "done"
            op.result = f"{len(result) - len(failed)}/{len(result)} ok"
            for r in failed:
                self.report_error(WorkerKey("op", r.host, op.id), BackendError(r.host, r.error))
        else:
            op.state = "done"
            op.result = result if isinstance(result, str) else "ok"
        self.activity.changed(op.id)

    def progress(self, op: Operation, host: str, done: float, total: float | None, note: str = "") -> None:
        """A progress update of ``host``'s part of ``op`` (a bar in the activity panel)."""
        op.progress[host] = (done, total)
        op.updates[host] = op.updates.get(host, 0) + 1
        if note:
            op.notes[host] = note
        self.activity.changed(op.id)

    def action_toggle_activity(self) -> None:
        self.activity.toggle_class("-shown")

    # ------------------------------------------------------------------ header

    def header_soon(self) -> None:
        """Coalesce header redraws: after the next frame, and at most every
        :data:`HEADER_INTERVAL` seconds (its figures walk every host: a 2,000-host refresh
        asking once a frame spent a third of the console's time there)."""
        if self._header_pending:
            return
        self._header_pending = True
        wait = self._header_at + HEADER_INTERVAL - time.monotonic()
        if wait > 0:
            self.set_timer(wait, self._flush_header)
        else:
            self.call_after_refresh(self._flush_header)

    @property
    def header_pending(self) -> bool:
        """Whether a header recompute is due (its figures may lag the session's by then)."""
        return self._header_pending

    def _flush_header(self) -> None:
        self._header_pending = False
        self._header_at = time.monotonic()
        self.update_header()

    def update_header(self, *, nodes_only: bool = False) -> None:
        """Recompute the header figures from the session's services (``nodes_only``: from the
        nodes alone, as the first frame does: the backup catalog, the certificate scans and
        sysinfo, their modules and the catalog's reads come just after it)."""
        c = self.session.nodes.counts()
        now = self.now()
        drift = self.session.nodes.drift()
        info = HeaderInfo(
            cluster=self.session.name, reachable=c.reachable, total=c.total,
            controllers_running=c.controllers_running, controllers=c.controllers,
            workers_ready=c.workers_ready, workers=c.workers, readonly=self.readonly,
            clock=now.strftime("%H:%M:%S"), drift=drift.summary() if drift.target else None,
            drift_level=drift.level, drift_short=drift_short(drift) if drift.target else None)
        if nodes_only:
            self.header_widget.show(info)
            return
        if not self._newest_backup_known:
            try:
                self._newest_backup = self.session.backups.newest()
            except OSError:
                self._newest_backup = None
            self._newest_backup_known = True
        newest = self._newest_backup
        cert = self.session.certs.nearest()
        cert_text, cert_level = None, "muted"
        if cert is not None:
            host, when = cert
            days = (when - now).total_seconds() / 86400
            cert_text = f"{human_age(when, now)} ({host})"
            cert_level = "error" if days < 7 else ("warning" if days < 30 else "success")
        self.header_widget.show(dataclasses.replace(
            info, sysinfo=self.session.sysinfo.verdict(), backup_age=human_age(newest.created, now) if newest else None,
            cert_expiry=cert_text, cert_level=cert_level))

    def _redraw_all(self) -> None:
        for pane in self.built_panes():
            pane.redraw()
        self.header_widget.info = HeaderInfo()
        self.update_header()

    # ------------------------------------------------------------------ command bar, filter, help

    def action_command_bar(self, mode: str) -> None:
        self.command_mode = mode
        bar = self.command_input
        bar.display = True
        if mode == "/":
            table = self.active_pane.focused_table()
            bar.placeholder = "filter: text or regex; !inverts; empty clears"
            bar.value = table.filter_text
            self._filter_table = table
        else:
            bar.placeholder = ":nodes  :images [host]  :airgap  :plans  :sysinfo  :backups  :certs  :config  :q"
            bar.value = ""
        bar.focus()

    @on(Input.Changed, "#command-bar")
    def _bar_changed(self, event: Input.Changed) -> None:
        if self.command_mode == "/" and self.command_input.display:
            self._filter_table.set_filter(event.value)

    @on(Input.Submitted, "#command-bar")
    def _bar_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.command_input.display = False
        if self.command_mode == "/":
            self._filter_table.set_filter(text)
        else:
            self.run_command(text)
        # Focus after the tab switch took effect (focusing a hidden pane's table would switch back).
        self.call_after_refresh(self._focus_active_table)

    def run_command(self, text: str) -> None:
        """Run a `:` command line (without the colon)."""
        words = text.lstrip(":").split()
        if not words:
            return
        word, args = words[0].lower(), words[1:]
        if word in ("q", "quit", "q!"):
            self.exit()
            return
        if word in ("activity", "act"):
            self.action_toggle_activity()
            return
        if word == "help":
            self.action_help()
            return
        pane_cls = pane_for_word(word)
        if pane_cls is None:
            self.notify(f"unknown command :{word}", severity="warning", markup=False)
            return
        self.action_show_pane(pane_cls.pane_id)
        pane = self.pane(pane_cls.pane_id)
        pane_args = [word, *args] if word in pane_cls.VERBS else args
        pane.when_built(lambda: pane.command(pane_args))

    def _hide_bar(self) -> None:
        self.command_input.display = False
        self._focus_active_table()

    def action_back(self) -> None:
        """esc: close the bar, else clear the filter, else clear the marks, else go back to
        the previous pane."""
        if self.command_input.display:
            filtering = self.command_mode == "/"
            self._hide_bar()
            if filtering and self._filter_table.filter_text:
                self._filter_table.set_filter("")  # one esc leaves the filter, as it entered
            return
        try:
            table = self.active_pane.focused_table()
        except NoMatches:
            table = None
        if table is not None and table.filter_text:
            table.set_filter("")
        elif table is not None and table.marked:
            table.clear_marks()
        else:
            self.previous_pane()

    def previous_pane(self) -> bool:
        """Show the pane shown before this one; False when there is none (the top level)."""
        while self.pane_history:
            pane_id = self.pane_history.pop()
            if pane_id != self.active_pane_id:
                self._switch_to(pane_id)
                return True
        return False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The `:`/`/` bar and the pane keys belong to the main screen: not over another screen.
        if action in ("command_bar", "show_pane") and len(self.screen_stack) > 1:
            return False
        return True

    def action_back_or_quit(self) -> None:
        """q: back one level (close a screen, else the previous pane), quit from the top."""
        if len(self.screen_stack) > 1:  # a screen without its own q: close it as esc would
            screen = self.screen
            for name in ("action_close", "action_cancel"):
                if callable(getattr(screen, name, None)):
                    getattr(screen, name)()
                    return
            screen.dismiss(None)
            return
        if not self.previous_pane():
            self.exit()

    def binding_rows(self) -> list[tuple[str, str, str]]:
        """(keys, description, id) of every binding in force now (keymap applied), for `?` and docs."""
        rows: list[tuple[str, str, str]] = []
        seen: set[str] = set()
        for key, active in self.active_bindings.items():
            b = active.binding
            if not active.enabled:
                continue
            bid = b.id or ""
            ident = bid or f"{b.action}:{key}"
            display = self.get_key_display(b)
            if ident in seen:
                for i, row in enumerate(rows):
                    if (row[2] or row[1]) == (bid or b.description) and display not in row[0]:
                        rows[i] = (f"{row[0]}, {display}", row[1], row[2])
                continue
            seen.add(ident)
            rows.append((display, b.description or b.action, bid))
        return rows

    def action_help(self) -> None:
        self.push_screen(screens.HelpScreen(self.binding_rows()))

    def notify(self, message: object, *, title: str = "", **kwargs: Any) -> None:  # type: ignore[override]
        """Toasts carry host and file text: controls made visible; a Rich Text is shown literally."""
        if not isinstance(message, str):
            kwargs["markup"] = False
        super().notify(safe_str(message), title=safe_str(title, line=True), **kwargs)

    def show_text(self, title: str, body: Text | str) -> None:
        self.push_screen(screens.TextScreen(title, body))

    async def on_unmount(self) -> None:
        self.gc_policy.stop()
        sys.setswitchinterval(self._switch_interval)  # the process as the console found it
        await self.session.close()

"""The k0s-tui Textual app: header, panes, `:` bar, activity panel, workers and the one error handler."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from backends.k0s.backups import BackupEntry, BackupProgress
from backends.session.session import ClusterSession, HostResult, error_text, utcnow
from backends.errors import BackendError, ReadOnlyRefused, ValidationError
from backends.models import PullProgress
from tui.commands import K0sCommands
from tui.keymap import KeymapError, load_keymap
from tui.panes import PANES, Pane, pane_for_word
from tui.panes.backups import BackupsPane
from tui.panes.containers import ContainersPane
from tui.panes.nodes import NodesPane
from tui.panes.sysinfo import SysinfoPane
from tui.screens.modals import ConfirmScreen, HelpScreen, InputScreen, TextScreen
from tui.screens.restore import RestoreScreen
from widgets.activity import ActivityPanel, Operation
from widgets.fmt import human_age
from widgets.header import ClusterHeader, HeaderInfo

_SEP = "|"  # worker names: kind|host|operation id


def _wname(kind: str, host: str = "", op: int | None = None) -> str:
    return f"{kind}{_SEP}{host}{_SEP}{'' if op is None else op}"


class K0sTuiApp(App):
    """The console. Built around one :class:`ClusterSession`; never exits on a backend error."""

    TITLE = "k0s-tui"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {K0sCommands}

    BINDINGS = [
        *[Binding(str(i + 1), f"show_pane('{p.pane_id}')", p.title, id=f"app.pane.{p.pane_id}",
                  show=False) for i, p in enumerate(PANES)],
        Binding("colon", "command_bar(':')", ":cmd", id="app.command"),
        Binding("slash", "command_bar('/')", "Filter", id="app.filter"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("a", "toggle_activity", "Activity", id="app.activity"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
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
    ) -> None:
        super().__init__()
        self.session = session
        self.refresh_seconds = refresh
        self.clock = clock or session.clock or utcnow
        self.keymap_path = keymap_path
        #: Binding id -> keys from keymap.toml (only what the user rebound).
        self.user_keymap: dict[str, str] = {}
        self.start_pane = start_pane
        self.scan_certs = scan_certs
        self.retention_default = retention_default
        self._op_ids = itertools.count(1)
        self.header_widget = ClusterHeader(id="header")
        self.activity = ActivityPanel(id="activity")
        self.command_input = Input(id="command-bar", placeholder=":nodes  :images [host]  :sysinfo  :backups  :certs  :config  :q")
        self.command_mode = ":"
        self.errors: list[tuple[str, str]] = []  # (host, message) every error shown, newest last
        self._header_pending = False
        self._newest_backup: BackupEntry | None = None
        self._newest_backup_known = False

    # ------------------------------------------------------------------ layout

    @property
    def readonly(self) -> bool:
        return self.session.readonly

    def now(self) -> datetime:
        """The app's clock (frozen in tests and snapshots)."""
        return self.clock()

    def compose(self) -> ComposeResult:
        yield self.header_widget
        with TabbedContent(initial=self.start_pane, id="panes"):
            for pane_cls in PANES:
                with TabPane(pane_cls.title, id=pane_cls.pane_id):
                    yield pane_cls(id=f"pane-{pane_cls.pane_id}")
        yield self.command_input
        yield self.activity
        yield Footer()

    def on_mount(self) -> None:
        self.command_input.display = False
        self.apply_user_keymap()
        self.update_header()
        self.theme_changed_signal.subscribe(self, lambda _theme: self._redraw_all())
        self.refresh_nodes()
        for host in self.session.host_names:
            self.run_sysinfo(host, force=False)
        if self.scan_certs:
            for host in self.session.controllers():
                self._start_once(_wname("certs", host), self._scan_certs(host))
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self.tick, name="refresh")
        self.call_after_refresh(self._focus_active_table)

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

    def key_for(self, binding_id: str, default: str) -> str:
        """The key that runs binding ``binding_id`` now (the keymap's first, else ``default``),
        for texts that tell the user which key to press."""
        keys = self.user_keymap.get(binding_id, "")
        first = keys.split(",")[0].strip()
        return first or default

    # ------------------------------------------------------------------ panes

    def pane(self, pane_id: str) -> Pane:
        return self.query_one(f"#pane-{pane_id}", Pane)

    @property
    def active_pane(self) -> Pane:
        return self.pane(self.query_one("#panes", TabbedContent).active or PANES[0].pane_id)

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
        tabs = self.query_one("#panes", TabbedContent)
        if tabs.active != pane_id:
            tabs.active = pane_id
        else:
            self._focus_active_table()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = self.active_pane
        pane.on_shown()
        self.call_after_refresh(self._focus_active_table)

    def _focus_active_table(self) -> None:
        try:
            self.active_pane.primary_table().focus()
        except Exception:  # noqa: BLE001 - a pane without a table
            pass

    # ------------------------------------------------------------------ refresh

    def tick(self) -> None:
        """Periodic refresh: nodes always (the header needs them), plus the pane on show."""
        self.refresh_nodes()
        pane = self.active_pane
        if not isinstance(pane, NodesPane):
            pane.refresh_data()
        self._newest_backup_known = False
        self.update_header()

    def action_refresh_now(self) -> None:
        self.tick()

    def spawn(self, name: str, coro: Awaitable[Any], *, group: str | None = None,
              exclusive: bool = False) -> Worker:
        """Run ``coro`` in a worker on the App; its failure goes to :meth:`report_error`."""
        return self.run_worker(self._guarded(name, coro), name=name, group=group or name,
                               exclusive=exclusive, exit_on_error=False)

    async def _guarded(self, name: str, coro: Awaitable[Any]) -> Any:
        try:
            return await coro
        except Exception as exc:  # noqa: BLE001 - every failure is shown, none exits the app
            kind, host, op = (name.split(_SEP) + ["", "", ""])[:3]
            self.report_error(kind, host, int(op) if op else None, exc)
            return None

    def _start_once(self, name: str, coro: Awaitable[Any], *, group: str | None = None) -> Worker | None:
        """Run ``coro`` in a worker named ``name`` unless one of that name is still running.

        This is what keeps refreshes from piling up behind a slow host: the next tick simply
        skips the busy host instead of queueing (or cancelling) its request.
        """
        for w in self.workers:
            if w.name == name and w.state in (WorkerState.PENDING, WorkerState.RUNNING):
                coro.close()  # type: ignore[attr-defined]
                return None
        return self.spawn(name, coro, group=group)

    def refresh_nodes(self) -> None:
        """Snapshot every idle host; rows fill in as hosts answer."""
        self.spawn(_wname("nodes"), self._refresh_nodes(), group="nodes")

    async def _refresh_nodes(self) -> None:
        def on_snapshot(snap) -> None:
            self.nodes_pane.show_snapshot(snap)
            self.header_soon()
        await self.session.refresh_nodes(on_snapshot)
        self.update_header()

    def header_soon(self) -> None:
        """Coalesce header redraws (a big fleet answers in bursts)."""
        if not self._header_pending:
            self._header_pending = True
            self.call_after_refresh(self._flush_header)

    def _flush_header(self) -> None:
        self._header_pending = False
        self.update_header()

    def refresh_images(self, host: str) -> None:
        self._start_once(_wname("images", host), self._refresh_images(host))

    async def _refresh_images(self, host: str) -> None:
        data = await self.session.images(host)
        self.images_pane.show_images(data)

    def refresh_images_fleet(self, hosts: Sequence[str]) -> None:
        """Refresh many hosts' images in one worker (a worker per host floods the message
        queue on a big fleet: keys would wait behind thousands of worker state messages)."""
        if len(hosts) == 1:
            self.refresh_images(hosts[0])
            return
        self._start_once(_wname("images-fleet"), self._refresh_images_fleet(list(hosts)),
                         group="images-fleet")

    async def _refresh_images_fleet(self, hosts: list[str]) -> None:
        async for host, result in self.session.stream_images(hosts):
            if isinstance(result, BackendError):
                self.report_error("images", host, None, result)
            else:
                self.images_pane.show_images(result)

    def run_sysinfo(self, host: str, *, force: bool) -> None:
        """(Re-)run sysinfo on ``host`` in its own worker group."""
        if force:
            self.spawn(_wname("sysinfo", host), self._sysinfo(host, True), group=f"sysinfo:{host}", exclusive=True)
        else:
            self._start_once(_wname("sysinfo", host), self._sysinfo(host, False), group=f"sysinfo:{host}")

    async def _sysinfo(self, host: str, force: bool) -> None:
        res = await self.session.sysinfo(host, force=force)
        self.sysinfo_pane.show_result(res)
        self.header_soon()

    async def _scan_certs(self, host: str) -> None:
        await self.session.scan_cert_expiry(host)
        self.pane("certs").sync()  # type: ignore[attr-defined]  # the Certificates pane shows the scan
        self.update_header()

    def update_header(self) -> None:
        """Recompute the header figures from the session's caches."""
        c = self.session.counts()
        now = self.now()
        if not self._newest_backup_known:
            self.note_backups_changed()
        newest = self._newest_backup
        cert = self.session.nearest_cert_expiry()
        cert_text, cert_level = None, "muted"
        if cert is not None:
            host, when = cert
            days = (when - now).total_seconds() / 86400
            cert_text = f"{human_age(when, now)} ({host})"
            cert_level = "error" if days < 7 else ("warning" if days < 30 else "success")
        self.header_widget.show(HeaderInfo(
            cluster=self.session.name, reachable=c["reachable"], total=c["total"],
            controllers_running=c["controllers_running"], controllers=c["controllers"],
            workers_ready=c["workers_ready"], workers=c["workers"], sysinfo=self.session.sysinfo_verdict(),
            backup_age=human_age(newest.created, now) if newest else None,
            cert_expiry=cert_text, cert_level=cert_level, readonly=self.readonly,
            clock=now.strftime("%H:%M:%S")))

    def note_backups_changed(self) -> None:
        """Re-read the newest backup for the header (after backup operations and on each tick)."""
        try:
            self._newest_backup = self.session.newest_backup()
        except OSError:
            self._newest_backup = None
        self._newest_backup_known = True

    def _redraw_all(self) -> None:
        for pane_cls in PANES:
            self.pane(pane_cls.pane_id).redraw()
        self.header_widget.info = HeaderInfo()
        self.update_header()

    # ------------------------------------------------------------------ the one error handler

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Safety net: a worker not started through :meth:`spawn` that failed is shown too."""
        worker = event.worker
        if event.state is not WorkerState.ERROR:
            return
        kind, host, op = (worker.name.split(_SEP) + ["", "", ""])[:3]
        self.report_error(kind, host, int(op) if op else None, worker.error)

    def report_error(self, kind: str, host: str, op_id: int | None, exc: BaseException | None) -> None:
        """THE place errors become visible: on the host's row, on the operation in the activity
        panel, and as a toast. Never raises, never exits."""
        if isinstance(exc, BackendError):
            host = host or exc.host
            text = exc.message
        else:
            text = error_text(exc) if exc is not None else "failed"
        self.errors.append((host, text))
        if op_id is not None and op_id in self.activity.operations:
            op = self.activity.operations[op_id]
            op.state = "refused" if isinstance(exc, ReadOnlyRefused) else "failed"
            op.errors[host] = text
            self.activity.changed(op_id)
        if kind == "nodes" and host:
            self.nodes_pane.show_error(host, text)
        elif kind == "images" and host:
            self.images_pane.show_error(host, text)
        # Background refreshes show their errors in place (row, status line) and repeat every
        # tick, so only operations and unexpected failures raise a toast.
        if op_id is not None or not isinstance(exc, BackendError):
            self.notify(text, title=f"{kind} {host}".strip(), severity="error", markup=False)

    # ------------------------------------------------------------------ operations

    def start_operation(self, what: str, hosts: Sequence[str],
                        job: Callable[[Operation], Awaitable[Any]]) -> Operation:
        """Run a (mutating) job in a worker, tracked in the activity panel."""
        op = Operation(id=next(self._op_ids), what=what, hosts=list(hosts), started=self.now())
        self.activity.add(op)
        self.spawn(_wname("op", "", op.id), self._run_operation(op, job), group=f"op:{op.id}")
        return op

    async def _run_operation(self, op: Operation, job: Callable[[Operation], Awaitable[Any]]) -> None:
        result = await job(op)  # a failure propagates to report_error via _guarded
        if isinstance(result, list) and all(isinstance(r, HostResult) for r in result):
            failed = [r for r in result if not r.ok]
            for r in failed:
                op.errors[r.host] = r.error
                self.report_host_failure(op, r)
            op.state = "failed" if failed else "done"
            op.result = f"{len(result) - len(failed)}/{len(result)} ok"
        else:
            op.state = "done"
            op.result = result if isinstance(result, str) else "ok"
        self.activity.changed(op.id)

    def report_host_failure(self, op: Operation, r: HostResult) -> None:
        """A host's part of an operation failed (no exception escaped): show it like any error."""
        self.errors.append((r.host, r.error))
        self.notify(f"{op.what} failed on {r.host}: {r.error.splitlines()[0] if r.error else ''}",
                    severity="error", markup=False)

    def _progress(self, op: Operation, host: str, done: float, total: float | None, note: str = "") -> None:
        op.progress[host] = (done, total)
        op.updates[host] = op.updates.get(host, 0) + 1
        if note:
            op.notes[host] = note
        self.activity.changed(op.id)

    def _show_activity(self) -> None:
        self.activity.add_class("-shown")

    def action_toggle_activity(self) -> None:
        self.activity.toggle_class("-shown")

    def _refuse_readonly(self, what: str) -> bool:
        if self.readonly:
            self.notify(f"refused {what}: k0s-tui runs read-only (--readonly)", severity="warning", markup=False)
            return True
        return False

    # nodes -------------------------------------------------------------

    def confirm_service(self, operation: str, hosts: list[str]) -> None:
        """Ask (naming every host), then start/stop/restart k0s on them."""
        if self._refuse_readonly(operation):
            return

        def go(ok: bool | None) -> None:
            if ok:
                self.service(operation, hosts)

        self.push_screen(ConfirmScreen(f"{operation.capitalize()} k0s on {len(hosts)} host(s)?", hosts,
                                       confirm_label=operation.capitalize()), go)

    def service(self, operation: str, hosts: list[str]) -> Operation:
        """Run the service operation (no confirmation: callers ask first)."""
        async def job(op: Operation) -> list[HostResult]:
            results = await self.session.service(operation, hosts)
            for r in results:
                if r.host in self.session.nodes:
                    self.nodes_pane.show_snapshot(self.session.nodes[r.host])
            self.update_header()
            failed = [r for r in results if not r.ok]
            if failed:
                body = Text()
                for r in failed:
                    body.append(f"── {r.host} ──\n", style="bold")
                    body.append(r.error + "\n\n")
                self.push_screen(TextScreen(f"{operation} failed on {', '.join(r.host for r in failed)}", body))
            return results
        self._show_activity()
        return self.start_operation(f"{operation} k0s", hosts, job)

    def show_node_details(self, host: str) -> None:
        """Details screen: full status, args, etcd members; filled in by a worker."""
        screen = TextScreen(f"Node {host}", "loading…")
        self.push_screen(screen)

        async def load() -> None:
            d = await self.session.node_details(host)
            t = Text()
            if d.status is not None:
                s = d.status
                for label, value in (("version", s.version), ("role", s.role), ("pid", s.pid),
                                     ("workloads", s.workloads), ("single node", s.single_node),
                                     ("init system", s.init_system), ("service file", s.service_file),
                                     ("kube api", "ok" if s.kube_api_ok else (s.kube_api_error or "-"))):
                    t.append(f"{label:>12}: ", style="bold")
                    t.append(f"{'-' if value is None else value}\n")
                t.append("\nargs:\n", style="bold")
                for a in s.args:
                    t.append(f"  {a}\n")
                if s.raw:
                    t.append("\nk0s status:\n", style="bold")
                    t.append(s.raw.rstrip() + "\n")
            else:
                t.append(f"k0s status: {d.status_error}\n")
                if d.service_text:
                    t.append("\ninit system:\n", style="bold")
                    t.append(d.service_text + "\n")
            if d.etcd_members or d.etcd_error:
                t.append("\netcd members:\n", style="bold")
                for m in d.etcd_members:
                    t.append(f"  {m.name}  {m.peer_url}\n")
                if d.etcd_error:
                    t.append(f"  {d.etcd_error}\n")
            if d.versions is not None:
                self.nodes_pane.append_versions(t, d.versions)
            screen.set_body(t)

        self._start_once(_wname("details", host), load())

    # images ------------------------------------------------------------

    def ask_pull(self, hosts: list[str]) -> None:
        """Ask for an image reference (validated), then pull it on ``hosts`` with per-host progress."""
        if self._refuse_readonly("pull") or not hosts:
            return
        from backends.images.refs import validate_image_ref

        def check(value: str) -> str | None:
            try:
                validate_image_ref(value.strip())
            except ValidationError as exc:
                return str(exc)
            return None

        def go(ref: str | None) -> None:
            if ref:
                self.pull(ref.strip(), hosts)

        self.push_screen(InputScreen(f"Pull an image on {', '.join(hosts)}", placeholder="docker.io/library/nginx:1.27",
                                     validate=check), go)

    def pull(self, ref: str, hosts: list[str]) -> Operation:
        """Pull ``ref`` on ``hosts``; one progress bar per host in the activity panel."""
        async def job(op: Operation) -> list[HostResult]:
            def progress(host: str, p: PullProgress) -> None:
                self._progress(op, host, p.done, p.total, p.status)
            results = await self.session.pull(hosts, ref, progress)
            for h in hosts:
                self.refresh_images(h)
            return results
        self._show_activity()
        return self.start_operation(f"pull {ref}", hosts, job)

    def ask_label(self, host: str, ref: str, labels: dict[str, str]) -> None:
        """Ask for ``key=value`` (validated; an empty value removes the label), then set it."""
        if self._refuse_readonly("label"):
            return
        from backends.images.refs import validate_label

        def parse(value: str) -> tuple[str, str]:
            if "=" not in value:
                raise ValidationError("write the label as key=value (an empty value removes it)")
            key, val = value.split("=", 1)
            validate_label(key.strip(), val)
            return key.strip(), val

        def check(value: str) -> str | None:
            try:
                parse(value)
            except ValidationError as exc:
                return str(exc)
            return None

        def go(value: str | None) -> None:
            if value:
                key, val = parse(value)
                self.label(host, ref, {key: val})

        current = ", ".join(f"{k}={v}" for k, v in sorted(labels.items())) or "none"
        self.push_screen(InputScreen(f"Label {ref} on {host}", placeholder="key=value",
                                     help_text=f"current labels: {current}", validate=check), go)

    def label(self, host: str, ref: str, labels: dict[str, str]) -> Operation:
        async def job(op: Operation) -> str:
            after = await self.session.label(host, ref, labels)
            self.refresh_images(host)
            return ", ".join(f"{k}={v}" for k, v in sorted(after.items())) or "no labels"
        return self.start_operation(f"label {ref}", [host], job)

    def confirm_remove(self, targets: list[tuple[str, str]]) -> None:
        """Confirm (naming host and image), then remove."""
        if self._refuse_readonly("remove"):
            return

        def go(ok: bool | None) -> None:
            if ok:
                self.remove_images(targets)

        self.push_screen(ConfirmScreen(f"Remove {len(targets)} image(s)?", [f"{h}: {r}" for h, r in targets],
                                       confirm_label="Remove"), go)

    def remove_images(self, targets: list[tuple[str, str]]) -> list[Operation]:
        by_ref: dict[str, list[str]] = {}
        for host, ref in targets:
            by_ref.setdefault(ref, []).append(host)
        ops = []
        for ref, hosts in by_ref.items():
            async def job(op: Operation, ref: str = ref, hosts: list[str] = hosts) -> list[HostResult]:
                results = await self.session.remove_image(hosts, ref)
                for h in hosts:
                    self.refresh_images(h)
                return results
            ops.append(self.start_operation(f"remove {ref}", hosts, job))
        return ops

    # backups -----------------------------------------------------------

    def backup_now(self) -> Operation | None:
        """Back up from the first running controller with a progress bar."""
        if self._refuse_readonly("backup"):
            return None
        line = self.session.name

        async def job(op: Operation) -> str:
            def progress(p: BackupProgress) -> None:
                note = f"{p.phase} {p.host}".strip()
                self._progress(op, line, p.done, p.total if p.phase != "done" else max(p.done, 1), note)
            entry = await self.session.backup_now(progress)
            self.backups_pane.reload()
            self.update_header()
            return f"saved {entry.file} from {entry.source_host}"
        self._show_activity()
        return self.start_operation("backup", [line], job)

    def verify_backup(self, entry: BackupEntry) -> Operation | None:
        if self._refuse_readonly("verify"):
            return None

        async def job(op: Operation) -> str:
            out = await self.session.verify_backup(entry)
            self.backups_pane.reload()
            if not out.verified:
                raise BackendError("", f"{entry.file}: {out.verify_error}")
            return "verified"
        return self.start_operation(f"verify {entry.file}", [], job)

    def confirm_delete_backups(self, entries: list[BackupEntry]) -> None:
        if self._refuse_readonly("delete"):
            return

        def go(ok: bool | None) -> None:
            if ok:
                self.delete_backups(entries)

        self.push_screen(ConfirmScreen(f"Delete {len(entries)} backup archive(s)?", [e.file for e in entries],
                                       confirm_label="Delete"), go)

    def delete_backups(self, entries: list[BackupEntry]) -> Operation:
        async def job(op: Operation) -> str:
            for e in entries:
                self.session.delete_backup(e)
            self.backups_pane.reload()
            self.update_header()
            return f"deleted {len(entries)}"
        return self.start_operation("delete backups", [], job)

    def ask_retention(self) -> None:
        """Ask for N, show which archives go, then keep only the newest N per cluster."""
        if self._refuse_readonly("retention"):
            return

        def check(value: str) -> str | None:
            return None if value.strip().isdigit() else "enter a whole number (0 or more)"

        def got_n(value: str | None) -> None:
            if value is None:
                return
            keep = int(value.strip())
            doomed = self.session.retention_plan(keep)
            if not doomed:
                self.notify(f"nothing to delete: at most {keep} archive(s) per cluster", markup=False)
                return

            def go(ok: bool | None) -> None:
                if ok:
                    self.apply_retention(keep)
            self.push_screen(ConfirmScreen(f"Keep the newest {keep}: delete {len(doomed)} archive(s)?",
                                           [e.file for e in doomed], confirm_label="Delete"), go)

        self.push_screen(InputScreen("Keep the newest N archives per cluster", value=str(self.retention_default),
                                     validate=check), got_n)

    def apply_retention(self, keep: int) -> Operation:
        async def job(op: Operation) -> str:
            deleted = self.session.apply_retention(keep)
            self.backups_pane.reload()
            self.update_header()
            return f"kept newest {keep}, deleted {len(deleted)}"
        return self.start_operation(f"retention keep {keep}", [], job)

    def ask_restore(self, entry: BackupEntry) -> None:
        """Restore screen: target choice, preconditions, typed confirmation; then restore."""
        if self._refuse_readonly("restore"):
            return

        def go(target: str | None) -> None:
            if target:
                self.restore(entry, target)

        self.push_screen(RestoreScreen(self.session, entry), go)

    def restore(self, entry: BackupEntry, target: str) -> Operation:
        async def job(op: Operation) -> str:
            def progress(p: BackupProgress) -> None:
                self._progress(op, target, p.done, p.total, p.phase)
            out = await self.session.restore(entry, target, progress)
            self.push_screen(TextScreen(f"Restored {entry.file} on {target}", out))
            self.refresh_nodes()
            return "restored"
        self._show_activity()
        return self.start_operation(f"restore {entry.file}", [target], job)

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
            bar.placeholder = ":nodes  :images [host]  :sysinfo  :backups  :certs  :config  :q"
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
        self.pane(pane_cls.pane_id).command(args)

    def _hide_bar(self) -> None:
        self.command_input.display = False
        self._focus_active_table()

    def action_back(self) -> None:
        """esc: close the bar, else clear the filter, else clear the marks."""
        if self.command_input.display:
            filtering = self.command_mode == "/"
            self._hide_bar()
            if filtering and self._filter_table.filter_text:
                self._filter_table.set_filter("")  # one esc leaves the filter, as it entered
            return
        table = self.active_pane.focused_table()
        if table.filter_text:
            table.set_filter("")
        elif table.marked:
            table.clear_marks()

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
        self.push_screen(HelpScreen(self.binding_rows()))

    def show_text(self, title: str, body: Text | str) -> None:
        self.push_screen(TextScreen(title, body))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True

    async def on_unmount(self) -> None:
        await self.session.close()

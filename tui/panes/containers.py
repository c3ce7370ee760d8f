"""Containers: images (grouped by digest) and containers per host or across all hosts."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from backends.errors import BackendError, ValidationError
from backends.session.core import HostResult
from tui import screens
from tui.console import WorkerKey
from tui.panes.base import Pane
from widgets.activity import Operation
from widgets.fmt import human_size
from widgets.safe import safe_str
from widgets.style import status_cell, status_text
from widgets.table import Col, ResourceTable

if TYPE_CHECKING:
    from backends.images.usage import RemovalPlan
    from backends.models import PullProgress
    from backends.session.images import HostImages

IMAGE_COLUMNS = [
    Col("host", "Host"), Col("ref", "Image"), Col("digest", "Digest"), Col("size", "Size"),
    Col("platforms", "Platforms"), Col("labels", "Labels"), Col("refs", "Refs"),
]
CONTAINER_COLUMNS = [
    Col("host", "Host"), Col("name", "Container"), Col("image", "Image"), Col("state", "State"),
    Col("pod", "Pod"),
]
SEP = "\x1f"  # row keys are host + SEP + digest (neither may contain it)
#: Table work (seconds) done per event-loop turn; hosts answering beyond it wait for the next
#: turn, so a fleet answering all at once never blocks key handling for long. A key crosses
#: several message queues (app, screen, table), waiting for a slice at each: 4 ms slices kept
#: the 2,000-host refresh's key latency p99 at 33-41 ms where 6 ms ones gave 40-50.
SLICE_S = 0.004


def image_key(host: str, digest: str) -> str:
    return f"{host}{SEP}{digest}"


def split_key(key: str) -> tuple[str, str]:
    host, _, rest = key.partition(SEP)
    return host, rest


def short_digest(digest: str) -> str:
    return digest.split(":", 1)[-1][:12] if digest else "-"


def labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


class ContainersPane(Pane):
    """Images and containers of one host (``:images HOST``) or every host (``:images``)."""

    pane_id = "images"
    title = "Containers"
    aliases = ("containers", "image", "co")
    VERBS = ("airgap",)
    MUTATING = frozenset({"pull", "label", "remove"})
    ERROR_KINDS = frozenset({"images"})
    BINDINGS = [
        Binding("p", "pull", "Pull", id="images.pull"),
        Binding("l", "label", "Label", id="images.label"),
        Binding("d", "remove", "Remove", id="images.remove"),
        Binding("h", "next_host", "Host", id="images.host"),
        Binding("enter", "details", "Details", id="images.details"),
    ]
    DEFAULT_CSS = """
    ContainersPane #images-table { height: 2fr; }
    ContainersPane #containers-table { height: 1fr; border-top: solid $primary-darken-2; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scope: str | None = None  # None: all hosts
        self.data: dict[str, HostImages] = {}
        self.errors: dict[str, str] = {}
        # Row keys per host, so one host's update touches only its own rows.
        self._image_keys: dict[str, set[str]] = {}
        self._container_keys: dict[str, set[str]] = {}
        self._status_pending = False
        # Hosts whose rows wait for the next slice (the newest data per host), and when the
        # current slice of table work began (None: none began in this event-loop turn).
        self._pending: dict[str, HostImages] = {}
        self._slice_start: float | None = None
        self._flush_scheduled = False

    def compose_content(self) -> ComposeResult:
        yield Static("", classes="pane-status", id="images-status", markup=False)
        # Sorted by host from the start: hosts answer in any order, rows must not.
        yield ResourceTable(IMAGE_COLUMNS, id="images-table", sort_column="host")
        yield ResourceTable(CONTAINER_COLUMNS, id="containers-table", markable=False, sort_column="host")

    def on_built(self) -> None:
        for host in self.scoped_hosts():
            if host in self.data:
                self.show_images(self.data[host])
        self._status_line()

    @property
    def images_table(self) -> ResourceTable:
        return self.query_one("#images-table", ResourceTable)

    @property
    def containers_table(self) -> ResourceTable:
        return self.query_one("#containers-table", ResourceTable)

    def scoped_hosts(self) -> list[str]:
        return [self.scope] if self.scope else self.session.host_names

    def refresh_data(self) -> None:
        self.refresh_hosts(self.scoped_hosts())
        self._status_line()

    def refresh_hosts(self, hosts: list[str]) -> None:
        """List ``hosts``' images in one worker (a worker per host floods the message queue on
        a big fleet: keys would wait behind thousands of worker state messages); hosts still
        busy from the previous refresh are skipped."""
        self.console.start_once(WorkerKey("images"), self._refresh(list(hosts)))

    async def _refresh(self, hosts: list[str]) -> None:
        async for host, result in self.session.images.stream(hosts):
            if isinstance(result, BackendError):
                self.console.report_error(WorkerKey("images", host), result)
            else:
                self.show_images(result)

    def reload_hosts(self, hosts: list[str]) -> None:
        """List ``hosts``' images again now, each in its own worker (after a change on them)."""
        for host in hosts:
            self.console.start_once(WorkerKey("images", host), self._reload(host))

    async def _reload(self, host: str) -> None:
        self.show_images(await self.session.images.host_images(host))

    def data_changed(self, topic: str, hosts: tuple[str, ...]) -> None:
        if topic == "images":
            self.reload_hosts(list(hosts) or self.scoped_hosts())

    def command(self, args: list[str]) -> None:
        if args[:1] == ["airgap"]:  # `:airgap [--all]`: what each node lacks
            from tui.screens.airgap import AirgapScreen

            self.app.push_screen(AirgapScreen(self.session, all_images="--all" in args[1:]))
            return
        if args and args[0] not in ("all", "*"):
            if args[0] not in self.session.hosts:
                self.app.notify(f"no host called {args[0]!r}", severity="warning", markup=False)
                return
            self.set_scope(args[0])
        else:
            self.set_scope(None)

    def set_scope(self, host: str | None) -> None:
        """Show one host (or all) and refresh."""
        self.scope = host
        hosts = set(self.scoped_hosts())
        self.images_table.retain([k for k in self.images_table.keys if split_key(k)[0] in hosts])
        self.containers_table.retain([k for k in self.containers_table.keys if split_key(k)[0] in hosts])
        for keys in (self._image_keys, self._container_keys):
            for h in list(keys):
                if h not in hosts:
                    del keys[h]
        self._pending = {h: d for h, d in self._pending.items() if h in hosts}
        for h in self.scoped_hosts():
            if h in self.data:
                self.show_images(self.data[h])  # past the slice budget this only queues
        self.refresh_data()

    def action_next_host(self) -> None:
        names = [None, *self.session.host_names]
        self.set_scope(names[(names.index(self.scope) + 1) % len(names)])

    def _status_line(self) -> None:
        self._status_pending = False
        in_scope = (lambda h: True) if self.scope is None else (lambda h: h == self.scope)
        paths = sorted({d.path for h, d in self.data.items() if in_scope(h)})  # (once a frame, 2,000 hosts)
        t = Text(safe_str(f"host: {self.scope or 'all'}   image path: {', '.join(paths) or '…'}", line=True), end="")
        errs = [f"{h}: {e}" for h, e in self.errors.items() if in_scope(h)]
        if errs:
            t.append("   ")
            t.append_text(status_text(self.app, errs[0].splitlines()[0], "error"))
        self.show_status(t)

    def show_images(self, data: HostImages) -> None:
        """Update one host's rows (add/update/remove by key). Hosts answering in a burst
        (thousands finish in the same event-loop turn) are shown a time slice at a time."""
        self.data[data.host] = data
        self.errors.pop(data.host, None)
        if not self.built or (self.scope is not None and data.host != self.scope):
            return  # not shown (on_built shows what is known)
        if self._pending or not self._slice_left():
            self._pending.pop(data.host, None)  # re-queue at the end: keep arrival order
            self._pending[data.host] = data
            self._flush_soon()
            return
        self._show_rows(data)

    def _slice_left(self) -> bool:
        """Whether this event-loop turn still has table-work budget (starts a slice)."""
        now = time.perf_counter()
        if self._slice_start is None:
            self._slice_start = now
            asyncio.get_running_loop().call_soon(self._end_slice)  # runs on the next turn
        return now - self._slice_start < SLICE_S

    def _end_slice(self) -> None:
        self._slice_start = None

    @property
    def pending_hosts(self) -> int:
        """How many hosts' rows still wait for a slice."""
        return len(self._pending)

    def _flush_soon(self) -> None:
        # A worker (not call_later: a message pump drains its queue without yielding to the
        # event loop, so the turn would never end): tests and benchmarks can wait for it.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.console.spawn(WorkerKey("images-slices"), self._flush())

    async def _flush(self) -> None:
        """Show queued hosts a slice per event-loop turn."""
        try:
            while self._pending:
                while self._pending and self._slice_left():
                    host = next(iter(self._pending))
                    data = self._pending.pop(host)
                    if self.scope is None or host == self.scope:
                        self._show_rows(data)
                await asyncio.sleep(0)  # the next turn: keys and frames go first
        finally:
            self._flush_scheduled = False

    def _show_rows(self, data: HostImages) -> None:
        it = self.images_table
        keys: set[str] = set()
        ct = self.containers_table
        with self.app.batch_update(), it.deferred_sort(), ct.deferred_sort():
            for group in data.groups:
                img = group.primary
                key = image_key(data.host, group.digest)
                keys.add(key)
                it.upsert(key, {
                    "host": data.host, "ref": img.ref, "digest": short_digest(group.digest),
                    "size": human_size(img.size_bytes), "platforms": ", ".join(img.platforms) or "-",
                    "labels": labels_text(img.labels), "refs": str(len(group.refs)),
                }, {"size": img.size_bytes, "refs": len(group.refs)})
            for gone in self._image_keys.get(data.host, set()) - keys:
                it.discard(gone)
            self._image_keys[data.host] = keys
            ckeys = set()
            for c in data.containers:
                key = f"{data.host}{SEP}{c.id}"
                ckeys.add(key)
                ct.upsert(key, {"host": data.host, "name": c.name, "image": c.image,
                                "state": status_cell(c.state, c.state if c.state in ("running", "stopped") else "muted"),
                                "pod": f"{c.namespace}/{c.pod}" if c.pod else "-"})
            for gone in self._container_keys.get(data.host, set()) - ckeys:
                ct.discard(gone)
            self._container_keys[data.host] = ckeys
        self._status_soon()

    def show_error(self, host: str, message: str) -> None:
        self.errors[host] = message
        self._status_soon()

    def _status_soon(self) -> None:
        # One status line redraw per frame, however many hosts answered in it.
        if self.built and not self._status_pending:
            self._status_pending = True
            self.call_after_refresh(self._status_line)

    # ------------------------------------------------------------------ actions

    def _selected_rows(self) -> list[tuple[str, str]]:
        """(host, digest) of the marked rows, else of the row under the cursor."""
        return [split_key(k) for k in self.images_table.target_keys()]

    def _group(self, host: str, digest: str):
        data = self.data.get(host)
        if data is None:
            return None
        return next((g for g in data.groups if g.digest == digest), None)

    def pull_targets(self) -> list[str]:
        """Hosts of the marked rows; else the host in scope; else every host."""
        marked = sorted({split_key(k)[0] for k in self.images_table.marked}, key=self.session.host_names.index)
        if marked:
            return marked
        return self.scoped_hosts()

    def action_pull(self) -> None:
        self.ask_pull(self.pull_targets())

    def action_label(self) -> None:
        rows = self._selected_rows()
        if not rows:
            return
        host, digest = rows[0]
        group = self._group(host, digest)
        if group is not None:
            self.ask_label(host, group.primary.ref, dict(group.primary.labels))

    def action_remove(self) -> None:
        """Remove the selected image(s) by digest: every ref on that host (see confirm_remove)."""
        targets = [(host, digest) for host, digest in self._selected_rows() if self._group(host, digest) is not None]
        if targets:
            self.console.spawn(WorkerKey("images-plan"), self._plan_and_confirm(targets))

    async def _plan_and_confirm(self, targets: list[tuple[str, str]]) -> None:
        plans = [await self.session.images.removal_plan(host, digest) for host, digest in targets]
        self.confirm_remove([p for p in plans if p.refs])

    # ------------------------------------------------------------------ flows

    def ask_pull(self, hosts: list[str]) -> None:
        """Ask for an image reference (validated), then pull it on ``hosts`` with per-host progress."""
        if not hosts:
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

        self.app.push_screen(screens.InputScreen(f"Pull an image on {', '.join(hosts)}",
                                         placeholder="docker.io/library/nginx:1.27", validate=check), go)

    def pull(self, ref: str, hosts: list[str]) -> Operation:
        """Pull ``ref`` on ``hosts``; one progress bar per host in the activity panel."""
        async def job(op: Operation) -> list[HostResult]:
            def progress(host: str, p: PullProgress) -> None:
                self.console.progress(op, host, p.done, p.total, p.status)
            results = await self.session.images.pull(hosts, ref, progress)
            self.reload_hosts(hosts)
            return results
        return self.console.start_operation(f"pull {ref}", hosts, job, show=True)

    def ask_label(self, host: str, ref: str, labels: dict[str, str]) -> None:
        """Ask for ``key=value`` (validated; an empty value removes the label), then set it."""
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
        self.app.push_screen(screens.InputScreen(f"Label {ref} on {host}", placeholder="key=value",
                                         help_text=f"current labels: {current}", validate=check), go)

    def label(self, host: str, ref: str, labels: dict[str, str]) -> Operation:
        """Set ``labels`` on ``ref`` on ``host`` (no confirmation: labels are not destructive)."""
        async def job(op: Operation) -> str:
            after = await self.session.images.label(host, ref, labels)
            self.reload_hosts([host])
            return ", ".join(f"{k}={v}" for k, v in sorted(after.items())) or "no labels"
        return self.console.start_operation(f"label {ref}", [host], job)

    def confirm_remove(self, plans: list[RemovalPlan]) -> None:
        """Confirm (naming every ref per host, and the containers using each image), then remove.
        The pause image of running sandboxes must be confirmed by typing its name."""
        if not plans:
            return
        lines: list[str] = []
        detail = Text()
        for p in plans:
            lines += [f"{p.host}: {ref}" for ref in p.refs]
            if p.users:
                detail.append_text(status_text(self.app, f"{p.host}: {short_digest(p.digest)} is used by "
                                                         f"{len(p.users)} container(s): "
                                                         f"{', '.join(c.name for c in p.users[:8])}"
                                                         f"{' …' if len(p.users) > 8 else ''}\n", "warning"))
            if p.sandboxes:
                detail.append_text(status_text(self.app, f"{p.host}: {p.pause_name} is the PAUSE image of "
                                                         f"{len(p.sandboxes)} running pod sandbox(es)\n", "error",
                                               bold=True))
        pause = next((p.pause_name for p in plans if p.sandboxes), None)
        if pause and len({p.pause_name for p in plans if p.sandboxes}) > 1:
            self.app.notify("remove pause images one host at a time", severity="warning")
            return

        def go(ok: bool | None) -> None:
            if ok:
                self.remove_images(plans, confirm_pause=pause or "")

        refs = sum(len(p.refs) for p in plans)
        self.app.push_screen(screens.ConfirmScreen(f"Remove {len(plans)} image(s) ({refs} ref(s))?", lines,
                                           detail=detail.plain, typed=pause, confirm_label="Remove"), go)

    def remove_images(self, plans: list[RemovalPlan], *, confirm_pause: str = "") -> list[Operation]:
        """Remove each plan's image (every ref of its digest on its host); one operation each."""
        ops = []
        for plan in plans:
            async def job(op: Operation, plan: RemovalPlan = plan) -> str:
                try:
                    done = await self.session.images.remove_digest(plan.host, plan.digest,
                                                                   confirm_pause=confirm_pause)
                finally:
                    self.reload_hosts([plan.host])
                return f"{len(done.refs)} ref(s) removed"
            ops.append(self.console.start_operation(
                f"remove {plan.refs[0] if plan.refs else short_digest(plan.digest)}", [plan.host], job))
        return ops

    def action_details(self) -> None:
        if self.focused_table() is self.containers_table:
            self.container_details()
            return
        rows = self._selected_rows()
        if not rows:
            return
        host, digest = rows[-1] if len(rows) == 1 else rows[0]
        group = self._group(host, digest)
        if group is None:
            return
        t = Text()
        t.append(f"host: {host}\ndigest: {group.digest}\n\n")
        for img in group.refs:
            t.append(f"{img.ref}\n  size {human_size(img.size_bytes)}  type {img.media_type}\n")
            t.append(f"  platforms: {', '.join(img.platforms) or '-'}\n")
            for k, v in sorted(img.labels.items()):
                t.append(f"  label {k}={v}\n")
        self.console.show_text(f"Image {group.primary.ref}", t)

    def container_details(self) -> None:
        """The selected container's runtime status (CRI ContainerStatus / `ctr containers info`)."""
        key = self.containers_table.selected_key()
        if not key:
            return
        host, cid = split_key(key)
        self.app.push_screen(screens.ContainerDetailsScreen(self.session, host, cid,
                                                    self.containers_table.cell_text(key, "name") or cid[:13]))

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id == "images-table":
            self.action_details()
        elif event.data_table.id == "containers-table":
            self.container_details()

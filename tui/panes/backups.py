"""Backups: the local catalog; back up now, verify, delete, retention, restore."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from backends.errors import BackendError, BackupError
from tui.panes.base import Pane
from tui import screens
from widgets.activity import Operation
from widgets.fmt import human_age, human_size
from widgets.style import status_text
from widgets.table import Col, ResourceTable

if TYPE_CHECKING:
    from backends.k0s.backups import BackupEntry, BackupProgress

COLUMNS = [
    Col("file", "File"), Col("cluster", "Cluster"), Col("source", "Source"), Col("created", "Created"),
    Col("size", "Size"), Col("storage", "Storage"), Col("sha256", "SHA256"), Col("verified", "Verified"),
    Col("version", "k0s"),
]


class BackupsPane(Pane):
    """Archives of the catalog (newest first)."""

    pane_id = "backups"
    title = "Backups"
    aliases = ("backup", "bk")
    MUTATING = frozenset({"backup_now", "verify", "delete", "retention", "restore"})
    BINDINGS = [
        Binding("b", "backup_now", "Back up now", id="backups.backup"),
        Binding("v", "verify", "Verify", id="backups.verify"),
        Binding("d", "delete", "Delete", id="backups.delete"),
        Binding("n", "retention", "Keep newest N", id="backups.retention"),
        Binding("o", "restore", "Restore", id="backups.restore"),
        Binding("enter", "details", "Details", id="backups.details"),
        Binding("A", "toggle_clusters", "All clusters", id="backups.all"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: dict[str, BackupEntry] = {}
        #: Show every cluster's archives (default: this cluster's only).
        self.all_clusters = False

    def compose_content(self) -> ComposeResult:
        yield Static("", classes="pane-status", id="backups-status", markup=False)
        yield ResourceTable(COLUMNS, id="backups-table")

    def on_built(self) -> None:
        self.reload()

    def refresh_data(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Re-read the catalog (a directory listing: cheap) and update rows by file name."""
        try:
            entries = self.session.backups.list(all_clusters=self.all_clusters)
        except OSError as exc:
            self.show_status(status_text(self.app, str(exc), "error"))
            return
        now = self.console.now()
        self.entries = {e.file: e for e in entries}
        table = self.primary_table()
        app = self.app
        for e in entries:
            verified = "unreadable" if e.invalid else "yes" if e.verified else ("FAILED" if e.verify_error else "no")
            table.upsert(e.file, {
                "file": e.file, "cluster": e.cluster or "-", "source": e.source_host or "-",
                "created": human_age(e.created, now), "size": human_size(e.size),
                "storage": e.storage_label, "sha256": e.sha256[:12] or "-",
                "verified": status_text(app, verified, "verified" if e.verified else ("error" if e.verify_error else "warning")),
                "version": e.k0s_version or "-",
            }, {"created": e.created.timestamp(), "size": e.size})
        table.retain(self.entries)
        scope = "all clusters" if self.all_clusters else f"cluster {self.session.backups.cluster}"
        t = Text(f"catalog: {self.session.backups.directory}   {len(entries)} archive(s) of {scope}", end="")
        self.show_status(t)

    def selected(self) -> list[BackupEntry]:
        return [self.entries[k] for k in self.primary_table().target_keys() if k in self.entries]

    def data_changed(self, topic: str, hosts: tuple[str, ...]) -> None:
        if topic == "backups":
            self.reload()

    def _changed(self) -> None:
        """The catalog changed: this pane and the header's backup age."""
        self.announce("backups")

    # ------------------------------------------------------------------ actions

    def action_toggle_clusters(self) -> None:
        """This cluster's archives only, or every cluster's in the catalog."""
        self.all_clusters = not self.all_clusters
        self.reload()

    def action_backup_now(self) -> None:
        self.backup_now()

    def action_verify(self) -> None:
        for e in self.selected():
            self.verify(e)

    def action_delete(self) -> None:
        sel = self.selected()
        if sel:
            self.confirm_delete(sel)

    def action_retention(self) -> None:
        self.ask_retention()

    def action_restore(self) -> None:
        sel = self.selected()
        if sel:
            self.ask_restore(sel[0])

    # ------------------------------------------------------------------ flows

    def backup_now(self) -> Operation:
        """Back up from the first running controller with a progress bar."""
        line = self.session.name

        async def job(op: Operation) -> str:
            def progress(p: BackupProgress) -> None:
                note = f"{p.phase} {p.host}".strip()
                self.console.progress(op, line, p.done, p.total if p.phase != "done" else max(p.done, 1), note)
            entry = await self.session.backups.backup_now(progress)
            self._changed()
            return f"saved {entry.file} from {entry.source_host}"
        return self.console.start_operation("backup", [line], job, show=True)

    def verify(self, entry: BackupEntry) -> Operation:
        """Verify ``entry`` again; a failed verification fails the operation."""
        async def job(op: Operation) -> str:
            out = await self.session.backups.verify(entry)
            self._changed()
            if not out.verified:
                raise BackupError("", f"{entry.file}: {out.verify_error}")
            return "verified"
        return self.console.start_operation(f"verify {entry.file}", [], job)

    def confirm_delete(self, entries: list[BackupEntry]) -> None:
        """Confirm (naming every file), then delete."""
        def go(ok: bool | None) -> None:
            if ok:
                self.delete(entries)

        self.app.push_screen(screens.ConfirmScreen(f"Delete {len(entries)} backup archive(s)?", [e.file for e in entries],
                                           confirm_label="Delete"), go)

    def delete(self, entries: list[BackupEntry]) -> Operation:
        async def job(op: Operation) -> str:
            for e in entries:
                await self.session.backups.delete(e)
            self._changed()
            return f"deleted {len(entries)}"
        return self.console.start_operation("delete backups", [], job)

    def ask_retention(self) -> None:
        """Ask for N, show which archives go, then keep only the newest N per cluster."""
        def check(value: str) -> str | None:
            return None if value.strip().isdigit() and int(value) >= 1 else "enter a whole number, 1 or more"

        def got_n(value: str | None) -> None:
            if value is None:
                return
            keep = int(value.strip())
            doomed = self.session.backups.retention_plan(keep)
            if not doomed:
                self.notify(f"nothing to delete: at most {keep} archive(s) per cluster", markup=False)
                return

            def go(ok: bool | None) -> None:
                if ok:
                    self.apply_retention(keep)
            self.app.push_screen(screens.ConfirmScreen(f"Keep the newest {keep}: delete {len(doomed)} archive(s)?",
                                               [e.file for e in doomed], confirm_label="Delete"), go)

        self.app.push_screen(screens.InputScreen("Keep the newest N archives per cluster",
                                         value=str(self.console.retention_default),
                                         validate=check), got_n)

    def apply_retention(self, keep: int) -> Operation:
        async def job(op: Operation) -> str:
            deleted = await self.session.backups.apply_retention(keep)
            self._changed()
            return f"kept newest {keep}, deleted {len(deleted)}"
        return self.console.start_operation(f"retention keep {keep}", [], job)

    def ask_restore(self, entry: BackupEntry) -> None:
        """Restore screen: target choice, preconditions, typed confirmation; then restore."""
        def go(target: str | None) -> None:
            if target:
                self.restore(entry, target)

        self.app.push_screen(screens.RestoreScreen(self.session, entry), go)

    def restore(self, entry: BackupEntry, target: str) -> Operation:
        async def job(op: Operation) -> str:
            def progress(p: BackupProgress) -> None:
                self.console.progress(op, target, p.done, p.total, p.phase)
            out = await self.session.backups.restore(entry, target, progress)
            steps = "\n".join(f"{i}. {step}" for i, step in enumerate(self.session.backups.next_steps(target), 1))
            self.app.push_screen(screens.TextScreen(f"Restored {entry.file} on {target}",
                                            Text(f"{out}\n\nNext steps:\n{steps}")))
            try:
                await self.session.nodes.refresh_one(target)
            except BackendError:
                pass  # the row shows it on the next refresh
            self.announce("nodes", [target])
            return "restored"
        return self.console.start_operation(f"restore {entry.file}", [target], job, show=True)

    def action_details(self) -> None:
        sel = self.selected()
        if not sel:
            return
        e = sel[0]
        t = Text()
        for label, value in (("file", e.file), ("path", str(e.path)), ("cluster", e.cluster),
                             ("source host", e.source_host), ("created", e.created.isoformat()),
                             ("size", human_size(e.size)), ("unpacked", human_size(e.unpacked_size)),
                             ("storage", e.storage_label), ("sha256", e.sha256), ("verified", str(e.verified)),
                             ("verified at", e.verified_at.isoformat() if e.verified_at else "-"),
                             ("verify error", e.verify_error or "-"), ("k0s version", e.k0s_version or "-")):
            t.append(f"{label:>13}: ", style="bold")
            t.append(f"{value}\n")
        self.console.show_text(f"Backup {e.file}", t)

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def redraw(self) -> None:
        self.reload()

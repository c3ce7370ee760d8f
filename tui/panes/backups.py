"""Backups: the local catalog; back up now, verify, delete, retention, restore."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from backends.k0s.backups import BackupEntry
from tui.panes.base import Pane
from widgets.fmt import human_age, human_size
from widgets.style import status_text
from widgets.table import Col, ResourceTable

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
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.entries: dict[str, BackupEntry] = {}

    def compose(self) -> ComposeResult:
        yield Static("", classes="pane-status", id="backups-status", markup=False)
        yield ResourceTable(COLUMNS, id="backups-table")

    def on_mount(self) -> None:
        self.reload()

    def refresh_data(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Re-read the catalog (a directory listing: cheap) and update rows by file name."""
        try:
            entries = self.session.backups()
        except OSError as exc:
            self.query_one("#backups-status", Static).update(status_text(self.app, str(exc), "error"))
            return
        now = self.tui.now()
        self.entries = {e.file: e for e in entries}
        table = self.primary_table()
        app = self.app
        for e in entries:
            verified = "yes" if e.verified else ("FAILED" if e.verify_error else "no")
            table.upsert(e.file, {
                "file": e.file, "cluster": e.cluster or "-", "source": e.source_host or "-",
                "created": human_age(e.created, now), "size": human_size(e.size),
                "storage": e.storage_label, "sha256": e.sha256[:12] or "-",
                "verified": status_text(app, verified, "verified" if e.verified else ("error" if e.verify_error else "warning")),
                "version": e.k0s_version or "-",
            }, {"created": e.created.timestamp(), "size": e.size})
        table.retain(self.entries)
        self.tui.note_backups_changed()
        self.tui.header_soon()
        t = Text(f"catalog: {self.session.catalog.dir}   {len(entries)} archive(s)", end="")
        self.query_one("#backups-status", Static).update(t)

    def selected(self) -> list[BackupEntry]:
        return [self.entries[k] for k in self.primary_table().target_keys() if k in self.entries]

    def action_backup_now(self) -> None:
        self.tui.backup_now()

    def action_verify(self) -> None:
        for e in self.selected():
            self.tui.verify_backup(e)

    def action_delete(self) -> None:
        sel = self.selected()
        if sel:
            self.tui.confirm_delete_backups(sel)

    def action_retention(self) -> None:
        self.tui.ask_retention()

    def action_restore(self) -> None:
        sel = self.selected()
        if sel:
            self.tui.ask_restore(sel[0])

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
        self.tui.show_text(f"Backup {e.file}", t)

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def redraw(self) -> None:
        self.reload()

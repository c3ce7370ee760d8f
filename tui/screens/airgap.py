"""`:airgap` — per host, the images the config needs (`k0s airgap list-images`) that the node
lacks, and how many it has. Read only; `r` compares again, `a` toggles `--all`."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from backends.session.airgap import AirgapReport, HostAirgap, airgap_report, version_note
from backends.session.core import error_text
from backends.session.session import ClusterSession
from tui.screens.modals import TextScreen
from widgets.style import status_text
from widgets.table import Col, ResourceTable

COLUMNS = [Col("host", "Host"), Col("role", "Role"), Col("state", "State"), Col("present", "Present"),
           Col("missing", "Missing"), Col("lacks", "Lacks")]


def _one_line(text: str, limit: int = 200) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[:limit] + "…"


class AirgapScreen(Screen[None]):
    """The airgap diff of every host (enter: the full list of what the selected host lacks)."""

    DEFAULT_CSS = """
    AirgapScreen > .title { height: 1; text-style: bold; padding: 0 1; background: $panel; }
    AirgapScreen > .pane-status { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    """
    BINDINGS = [
        Binding("escape", "close", "Back", id="airgap.back"),
        Binding("q", "close", "Back", show=False, id="airgap.back_q"),
        Binding("r", "reload", "Compare again", id="airgap.reload"),
        Binding("a", "toggle_all", "All images (--all)", id="airgap.all"),
        Binding("enter", "details", "Details", id="airgap.details"),
    ]

    def __init__(self, session: ClusterSession, *, all_images: bool = False) -> None:
        super().__init__()
        self.session = session
        self.all_images = all_images
        self.report: AirgapReport | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Static(Text("Airgap: images the config needs that each node lacks"), classes="title")
        yield Static(Text("asking a controller for `k0s airgap list-images`…"), id="airgap-status",
                     classes="pane-status", markup=False)
        yield ResourceTable(COLUMNS, id="airgap-table", markable=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ResourceTable).focus()
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.run_worker(self._load(), group="airgap", exclusive=True, exit_on_error=False)

    def action_toggle_all(self) -> None:
        self.all_images = not self.all_images
        self.action_reload()

    async def _load(self) -> None:
        self._status(Text("comparing…"))
        try:
            report = await airgap_report(self.session, all_images=self.all_images)
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never fatal
            self.report, self.error = None, error_text(exc)
            self._status(status_text(self.app, _one_line(self.error), "error"))
            return
        self.show(report)

    def _status(self, text: Text) -> None:
        self.query_one("#airgap-status", Static).update(text)

    def show(self, report: AirgapReport) -> None:
        """Fill the table from ``report`` (one row per host)."""
        self.report, self.error = report, ""
        table = self.query_one(ResourceTable)
        for h in report.hosts:
            table.upsert(h.host, self._row(report, h), {"present": h.present, "missing": len(h.missing)})
        table.retain([h.host for h in report.hosts])
        lacking = [h for h in report.hosts if h.missing]
        t = Text(f"{len(report.needed)} images needed (`k0s airgap list-images"
                 f"{' --all' if report.all_images else ''}` on {report.source}, "
                 f"{report.source_version or 'version unknown'})   ", end="")
        if lacking:
            t.append_text(status_text(self.app, f"{len(lacking)} of {len(report.hosts)} hosts lack images", "warning",
                                      bold=True))
        else:
            t.append_text(status_text(self.app, "no host lacks an image", "success"))
        self._status(t)

    def _row(self, report: AirgapReport, h: HostAirgap) -> dict:
        app = self.app
        if h.skipped:
            state, lacks = status_text(app, "skipped", "muted"), Text(h.skipped, end="")
        elif h.error:
            state, lacks = status_text(app, "error", "error"), status_text(app, _one_line(h.error), "error")
        elif h.missing:
            state = status_text(app, "missing", "warning", bold=True)
            note = version_note(report, h)
            lacks = Text(", ".join(h.missing) + (f"  ({note})" if note else ""), end="", no_wrap=True)
        else:
            state, lacks = status_text(app, "ok", "ok"), Text("", end="")
        counted = not (h.skipped or h.error)
        return {"host": h.host, "role": h.role, "state": state,
                "present": str(h.present) if counted else "-",
                "missing": str(len(h.missing)) if counted else "-", "lacks": lacks}

    def host_text(self, name: str) -> Text:
        """Everything about one host's comparison, one image per line."""
        assert self.report is not None
        h = next(x for x in self.report.hosts if x.host == name)
        t = Text()
        t.append(f"{h.host} ({h.role}, k0s {h.version or 'version unknown'})\n", style="bold")
        if h.skipped or h.error:
            t.append((h.skipped or h.error) + "\n")
            return t
        t.append(f"{h.present} of {len(self.report.needed)} needed images present\n")
        note = version_note(self.report, h)
        if note:
            t.append(note + "\n")
        if h.missing:
            t.append("\nlacks:\n", style="bold")
            for ref in h.missing:
                t.append(f"  {ref}\n")
                if ref in h.reasons:
                    t.append(f"    {h.reasons[ref]}\n")
        return t

    def action_details(self) -> None:
        key = self.query_one(ResourceTable).selected_key()
        if key and self.report is not None:
            self.app.push_screen(TextScreen(f"airgap: {key}", self.host_text(key)))

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()

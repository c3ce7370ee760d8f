"""`:airgap` — per host, the images the config needs (`k0s airgap list-images`) that the node
lacks, and how many it has. Read only; `r` compares again, `a` toggles `--all`."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from backends.session.airgap import AirgapReport, HostAirgap, airgap_report, version_note
from backends.session.session import ClusterSession
from tui.screens.modals import TextScreen
from tui.screens.report import ReportScreen
from widgets.style import status_text
from widgets.table import Col, ResourceTable

COLUMNS = [Col("host", "Host"), Col("role", "Role"), Col("state", "State"), Col("present", "Present"),
           Col("missing", "Missing"), Col("lacks", "Lacks")]


def _one_line(text: str, limit: int = 200) -> str:
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[:limit] + "…"


class AirgapScreen(ReportScreen):
    """The airgap diff of every host (enter: the full list of what the selected host lacks)."""

    TITLE_TEXT = "Airgap: images the config needs that each node lacks"
    LOADING_TEXT = "asking a controller for `k0s airgap list-images`…"
    COLUMNS = COLUMNS
    BINDINGS = [
        Binding("escape", "close", "Back", id="airgap.back"),
        Binding("q", "close", "Back", show=False, id="airgap.back_q"),
        Binding("r", "reload", "Compare again", id="airgap.reload"),
        Binding("a", "toggle_all", "All images (--all)", id="airgap.all"),
        Binding("enter", "details", "Details", id="airgap.details"),
    ]

    def __init__(self, session: ClusterSession, *, all_images: bool = False) -> None:
        super().__init__(session)
        self.all_images = all_images
        self.report: AirgapReport | None = None

    def action_toggle_all(self) -> None:
        self.all_images = not self.all_images
        self.action_reload()

    async def fetch(self) -> AirgapReport:
        self.status(Text("comparing…"))
        return await airgap_report(self.session, all_images=self.all_images)

    def failed(self) -> None:
        self.report = None

    def show(self, report: AirgapReport) -> None:
        """Fill the table from ``report`` (one row per host)."""
        self.report = report
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
        self.status(t)

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

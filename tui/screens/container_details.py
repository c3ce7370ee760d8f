"""Container details: a container's runtime status (image, state, times, exit code, restarts,
pod, namespace, labels, mounts), loaded when the screen opens."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll

from backends.models import ContainerDetails
from backends.session.session import ClusterSession
from tui.console import Console, WorkerKey
from tui.panes.logs import show_container_log
from tui.screens.modals import TextScreen


def details_text(d: ContainerDetails) -> Text:
    """The screen's text for ``d`` (every value taken literally)."""
    t = Text()

    def row(label: str, value: object) -> None:
        t.append(f"{label:>14}: ", style="bold")
        t.append(f"{'-' if value is None or value == '' else value}\n")

    for label, value in (
            ("id", d.id), ("name", d.name), ("kind", d.kind), ("image", d.image), ("image ref", d.image_ref),
            ("state", d.state), ("reason", d.reason), ("message", d.message),
            ("created", d.created.isoformat() if d.created else None),
            ("started", d.started.isoformat() if d.started else None),
            ("finished", d.finished.isoformat() if d.finished else None),
            ("exit code", d.exit_code), ("restart count", d.restart_count),
            ("pod", d.pod), ("namespace", d.namespace), ("source", d.source)):
        row(label, value)
    t.append("\nlabels:\n", style="bold")
    for k, v in sorted(d.labels.items()):
        t.append(f"  {k}={v}\n")
    if not d.labels:
        t.append("  -\n")
    t.append("\nmounts:\n", style="bold")
    for m in d.mounts:
        t.append(f"  {m.container_path} ← {m.host_path}{'  (ro)' if m.readonly else ''}\n")
    if not d.mounts:
        t.append("  -\n")
    t.rstrip()
    return t


class ContainerDetailsScreen(TextScreen):
    """`enter` on a container row; `l` follows its CRI log in the Logs pane."""

    BINDINGS = [*TextScreen.BINDINGS, Binding("l", "logs", "Logs", id="container.logs")]

    def __init__(self, session: ClusterSession, host: str, container_id: str, name: str) -> None:
        super().__init__(f"Container {name} on {host}", "loading…")
        self.session = session
        self.host = host
        self.container_id = container_id
        self.details: ContainerDetails | None = None

    def on_mount(self) -> None:
        scroll = self.query_one(VerticalScroll)  # arrows scroll at once (no tab to the text first)
        scroll.can_focus = True
        scroll.focus()
        console: Console = self.app  # type: ignore[assignment]
        console.start_once(WorkerKey("container", self.host), self._load())

    async def _load(self) -> None:
        try:
            self.details = await self.session.images.container_details(self.host, self.container_id)
        except Exception as exc:  # noqa: BLE001 - shown on the screen (and through the sink)
            self.set_body(Text(f"could not read the container's status: {exc}"))
            raise
        self.set_body(details_text(self.details))

    def action_logs(self) -> None:
        """Close the details and follow this container's CRI log."""
        self.dismiss(None)
        show_container_log(self.app, self.host, self.container_id)

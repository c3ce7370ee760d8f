"""A read-only report screen: a title, a status line, one table and a footer; the data is
loaded in a worker when the screen opens and again on `r`. Failures show on the status line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Static

from backends.session.core import error_text
from backends.session.session import ClusterSession
from widgets.style import status_text
from widgets.table import Col, ResourceTable


class ReportScreen(Screen[None]):
    """Subclasses set ``TITLE_TEXT``, ``LOADING_TEXT``, ``COLUMNS`` and implement :meth:`fetch`
    and :meth:`show`."""

    TITLE_TEXT: ClassVar[str] = ""
    LOADING_TEXT: ClassVar[str] = "loading…"
    COLUMNS: ClassVar[Sequence[Col]] = ()
    DEFAULT_CSS = """
    ReportScreen > .title { height: 1; text-style: bold; padding: 0 1; background: $panel; }
    ReportScreen > .pane-status { height: auto; max-height: 4; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, session: ClusterSession) -> None:
        super().__init__()
        self.session = session
        self.error = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(self.TITLE_TEXT), classes="title")
        yield Static(Text(self.LOADING_TEXT), id="report-status", classes="pane-status", markup=False)
        yield ResourceTable(self.COLUMNS, id="report-table", markable=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ResourceTable).focus()
        self.action_reload()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.run_worker(self._load(), group=f"report-{type(self).__name__}", exclusive=True,
                        exit_on_error=False)

    async def _load(self) -> None:
        try:
            data = await self.fetch()
        except Exception as exc:  # noqa: BLE001 - shown on the screen, never fatal
            self.error = error_text(exc)
            self.failed()
            first = self.error.splitlines()[0] if self.error else ""
            self.status(status_text(self.app, first[:200] + ("…" if len(first) > 200 else ""), "error"))
            return
        self.error = ""
        self.show(data)

    def status(self, text: Text) -> None:
        """Replace the status line."""
        self.query_one("#report-status", Static).update(text)

    async def fetch(self) -> Any:
        """Load the report's data (in a worker)."""
        raise NotImplementedError

    def failed(self) -> None:
        """The last load failed (``self.error`` says why): forget what was shown."""

    def show(self, data: Any) -> None:
        """Fill the status line and the table from ``data``."""
        raise NotImplementedError

"""The activity panel: every operation with its hosts, live per-host progress, result and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Static

from widgets.fmt import human_size
from widgets.safe import safe_str
from widgets.style import status_text


@dataclass
class Operation:
    """One operation as the panel shows it (UI state only)."""

    id: int
    what: str
    hosts: list[str]
    started: datetime
    state: str = "running"  # running / done / failed / refused
    result: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    #: Per host: (done, total or None) of the latest progress update.
    progress: dict[str, tuple[float, float | None]] = field(default_factory=dict)
    #: Per host: how many progress updates arrived (tests check progress was seen).
    updates: dict[str, int] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)


def progress_note(status: str, done: float, total: float | None) -> str:
    """``downloading  1.2 MiB/3.4 MiB  35%`` (bytes; ``done`` alone while the total is unknown)."""
    if total:
        pct = int(100 * min(done, total) / total)
        figures = f"{human_size(int(done))}/{human_size(int(total))}  {pct}%"
    elif done:
        figures = human_size(int(done))
    else:
        return status
    return f"{status}  {figures}" if status else figures


class HostProgress(Horizontal):
    """One host line of an operation: name, progress bar, note."""

    DEFAULT_CSS = """
    HostProgress { height: 1; }
    HostProgress > .host { width: 18; }
    HostProgress > ProgressBar { width: 24; }
    HostProgress > .note { width: 1fr; }
    """

    def __init__(self, host: str) -> None:
        from textual.widgets import ProgressBar  # with the first operation, not the console (~1.5 ms)

        super().__init__()
        self.host = host
        self.bar = ProgressBar(total=None, show_eta=False)
        self.note = Static("", markup=False, classes="note")

    def compose(self) -> ComposeResult:
        yield Static(Text(safe_str(self.host, line=True), no_wrap=True, overflow="ellipsis"), classes="host")
        yield self.bar
        yield self.note


class OperationView(Vertical):
    """An operation: a title line, then one HostProgress per host."""

    DEFAULT_CSS = """
    OperationView { height: auto; margin-bottom: 1; }
    OperationView > .title { height: auto; }
    OperationView > .error { height: auto; }
    """

    def __init__(self, op: Operation) -> None:
        super().__init__(id=f"op-{op.id}")
        self.op = op
        self.title = Static("", markup=False, classes="title")
        self.error = Static("", markup=False, classes="error")
        self.lines: dict[str, HostProgress] = {h: HostProgress(h) for h in op.hosts}

    def compose(self) -> ComposeResult:
        yield self.title
        yield from self.lines.values()
        yield self.error

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        op = self.op
        t = Text(end="")
        t.append(op.started.strftime("%H:%M:%S "))
        t.append_text(status_text(self.app, op.state, {"running": "accent", "done": "success"}.get(op.state, "error")))
        t.append(safe_str(f"  {op.what}", line=True))
        if op.hosts:
            t.append(safe_str(f"  on {', '.join(op.hosts)}", line=True))
        if op.result:
            t.append(safe_str(f"  — {op.result}", line=True))
        self.title.update(t)
        err = "\n".join(f"{h}: {e}" if h else e for h, e in op.errors.items())
        self.error.update(status_text(self.app, err, "error") if err else "")
        self.error.display = bool(err)
        for host, line in self.lines.items():
            done, total = op.progress.get(host, (0, None))
            if op.state != "running" and host not in op.errors and total is None:
                total, done = 1, 1
            line.bar.update(total=total, progress=done)
            note = progress_note(op.notes.get(host, ""), *op.progress[host]) if host in op.progress \
                else op.notes.get(host, "")
            if host in op.errors:
                note = "failed"
            line.note.update(Text(safe_str(note, line=True), no_wrap=True, overflow="ellipsis"))


class ActivityPanel(VerticalScroll):
    """Operations, newest at the top (the last ``keep`` are kept)."""

    DEFAULT_CSS = """
    ActivityPanel { height: 40%; max-height: 14; border-top: solid $primary; display: none; }
    ActivityPanel.-shown { display: block; }
    """

    def __init__(self, *, keep: int = 50, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keep = keep
        self.operations: dict[int, Operation] = {}
        self._views: dict[int, OperationView] = {}

    def add(self, op: Operation) -> None:
        """Show a new operation."""
        self.operations[op.id] = op
        view = OperationView(op)
        self._views[op.id] = view
        if self.is_mounted:
            self.mount(view, before=0 if self.children else None)
        for old in sorted(self.operations)[:-self.keep]:
            self.operations.pop(old, None)
            v = self._views.pop(old, None)
            if v is not None and v.is_mounted:
                v.remove()

    def changed(self, op_id: int) -> None:
        """Redraw operation ``op_id`` after its state changed."""
        view = self._views.get(op_id)
        if view is not None and view.is_mounted:
            view.redraw()

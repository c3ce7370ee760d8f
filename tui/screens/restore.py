"""Restore: choose the target controller, see every precondition, type the host name to confirm."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from backends.k0s.backups import BackupEntry, Check
from backends.session.core import error_text
from backends.session.session import ClusterSession
from tui.screens.modals import MODAL_CSS, checks_text


class RestoreScreen(ModalScreen[str | None]):
    """Returns the target host name once confirmed, None when cancelled."""

    DEFAULT_CSS = MODAL_CSS + """
    RestoreScreen #checks { height: auto; margin: 1 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="restore.cancel")]

    def __init__(self, session: ClusterSession, entry: BackupEntry) -> None:
        super().__init__()
        self.session = session
        self.entry = entry
        self.checks: list[Check] | None = None
        controllers = session.controllers()
        self.target: str | None = controllers[0] if controllers else None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Restore {self.entry.file}"), classes="title")
            yield Static(Text(f"created {self.entry.created.isoformat()} from {self.entry.source_host or '?'}, "
                              f"storage {self.entry.storage_label}"))
            yield Select([(c, c) for c in self.session.controllers()], value=self.target or Select.NULL,
                         allow_blank=False if self.target else True, id="target", prompt="target controller")
            yield Static(Text("checking preconditions…"), id="checks")
            yield Static("", id="hint", markup=False)
            yield Input(placeholder="type the target host name", id="typed")
            yield Static("", classes="problem", id="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Restore", id="restore", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.check()
        self.query_one("#typed", Input).focus()

    @on(Select.Changed, "#target")
    def _target_changed(self, event: Select.Changed) -> None:
        value = event.value
        self.target = None if value is Select.NULL else str(value)
        self.check()

    def check(self) -> None:
        """Evaluate preconditions on the chosen target (in a worker: it talks to the host).
        Everything naming the previous target is reset at once: the hint, the typed name."""
        self.checks = None
        target = self.target
        self.query_one("#checks", Static).update(
            Text(f"checking preconditions on {target}…" if target else "choose a target controller"))
        self.query_one("#hint", Static).update("")
        self.query_one("#problem", Static).update("")
        typed = self.query_one("#typed", Input)
        if typed.value and typed.value != target:
            typed.value = ""
        typed.placeholder = f"type {target} to confirm" if target else "type the target host name"
        self._update_button()
        if target:
            self._load_checks(target)

    @work(exclusive=True, group="restore-checks", exit_on_error=False)
    async def _load_checks(self, target: str) -> None:
        try:
            checks = await self.session.backups.preconditions(self.entry, target)
        except Exception as exc:  # noqa: BLE001 - shown right here, the screen stays usable
            if target == self.target:
                self.query_one("#checks", Static).update(Text(f"could not check {target}: {error_text(exc)}"))
            return
        if target != self.target:
            return
        self.checks = checks
        self.query_one("#checks", Static).update(checks_text(self.app, checks))
        self.query_one("#hint", Static).update(
            f"Type {target!r} below to confirm the restore on it." if self.blocking_ok else
            "Restore is not possible until the failed checks above are fixed.")
        self._update_button()

    @property
    def blocking_ok(self) -> bool:
        return self.checks is not None and all(c.ok or not c.blocking for c in self.checks)

    def _update_button(self) -> None:
        typed = self.query_one("#typed", Input).value
        self.query_one("#restore", Button).disabled = not (self.blocking_ok and self.target and typed == self.target)

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        self._update_button()

    @on(Input.Submitted, "#typed")
    def _submitted(self, event: Input.Submitted) -> None:
        self._confirm()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "restore":
            self._confirm()
        else:
            self.dismiss(None)

    def _confirm(self) -> None:
        problem = self.query_one("#problem", Static)
        if not self.blocking_ok:
            problem.update("preconditions are not met (see above)")
            return
        if self.query_one("#typed", Input).value != self.target:
            problem.update(f"type {self.target!r} exactly to confirm")
            return
        self.dismiss(self.target)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""The base of every pane: identity for the registry, its tables, and hooks the app calls."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding
from textual.containers import Vertical

from widgets.table import ResourceTable

if TYPE_CHECKING:
    from tui.app import K0sTuiApp


class Pane(Vertical):
    """A top-level view. Subclasses set the class variables and implement the hooks."""

    #: Stable id (tab id, `:` command, keymap id prefix).
    pane_id: ClassVar[str] = ""
    #: Tab title.
    title: ClassVar[str] = ""
    #: Other `:` words that open this pane.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Actions that change something (hidden and refused with --readonly).
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    BINDINGS: ClassVar[list[Binding]] = []

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    Pane > .pane-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    @property
    def tui(self) -> "K0sTuiApp":
        return self.app  # type: ignore[return-value]

    @property
    def session(self):
        return self.tui.session

    def primary_table(self) -> ResourceTable:
        """The table `/` filters when none has focus."""
        return self.query(ResourceTable).first()

    def focused_table(self) -> ResourceTable:
        """The table with focus inside this pane, else the primary one."""
        focused = self.app.focused
        if isinstance(focused, ResourceTable) and self in focused.ancestors:
            return focused
        return self.primary_table()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only hides mutating bindings from the footer and disables their keys.
        if action in self.MUTATING and self.tui.readonly:
            return False
        return True

    def action_user_command(self, index: int) -> None:
        """A commands.toml entry's key (bound at start by tui.usercommands)."""
        from tui.usercommands import run_from_pane

        run_from_pane(self, index)

    def refresh_data(self) -> None:
        """Start whatever refresh this pane needs (called on each tick while shown, and on show)."""

    def on_shown(self) -> None:
        """The pane became the active one."""
        self.refresh_data()

    def command(self, args: list[str]) -> None:
        """Arguments of this pane's `:` command (e.g. `:images node-2`)."""

    def redraw(self) -> None:
        """Re-render cells that depend on the theme or the clock."""

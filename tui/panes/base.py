"""The base of every pane: identity for the registry, its tables, and the hooks the app calls.

A pane owns its flows (refreshes, confirmations, operations) and reaches the app only through
the :class:`~tui.console.Console` protocol; data other panes show changes are announced with a
posted :class:`~tui.console.DataChanged`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.widgets import Static

from backends.session.session import ClusterSession
from tui.console import Console, DataChanged
from widgets.rowmessage import RowMessage
from widgets.table import ResourceTable

if TYPE_CHECKING:  # annotations only: the app imports every pane
    from rich.text import Text

    from tui.app import K0sTuiApp


class Pane(Vertical):
    """A top-level view. Subclasses set the class variables and implement the hooks.

    A pane's widgets are built when it is first shown (start-up cost: the first frame needs
    only the pane on screen): until then :attr:`built` is False, the pane keeps its state and
    runs its :meth:`start` work, and whatever would update its widgets waits for
    :meth:`on_built`, which fills them from the session's caches. Subclasses compose in
    :meth:`compose_content` and fill in :meth:`on_built` (not ``compose``/``on_mount``).
    """

    #: Stable id (tab id, `:` command, keymap id prefix).
    pane_id: ClassVar[str] = ""
    #: Tab title.
    title: ClassVar[str] = ""
    #: Other `:` words that open this pane.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: `:` words that open this pane and reach :meth:`command` as its first argument (`:airgap`).
    VERBS: ClassVar[tuple[str, ...]] = ()
    #: Actions that change something (hidden and disabled with --readonly).
    MUTATING: ClassVar[frozenset[str]] = frozenset()
    #: Worker kinds whose errors this pane shows on the host's row (:meth:`show_error`).
    ERROR_KINDS: ClassVar[frozenset[str]] = frozenset()
    BINDINGS: ClassVar[list[Binding]] = []
    #: Column of the primary table whose full text the pane's RowMessage line shows for the
    #: selected row ("" when the pane has none).
    MESSAGE_COLUMN: ClassVar[str] = ""

    #: Build the widgets with the app even when another pane shows first (the Nodes pane:
    #: its refresh feeds the header and most sessions start on it).
    BUILD_AT_START: ClassVar[bool] = False

    DEFAULT_CSS = """
    Pane { height: 1fr; }
    Pane > .pane-status { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, *, built: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        #: Whether the widgets exist and were filled (``built=False``: on first show).
        self.built = built
        self._building: asyncio.Event | None = None  # set once a build started here is done
        self._when_built: list[Callable[[], object]] = []

    # ------------------------------------------------------------------ building

    def compose(self) -> ComposeResult:
        if self.built or self._building is not None:
            yield from self.compose_content()

    def compose_content(self) -> ComposeResult:
        """The pane's widgets."""
        yield from ()

    def on_mount(self) -> None:
        if self.built:
            self.on_built()

    def on_built(self) -> None:
        """The widgets are mounted: fill them from the session (what is known so far)."""

    async def build(self) -> None:
        """Compose and fill the widgets now, if not done yet (the pane's first show)."""
        if self.built:
            return
        if self._building is not None:  # started by another caller: wait for it
            await self._building.wait()
            return
        self._building = asyncio.Event()
        await self.recompose()
        self.built = True
        self.on_built()
        self._building.set()
        callbacks, self._when_built = self._when_built, []
        for callback in callbacks:
            callback()

    def when_built(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` now if the widgets exist, else once :meth:`build` made them (the
        build is started here if nothing started it): for callers that show a pane and use its
        widgets at once."""
        if self.built:
            callback()
            return
        self._when_built.append(callback)
        if self._building is None:
            self.call_later(self.build)

    @property
    def console(self) -> Console:
        """The app, as panes may use it."""
        return cast(Console, self.app)

    @property
    def tui(self) -> "K0sTuiApp":
        """The app itself (for its pane accessors; flows use :attr:`console`)."""
        return self.app  # type: ignore[return-value]

    @property
    def session(self) -> ClusterSession:
        return self.console.session

    def primary_table(self) -> ResourceTable:
        """The table `/` filters when none has focus (NoMatches when the pane has none)."""
        return self.query(ResourceTable).first()

    def focused_table(self) -> ResourceTable:
        """The table with focus inside this pane, else the primary one."""
        focused = self.app.focused
        if isinstance(focused, ResourceTable) and self in focused.ancestors:
            return focused
        return self.primary_table()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Read-only hides mutating bindings from the footer and disables their keys (the
        # session's mutation gate refuses them too).
        if action in self.MUTATING and self.console.readonly:
            return False
        return True

    @on(ResourceTable.RowHighlighted)
    def _row_highlighted(self, event: ResourceTable.RowHighlighted) -> None:
        if self.MESSAGE_COLUMN:
            self.show_row_message()

    def show_status(self, content: str | Text) -> None:
        """Put ``content`` in the pane's status line (``.pane-status``). It is one line of fixed
        height, so no layout pass: one re-arranges and repaints the whole screen, and a fleet's
        answers update the line once a frame."""
        self.query_one(".pane-status", Static).update(content, layout=False)

    def show_row_message(self, changed: str | None = None) -> None:
        """Put the selected row's message in the RowMessage line (when ``changed`` is given,
        only if that row is the selected one: cheap to call on every row update)."""
        if not self.MESSAGE_COLUMN:
            return
        try:
            line = self.query_one(RowMessage)
            table = self.primary_table()
        except NoMatches:
            return
        if changed is not None and table.cursor_key not in (changed, None):
            return  # another row than the selected one (a moved cursor shows its own message)
        key = table.selected_key()
        if changed is not None and key != changed:
            return
        values = table.row_values(key) if key else {}
        line.show(key or "", values.get(self.MESSAGE_COLUMN, ""))

    def announce(self, topic: str, hosts: Sequence[str] = ()) -> None:
        """Tell the other panes (and the header) that ``topic`` data of ``hosts`` changed."""
        self.post_message(DataChanged(topic, hosts))

    # ------------------------------------------------------------------ hooks the app calls

    def start(self) -> None:
        """The app has mounted: start what this pane needs from the beginning though it is not
        on screen (the pane on screen at start is shown instead: :meth:`on_shown`)."""

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

    def data_changed(self, topic: str, hosts: tuple[str, ...]) -> None:
        """Another pane changed ``topic`` data of ``hosts`` (empty: all)."""

    def show_error(self, host: str, message: str) -> None:
        """Show a failed background job's ``message`` in place (for kinds in ERROR_KINDS; also
        called before the pane is built: keep it for :meth:`on_built`)."""

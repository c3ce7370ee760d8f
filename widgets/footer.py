"""A footer that keeps chosen keys (help, filter) first, so they stay visible when a narrow
terminal cuts the row of keys on the right."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class PinnedFooter(Footer):
    """:class:`~textual.widgets.Footer` (compact) with the bindings of ``pinned`` actions first.

    Textual lists the focused widget's keys first and the app's last, so at 80 columns the
    app's `?` and `/` are the first to fall off; pinning moves them to the front.

    Textual's footer rebuilds its keys on every bindings change; a focus move sends two (at
    once and after the next refresh) with the same keys, so the keys are rebuilt once per
    refresh at most, and only when what they would show changed.
    """

    def __init__(self, pinned: Iterable[str], **kwargs) -> None:
        kwargs.setdefault("compact", False)
        super().__init__(**kwargs)
        self.pinned = tuple(pinned)
        self._rebuild_queued = False
        self._shown: tuple | None = None  # what the keys were built from

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_queued:
            self._rebuild_queued = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_queued = False
        shown = self._keys_in_force()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def _keys_in_force(self) -> tuple:
        """Everything of the bindings in force that :meth:`compose` may show."""
        return tuple((b.key, self.app.get_key_display(b), b.action, b.description, b.show, b.group,
                      b.tooltip, enabled, tooltip)
                     for _node, b, enabled, tooltip in self.screen.active_bindings.values())

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())  # no binding groups here: every key is top-level

        def rank(widget) -> int:
            if isinstance(widget, FooterKey) and widget.action in self.pinned:
                return self.pinned.index(widget.action)
            return len(self.pinned)
        for widget in widgets:
            # A key bound to our `compact` (all but the command palette's) gets its value now:
            # FooterKey defaults to compact and the binding applies after its mount, so each
            # key was restyled twice at start (class on, class off).
            if isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {}):
                widget.set_reactive(FooterKey.compact, self.compact)
        yield from sorted(widgets, key=rank)  # stable: the others keep Textual's order

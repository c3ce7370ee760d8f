"""A footer that keeps chosen keys (help, filter) first, so they stay visible when a narrow
terminal cuts the row of keys on the right."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class PinnedFooter(Footer):
    """:class:`~textual.widgets.Footer` (compact) with the bindings of ``pinned`` actions first.

    Textual lists the focused widget's keys first and the app's last, so at 80 columns the
    app's `?` and `/` are the first to fall off; pinning moves them to the front.
    """

    def __init__(self, pinned: Iterable[str], **kwargs) -> None:
        kwargs.setdefault("compact", False)
        super().__init__(**kwargs)
        self.pinned = tuple(pinned)

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())  # no binding groups here: every key is top-level

        def rank(widget) -> int:
            if isinstance(widget, FooterKey) and widget.action in self.pinned:
                return self.pinned.index(widget.action)
            return len(self.pinned)
        yield from sorted(widgets, key=rank)  # stable: the others keep Textual's order

"""The key bar at the bottom of the console: the bindings in force, drawn by one widget.

Textual's ``Footer`` is a widget per key (13 on the Nodes pane) that it removes and mounts again
on every bindings change, i.e. on every pane switch: each key styled, laid out and rendered on
its own, and a layout pass of the whole screen. This bar draws the same line (Textual's footer
colours, the command palette's key on the right behind a separator) from a list of keys,
repaints only when the keys changed, runs a key on a click and keeps chosen keys (help,
filter) first, so they stay visible when a narrow terminal cuts the row on the right.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget

from widgets.safe import safe_str


@dataclass(frozen=True)
class FooterItem:
    """One key as the bar shows it."""

    key: str  # what a click simulates
    display: str  # how the key is shown (the app's key display, keymap included)
    description: str
    action: str
    enabled: bool
    tooltip: str


class PinnedFooter(Widget, can_focus=False):
    """The active bindings' keys in one line (the focused widget's first, the app's last), with
    the bindings of ``pinned`` actions first and the command palette's key on the right."""

    DEFAULT_CSS = """
    PinnedFooter {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        & > .footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        & > .footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        & > .footer--hover { background: $block-hover-background; }
        & > .footer--separator { color: $foreground 20%; }
    }
    """

    COMPONENT_CLASSES = {"footer--key", "footer--description", "footer--hover", "footer--separator"}
    ALLOW_SELECT = False

    def __init__(self, pinned: Iterable[str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.pinned = tuple(pinned)
        #: The keys shown (None: not read from the screen yet) and the palette's key.
        self.items: tuple[FooterItem, ...] | None = None
        self.palette: FooterItem | None = None
        self._rebuild_queued = False
        self._hover: int | None = None  # index into items; len(items) is the palette's key

    # ------------------------------------------------------------------ keys

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self.bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def bindings_changed(self, screen: Screen) -> None:
        """The screen's bindings changed (a focus move sends two): read them after the refresh."""
        if not screen.app.app_focus or screen is not self.screen or self._rebuild_queued:
            return
        self._rebuild_queued = True
        self.call_after_refresh(self._rebuild)

    def _rebuild(self) -> None:
        self._rebuild_queued = False
        self.show_keys(*self.keys_in_force())

    def keys_in_force(self) -> tuple[tuple[FooterItem, ...], FooterItem | None]:
        """The keys the screen's active bindings show (one per action, the first binding's),
        pinned ones first, and the command palette's key."""
        app, screen = self.app, self.screen
        items: dict[str, FooterItem] = {}
        for _node, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show and binding.action not in items:
                items[binding.action] = FooterItem(binding.key, safe_str(app.get_key_display(binding), line=True),
                                                   safe_str(binding.description, line=True), binding.action,
                                                   enabled, tooltip)

        def rank(item: FooterItem) -> int:
            return self.pinned.index(item.action) if item.action in self.pinned else len(self.pinned)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and (found := screen.active_bindings.get(app.COMMAND_PALETTE_BINDING)):
            _node, binding, enabled, tooltip = found
            palette = FooterItem(binding.key, safe_str(app.get_key_display(binding), line=True),
                                 safe_str(binding.description, line=True), binding.action, enabled,
                                 binding.tooltip or binding.description)
        return tuple(sorted(items.values(), key=rank)), palette  # stable: the others keep their order

    def show_keys(self, items: tuple[FooterItem, ...], palette: FooterItem | None) -> None:
        """Show ``items`` and the palette's key; a repaint only when they changed."""
        if (items, palette) == (self.items, self.palette):
            return
        self.items, self.palette, self._hover = items, palette, None
        self.refresh()

    # ------------------------------------------------------------------ drawing

    def spans(self) -> list[tuple[FooterItem, int, int]]:
        """Each shown key and the columns it covers (start, end), the palette's key last; keys
        that the palette's key or the width cut off are not listed."""
        if self.items is None:
            self.items, self.palette = self.keys_in_force()
        width = self.size.width
        palette_width = 0 if self.palette is None else len(self.palette.display) + len(self.palette.description) + 3
        room = max(width - palette_width, 0)
        out, x = [], 0
        for item in self.items:
            end = x + len(item.display) + len(item.description) + 3
            if x >= room:
                break
            out.append((item, x, min(end, room)))
            x = end
        if self.palette is not None and palette_width <= width:
            out.append((self.palette, room, width))
        return out

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        background = Style(bgcolor=self.rich_style.bgcolor)
        if y != 0:
            return Strip.blank(width, background)
        key_style = self.get_component_rich_style("footer--key")
        text_style = self.get_component_rich_style("footer--description")
        hover = Style(bgcolor=self.get_component_rich_style("footer--hover").bgcolor)

        def extra(index: int, item: FooterItem) -> Style:
            look = Style() if item.enabled else Style(dim=True)
            return look + hover if index == self._hover else look
        spans = self.spans()
        palette_shown = bool(spans) and spans[-1][0] is self.palette
        room = spans[-1][1] if palette_shown else width
        segments: list[Segment] = []
        for index, (item, _start, _end) in enumerate(spans[:-1] if palette_shown else spans):
            segments += [Segment(f" {item.display} ", key_style + extra(index, item)),
                         Segment(f"{item.description} ", text_style + extra(index, item))]
        strip = Strip(segments).crop(0, room).extend_cell_length(room, background)
        if not palette_shown:
            return strip
        item, last = spans[-1][0], len(spans) - 1
        return Strip.join([strip, Strip([
            Segment("▏", self.get_component_rich_style("footer--separator")),
            Segment(item.display, key_style + extra(last, item)),
            Segment(f" {item.description}", text_style + extra(last, item)),
            Segment(" ", background)])]).crop(0, width)

    # ------------------------------------------------------------------ mouse

    def item_at(self, x: int) -> tuple[int, FooterItem] | None:
        """The index and key shown at column ``x``."""
        for index, (item, start, end) in enumerate(self.spans()):
            if start <= x < end:
                return index, item
        return None

    def on_mouse_move(self, event: events.MouseMove) -> None:
        found = self.item_at(event.x)
        index = found[0] if found else None
        if index != self._hover:
            self._hover = index
            self.tooltip = (found[1].tooltip or None) if found else None
            self.refresh()

    def on_leave(self, _event: events.Leave) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        found = self.item_at(event.x)
        if found is None:
            return
        event.stop()
        if found[1].enabled:
            self.app.simulate_key(found[1].key)
        else:
            self.app.bell()

"""A row of tabs drawn by one widget: the labels and, under them, a bar marking the active one.

Textual's ``Tabs`` (what ``TabbedContent`` shows) is a widget per tab plus containers and an
underline, a dozen widgets each styled, laid out and rendered on their own; a console whose
first frame counts its milliseconds draws the same two lines from one. It looks the same
(Textual's ``Bar`` draws the underline, with the ``Tab``/``Underline`` colours), selects on a
click and posts :class:`TabBar.Clicked`; whoever owns the panes decides what a click does.
Keys are not its business (the app binds them), so it takes no focus.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.renderables.bar import Bar
from textual.strip import Strip
from textual.widget import Widget

from widgets.safe import safe_str


class TabBar(Widget, can_focus=False):
    """Tabs ``(id, label)`` in one line, the active one underlined; :attr:`active` is its id."""

    DEFAULT_CSS = """
    TabBar {
        width: 1fr;
        height: 2;
        & > .tab-bar--tab { color: $foreground 50%; }
        & > .tab-bar--active { color: $foreground; }
        & > .tab-bar--hover { color: $foreground; }
        & > .tab-bar--underline {
            color: $block-cursor-background;
            background: $foreground 10%;
        }
        &:ansi {
            & > .tab-bar--tab { text-style: dim; }
            & > .tab-bar--active { text-style: not dim bold; }
            & > .tab-bar--underline {
                color: $block-cursor-background;
                background: $border-blurred;
            }
        }
    }
    """

    COMPONENT_CLASSES = {"tab-bar--tab", "tab-bar--active", "tab-bar--hover", "tab-bar--underline"}
    ALLOW_SELECT = False

    active: reactive[str] = reactive("")
    """The id of the active tab."""
    _hover: reactive[str] = reactive("")

    class Clicked(Message):
        """The tab ``tab_id`` was clicked."""

        def __init__(self, tab_bar: "TabBar", tab_id: str) -> None:
            super().__init__()
            self.tab_bar = tab_bar
            self.tab_id = tab_id

        @property
        def control(self) -> "TabBar":
            return self.tab_bar

    def __init__(self, tabs: Sequence[tuple[str, str]], *, active: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.tabs = [(tab_id, safe_str(label, line=True)) for tab_id, label in tabs]
        self.set_reactive(TabBar.active, active or (self.tabs[0][0] if self.tabs else ""))

    def spans(self) -> list[tuple[str, int, int]]:
        """Each tab's id and the columns its label (without the padding) covers: start, end."""
        out, x = [], 0
        for tab_id, label in self.tabs:
            out.append((tab_id, x + 1, x + 1 + len(label)))
            x += len(label) + 2  # a cell of padding either side
        return out

    def tab_at(self, x: int) -> str | None:
        """The tab whose cells (padding included) hold column ``x``."""
        for tab_id, start, end in self.spans():
            if start - 1 <= x <= end:
                return tab_id
        return None

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        pad = Style(bgcolor=self.rich_style.bgcolor)  # a tab's padding and the rest: the background only
        if y == 0:
            segments = []
            for tab_id, label in self.tabs:
                kind = "active" if tab_id == self.active else ("hover" if tab_id == self._hover else "tab")
                segments += [Segment(" ", pad), Segment(label, self.get_component_rich_style(f"tab-bar--{kind}")),
                             Segment(" ", pad)]
            return Strip(segments).extend_cell_length(width, pad).crop(0, width)
        if y == 1:
            underline = next(((start, end) for tab_id, start, end in self.spans() if tab_id == self.active), (0, 0))
            style = self.get_component_rich_style("tab-bar--underline")
            bar = Bar(highlight_range=underline, highlight_style=Style.from_color(style.color),
                      background_style=Style.from_color(style.bgcolor))
            console = self.app.console
            return Strip(Segment.apply_style(console.render(bar, console.options.update_width(width)), pad)).crop(0, width)
        return Strip.blank(width, pad)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover = (self.tab_at(event.x) if event.y == 0 else None) or ""

    def on_leave(self, _event: events.Leave) -> None:
        self._hover = ""

    def on_click(self, event: events.Click) -> None:
        tab_id = self.tab_at(event.x)
        if tab_id is not None:
            event.stop()
            self.post_message(self.Clicked(self, tab_id))

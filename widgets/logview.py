"""A log viewer on Textual's Line API: only the visible lines are rendered, however many are held.

Rows are backends' log :data:`~backends.k0s.parsers.logs.Row` tuples (time as epoch seconds or
None, host, level, component, message, stream, kind): tuples, so that the collector does not
walk the tens of thousands held. New rows arrive through :meth:`add` as often as they come; the
view re-measures and repaints at most :data:`FRAME` seconds apart, so thousands of lines per
second cost a few repaints, not thousands. Host text is never markup: segments carry plain
text, and control characters are shown as ``\\xNN``.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backends.k0s.parsers.logs import COMPONENT, HOST, KIND, LEVEL, MESSAGE, TIME, Row, visible
from widgets.directkeys import DirectBindings
from widgets.style import level_style

#: Seconds between repaints while lines stream in.
FRAME = 0.05
#: Seconds between two StateChanged messages caused by streaming alone (counts).
STATUS_EVERY = 0.5
LEVEL_ORDER = {"trace": 0, "debug": 1, "info": 2, "": 2, "warning": 3, "error": 4, "fatal": 5, "panic": 5}
_LEVEL_LABEL = {"warning": "WARN", "error": "ERROR", "fatal": "FATAL", "panic": "PANIC", "info": "INFO",
                "debug": "DEBUG", "trace": "TRACE", "": "-"}
_LEVEL_STYLE = {"warning": "warning", "error": "error", "fatal": "error", "panic": "error",
                "debug": "muted", "trace": "muted"}

class LogFilter:
    """What a view shows: components (empty = all), a minimum level, a text/regex (``!`` inverts)."""

    def __init__(self, text: str = "", components: frozenset[str] = frozenset(), min_level: str = "") -> None:
        self.text = text
        self.components = components
        self.min_level = min_level
        self.invert = text.startswith("!")
        body = text[1:] if self.invert else text
        try:
            self.pattern: re.Pattern[str] | None = re.compile(body, re.IGNORECASE) if body else None
        except re.error:
            self.pattern = re.compile(re.escape(body), re.IGNORECASE)
        self._min = LEVEL_ORDER.get(min_level, 0)

    @property
    def active(self) -> bool:
        return bool(self.pattern or self.components or self._min)

    def __call__(self, row: Row) -> bool:
        if row[KIND] == "error":  # the console's own errors always show
            return True
        if self.components and row[COMPONENT] not in self.components:
            return False
        if self._min and LEVEL_ORDER.get(row[LEVEL], 2) < self._min:
            return False
        if self.pattern is not None:
            hit = self.pattern.search(row[MESSAGE]) is not None or self.pattern.search(row[COMPONENT]) is not None
            return hit != self.invert
        return True


class LogView(DirectBindings, ScrollView, can_focus=True):
    """Columns time, host, level, component, message; follow, wrap, filters, highlighted matches."""

    BINDINGS = [
        Binding("f", "toggle_follow", "Follow", id="logs.follow"),
        Binding("w", "toggle_wrap", "Wrap", id="logs.wrap"),
        Binding("end,G", "scroll_end", "End", show=False, id="logs.end"),
        Binding("home,g", "scroll_home", "Top", show=False, id="logs.top"),
    ]
    DEFAULT_CSS = "LogView { height: 1fr; scrollbar-size-vertical: 1; }"

    class StateChanged(Message):
        """Follow, wrap, filter or counts changed (for a status line)."""

    def __init__(self, *, show_host: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[Row] = []          # what the filter lets through, in time order
        self.total = 0                      # rows offered, all time
        self.follow = True
        self.wrap = False
        self.show_host = show_host
        self.flt = LogFilter()
        self.components: set[str] = set()
        self._source: Callable[[], Sequence[Row]] | None = None
        self._dirty = False
        self._host_w = 4
        self._comp_w = 9
        self._wrap_cum: list[int] = []      # wrap mode: first visual line of each row (absolute)
        self._wrap_base = 0
        self._wrap_width = 0
        self._styles: dict[str, Style] = {}
        self._told = 0.0

    # ------------------------------------------------------------------ the table interface

    @property
    def filter_text(self) -> str:
        return self.flt.text

    @property
    def marked(self) -> frozenset[str]:
        return frozenset()

    def clear_marks(self) -> None:
        """Logs have no marks (the app's esc calls this on tables)."""

    def set_filter(self, query: str) -> None:
        """``/`` text: a regex (a bad one is taken literally), ``!`` inverts, empty clears."""
        self.set_log_filter(LogFilter(query, self.flt.components, self.flt.min_level))

    def set_log_filter(self, flt: LogFilter) -> None:
        self.flt = flt
        self.rebuild()
        self._changed(True)

    # ------------------------------------------------------------------ data

    def bind_source(self, source: Callable[[], Sequence[Row]]) -> None:
        """Where :meth:`rebuild` re-reads all rows from (the pane's ring buffer)."""
        self._source = source

    def rebuild(self) -> None:
        """Re-apply the filter to every row of the source."""
        rows = list(self._source()) if self._source is not None else list(self.rows)
        self.rows = [r for r in rows if self.flt(r)] if self.flt.active else rows
        self._measure(rows)
        self._wrap_cum = []
        self._changed()

    def add(self, new: Iterable[Row], evicted: Sequence[Row] = (), in_order: bool = True) -> None:
        """Rows appended to the source (``evicted``: those that fell out of it)."""
        if not in_order:
            self.rebuild()
            return
        flt = self.flt
        added = [r for r in new if flt(r)] if flt.active else list(new)
        self._measure(added)
        self.total += len(added)
        trim = sum(1 for r in evicted if flt(r)) if flt.active else len(evicted)
        if trim:
            trim = min(trim, len(self.rows))
            del self.rows[:trim]
            if self._wrap_cum:
                self._wrap_base = self._wrap_cum[trim] if trim < len(self._wrap_cum) else self._wrap_base
                del self._wrap_cum[:trim]
            if not self.follow and not self.wrap:
                self.scroll_to(y=max(0, self.scroll_y - trim), animate=False, immediate=True)
        self.rows += added
        if self.wrap and self._wrap_cum:
            self._extend_wrap(len(self.rows) - len(added))
        self._changed()

    def clear(self) -> None:
        self.rows = []
        self._wrap_cum = []
        self._changed()

    def _measure(self, rows: Sequence[Row]) -> None:
        """Widen the host and component columns for ``rows``; note their components."""
        if not rows:
            return
        widest = max(len(h) for h in {r[HOST] for r in rows})
        if widest > self._host_w:
            self._host_w = min(24, widest)
        new = {r[COMPONENT] for r in rows} - self.components
        new.discard("")
        if new:
            self.components |= new
            self._comp_w = min(24, max(self._comp_w, *(len(c) for c in new)))

    def _changed(self, state: bool = False) -> None:
        self._dirty = True
        if state:  # follow/wrap/filter: say so at once
            self._told = 0.0

    def on_mount(self) -> None:
        self.set_interval(FRAME, self._frame)
        self._frame()

    def _frame(self) -> None:
        """Coalesced repaint: re-measure once, scroll to the end when following."""
        if not self._dirty:
            # A scroll made in the frame that grew the view is clamped to the old size: the
            # last line would stay hidden until the next line arrives.
            if self.follow and self.scroll_offset.y < self.max_scroll_y:
                self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True)
            return
        self._dirty = False
        self._styles = {}
        height = self._wrapped_height() if self.wrap else len(self.rows)
        self.virtual_size = Size(self._prefix_width() + 400 if not self.wrap else self.size.width, height)
        if self.follow:
            self.scroll_to(y=max(0, height - self.size.height), animate=False, immediate=True)
        self.refresh()
        now = time.monotonic()
        if now - self._told >= STATUS_EVERY:  # a status line re-layout costs: a few times a second
            self._told = now
            self.post_message(self.StateChanged())

    # ------------------------------------------------------------------ wrap bookkeeping

    def _msg_width(self) -> int:
        return max(10, self.size.width - self._prefix_width() - 1)

    def _row_height(self, row: Row) -> int:
        n = len(row[MESSAGE])
        w = self._msg_width()
        return max(1, -(-n // w))

    def _extend_wrap(self, start: int) -> None:
        cum = self._wrap_cum
        nxt = (cum[-1] + self._row_height(self.rows[len(cum) - 1])) if cum else self._wrap_base
        for row in self.rows[len(cum):]:
            cum.append(nxt)
            nxt += self._row_height(row)

    def _wrapped_height(self) -> int:
        if not self.rows:
            return 0
        if not self._wrap_cum or self._wrap_width != self.size.width:
            self._wrap_width = self.size.width
            self._wrap_cum, self._wrap_base = [], 0
            self._extend_wrap(0)
        if len(self._wrap_cum) < len(self.rows):
            self._extend_wrap(len(self._wrap_cum))
        last = self.rows[-1]
        return self._wrap_cum[-1] + self._row_height(last) - self._wrap_base

    def on_resize(self) -> None:
        self._wrap_cum = []
        self._changed()

    # ------------------------------------------------------------------ rendering

    def _prefix_width(self) -> int:
        return 13 + (self._host_w + 1 if self.show_host else 0) + 6 + self._comp_w + 1

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            if name == "match":
                style = Style(reverse=True, bold=True)
            elif name == "dim":
                style = Style(dim=True)
            elif name == "host":
                style = Style(bold=True)
            else:
                style = level_style(self.app, name)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        line = scroll_y + y
        if self.wrap:
            return self._render_wrapped(line, width)
        if line >= len(self.rows):
            return Strip.blank(width)
        row = self.rows[line]
        segments = self._prefix(row) + self._message(row, visible(row[MESSAGE]))
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width)

    def _render_wrapped(self, line: int, width: int) -> Strip:
        cum = self._wrap_cum
        if not cum or not self.rows:
            return Strip.blank(width)
        target = line + self._wrap_base
        i = bisect.bisect_right(cum, target) - 1
        if i < 0 or i >= len(self.rows):
            return Strip.blank(width)
        row = self.rows[i]
        part = target - cum[i]
        w = self._msg_width()
        text = visible(row[MESSAGE])
        chunk = text[part * w:(part + 1) * w]
        if part >= self._row_height(row):
            return Strip.blank(width)
        prefix = self._prefix(row) if part == 0 else [Segment(" " * self._prefix_width())]
        return Strip(prefix + self._message(row, chunk)).crop(0, width).extend_cell_length(width)

    def _prefix(self, row: Row) -> list[Segment]:
        when = _clock(row[TIME])
        level = row[LEVEL] or ""
        segs = [Segment(when + " ", self._style("dim"))]
        if self.show_host:
            segs.append(Segment(visible(row[HOST])[: self._host_w].ljust(self._host_w) + " ", self._style("host")))
        style = self._style(_LEVEL_STYLE[level]) if level in _LEVEL_STYLE else Style()
        segs.append(Segment(_LEVEL_LABEL.get(level, visible(level[:5]).upper()).ljust(5) + " ", style))
        segs.append(Segment(visible(row[COMPONENT])[: self._comp_w].ljust(self._comp_w) + " ", self._style("dim")))
        return segs

    def _message(self, row: Row, text: str) -> list[Segment]:
        style = self._style("error") if row[KIND] == "error" else Style()
        pattern = self.flt.pattern
        if pattern is None or self.flt.invert:
            return [Segment(text, style)]
        segs: list[Segment] = []
        pos = 0
        for m in pattern.finditer(text):
            if m.end() == m.start():
                continue
            segs.append(Segment(text[pos:m.start()], style))
            segs.append(Segment(m.group(0), self._style("match")))
            pos = m.end()
            if len(segs) > 200:
                break
        segs.append(Segment(text[pos:], style))
        return segs

    # ------------------------------------------------------------------ actions

    def action_toggle_follow(self) -> None:
        """Follow the end, or stay put (lines keep arriving in the buffer)."""
        self.follow = not self.follow
        self._changed(True)

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._wrap_cum = []
        self.scroll_to(x=0, animate=False, immediate=True)
        self._changed(True)

    def action_scroll_end(self) -> None:
        self.follow = True
        self._changed()

    def action_scroll_home(self) -> None:
        self.follow = False
        self.scroll_to(y=0, animate=False, immediate=True)
        self._changed()

    def on_mouse_scroll_up(self) -> None:
        self.follow = False

    # Moving up leaves follow mode (the view stays where the reader is).
    def action_scroll_up(self) -> None:
        self.follow = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.follow = False
        super().action_page_up()

    def export_lines(self) -> list[str]:
        """The rows shown (filter applied) as plain text lines, control characters visible."""
        out = []
        for r in self.rows:
            try:
                when = datetime.fromtimestamp(r[TIME]).isoformat(timespec="microseconds") if r[TIME] else "-"
            except (OverflowError, OSError, ValueError):
                when = "-"
            out.append(" ".join(visible(x) for x in (when, r[HOST], r[LEVEL] or "-", r[COMPONENT] or "-", r[MESSAGE])))
        return out


def _clock(when: float | None) -> str:
    """``10:15:42.123`` (local time) of a row, dashes when it has none (or an impossible one)."""
    if not when:
        return "-" * 12
    try:
        return datetime.fromtimestamp(when).strftime("%H:%M:%S.%f")[:12]
    except (OverflowError, OSError, ValueError):
        return "-" * 12

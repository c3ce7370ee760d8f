"""ResourceTable: a keyed, filterable, sortable, markable table for big live data.

Built on Textual's Line API (a ``ScrollView`` drawing only the rows on screen, one
:class:`~textual.strip.Strip` per line, cached by row version), with the rows, filter, sort and
marks in a :class:`~widgets.tablemodel.TableModel` of plain strings. The owner calls
:meth:`ResourceTable.upsert` with one row's cells; a cell is a ``str``, a number, ``None``
(shown as "-"), a :class:`~widgets.tablemodel.Cell` (text plus a status level coloured from the
theme when drawn) or a Rich ``Text`` (its plain text and base style are kept). Text is always
taken literally (never markup) and control characters are replaced before they are stored.

Filter: substring (case-insensitive) or, when it compiles and contains regex characters, a
regex; a leading ``!`` inverts; a line at the bottom shows the filter and "N of M rows". Sort:
``s`` cycles the sort column, ``S`` reverses, a shift-letter sorts by the first column whose
label starts with that letter; the sorted column's header shows ``▲``/``▼``. ``space`` marks rows.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from backends.pool import Pool
from backends.safetext import clean_line
from widgets.directkeys import DirectBindings
from widgets.style import level_style
from widgets.tablemodel import Cell, CellValue, TableModel, row_matcher

__all__ = ["Cell", "Col", "ResourceTable", "row_matcher", "MARK"]

MARK = "●"
#: Longest wait (seconds) before a big table that keeps changing is re-sorted.
SORT_MAX_INTERVAL = 2.0
SORT_UP, SORT_DOWN = "▲", "▼"
_STYLES: dict[Style, Style] = {}
#: Longest cell text stored once for all equal cells (``sys.intern``), and the most distinct
#: coloured cells kept shared: a fleet's tables repeat a ref, a size, a state on every host.
SHARED_CELL_MAX = 256
_CELLS: Pool[Cell, Cell] = Pool()


@dataclass(frozen=True)
class Col:
    """A column: key, header label, optional width."""

    key: str
    label: str
    width: int | None = None


class RowKey(NamedTuple):
    """A row's key as messages carry it (``.value``, like DataTable's RowKey)."""

    value: str


def to_cell(value: Any) -> CellValue:
    """A stored cell from any value a pane passes (see module doc). The single point where cell
    text enters the table: C0/C1 controls and DEL are made visible here (``\x1b``), never emitted,
    and a cell stays one line."""
    if isinstance(value, str):
        return _shared_text(clean_line(value))
    if isinstance(value, Cell):
        return _shared_cell(value._replace(text=_shared_text(clean_line(value.text))))
    if isinstance(value, Text):
        style = value.style if value.style else None
        if isinstance(style, str):
            style = Style.parse(style)
        if style:
            style = _STYLES.setdefault(style, style)  # one object per distinct style
        plain = clean_line(value.plain)
        return Cell(plain, style=style) if style else plain
    if value is None:
        return "-"
    return _shared_text(clean_line(str(value)))


def _shared_text(text: str) -> str:
    return sys.intern(text) if len(text) <= SHARED_CELL_MAX else text


def _shared_cell(value: Cell) -> Cell:
    """One object for equal coloured cells (a bounded pool)."""
    try:
        return _CELLS.share(value, lambda: value)
    except TypeError:  # an unhashable style: kept as it is
        return value


def cell(value: Any, app: Any = None) -> Text:
    """A Rich Text for any cell value (literal text, never markup); a level is coloured from
    ``app``'s theme."""
    c = to_cell(value)
    if isinstance(c, Cell):
        style = c.style or (level_style(app, c.level, bold=c.bold) if c.level else Style(bold=c.bold))
        return Text(c.text, style=style, end="", no_wrap=True)
    return Text(c, end="", no_wrap=True)


#: Lines of rendered rows kept per table (and as many cropped ones).
STRIP_CACHE_LINES = 128


class ResourceTable(DirectBindings, ScrollView, can_focus=True):
    """A keyed, filterable, sortable, markable table (see module doc)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "resource-table--header", "resource-table--cursor", "resource-table--even-row",
        "resource-table--odd-row", "resource-table--footer",
    }

    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        &:focus { background-tint: $foreground 5%; }
        & > .resource-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .resource-table--even-row { background: $surface-lighten-1 50%; }
        & > .resource-table--odd-row { }
        & > .resource-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .resource-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .resource-table--footer { background: $panel; color: $warning; text-style: bold; }
    }
    """

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", id="table.mark"),
        Binding("s", "cycle_sort", "Sort", id="table.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="table.reverse"),
        Binding("j,down", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k,up", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g,home", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G,end", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("enter", "select_cursor", "Select", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=False, repaint=False)

    class RowHighlighted(Message):
        """The cursor moved onto another row."""

        def __init__(self, table: "ResourceTable", cursor_row: int, key: str | None) -> None:
            super().__init__()
            self.data_table = table
            self.cursor_row = cursor_row
            self.row_key = RowKey(key) if key is not None else None

        @property
        def control(self) -> "ResourceTable":
            return self.data_table

    class RowSelected(RowHighlighted):
        """Enter (or a click on the cursor row) chose a row."""

    def __init__(self, columns: Iterable[Col], *, markable: bool = True, sort_column: str | None = None,
                 zebra_stripes: bool = True, **kwargs: Any) -> None:
        kwargs.pop("cursor_type", None)
        super().__init__(**kwargs)
        self.cols = list(columns)
        self.markable = markable
        self.zebra_stripes = zebra_stripes
        self.model = TableModel([c.key for c in self.cols], sort_column)
        self._shown: list[str] = []  # the view as last drawn (synced from the model)
        self._synced = -1
        self._cursor_key: str | None = None  # the row the cursor follows (None: stays at the top)
        self._defer_sort = 0
        self._sort_at = 0.0
        self._sort_cost = 0.0
        self._sync_pending = False
        # About two screens: every Strip keeps caches of the strips cut from it (Textual's
        # compositor divides each line), so a cached line costs several Strips.
        self._strips: LRUCache[tuple, Strip] = LRUCache(STRIP_CACHE_LINES)
        self._crops: LRUCache[tuple, tuple[Strip, Strip]] = LRUCache(STRIP_CACHE_LINES)  # (strip, its visible part)
        self._styles: dict[tuple, Style] = {}
        self._widths: tuple[int, ...] = ()
        self._drawn: tuple | None = None  # what _refresh_window saw last
        self._rich_style: Style | None = None
        self._highlighted: str | None = None  # the key RowHighlighted last named
        self._frame: tuple[int, int, int, int] | None = None

    # ------------------------------------------------------------------ compatibility

    @property
    def sort_column(self) -> str | None:
        return self.model.sort_column

    @sort_column.setter
    def sort_column(self, column: str | None) -> None:
        self.model.sort_by(column, self.model.sort_reverse)
        self._sync()

    @property
    def sort_reverse(self) -> bool:
        return self.model.sort_reverse

    @property
    def marked(self) -> set[str]:
        return self.model.marked

    @property
    def filter_text(self) -> str:
        return self.model.filter_text

    @property
    def row_count(self) -> int:
        """Rows shown (passing the filter)."""
        return self.model.shown_count

    # ------------------------------------------------------------------ data

    @property
    def keys(self) -> list[str]:
        """Every stored row key (filtered out or not), in insertion order."""
        return list(self.model.rows)

    def visible_keys(self) -> list[str]:
        """Row keys shown now, top to bottom."""
        self._sync()
        return list(self._shown)

    def row_text(self, key: str) -> str:
        row = self.model.rows.get(key)
        return row.text if row is not None else ""

    def row_values(self, key: str) -> dict[str, Text]:
        """The stored cells of row ``key`` by column key, as Rich Texts (a copy)."""
        row = self.model.rows.get(key)
        if row is None:
            return {}
        return {c: cell(v, self.app) for c, v in zip(self.model.columns, row.cells)}

    def get_cell(self, key: str, column: str) -> Text:
        """One stored cell as a Rich Text."""
        value = self.model.cell(key, column)
        if value is None:
            raise KeyError((key, column))
        return cell(value, self.app)

    def cell_text(self, key: str, column: str) -> str:
        """Plain text of one stored cell ("" when absent)."""
        value = self.model.cell(key, column)
        if value is None:
            return ""
        return value.text if isinstance(value, Cell) else value

    def upsert(self, key: str, values: dict[str, Any], sort_values: dict[str, Any] | None = None,
               restyle: Collection[str] = ()) -> None:
        """Insert or update row ``key``. ``restyle`` is accepted for callers of the old table:
        a cell's style is always part of the row now, so a colour change always shows."""
        cols = self.model.columns
        cells = [to_cell(values.get(c)) for c in cols]
        svals = None
        if sort_values:
            svals = [sort_values.get(c, v) if c in sort_values else v for c, v in zip(cols, cells)]
        if self.model.upsert(key, cells, svals):
            self._changed()

    def has_key(self, key: str) -> bool:
        """Whether row ``key`` is stored (shown or filtered out); O(1)."""
        return key in self.model

    def discard(self, key: str) -> None:
        """Forget row ``key``."""
        if key in self.model:
            self.model.discard(key)
            self._changed()

    def retain(self, keys: Iterable[str]) -> None:
        """Drop every row whose key is not in ``keys``."""
        before = self.model.changes
        self.model.retain(keys)
        if self.model.changes != before:
            self._sync()

    def clear(self) -> None:
        """Forget every row."""
        self.retain(())

    # ------------------------------------------------------------------ columns

    def add_column(self, label: str, *, key: str, width: int | None = None, default: Any = "",
                   before: str | None = None) -> None:
        """Add a column at the end, or in front of column ``before`` (existing rows show ``default``)."""
        keys = [c.key for c in self.cols]
        if key not in keys:
            self.cols.insert(keys.index(before) if before in keys else len(keys), Col(key, label, width))
        self.model.add_column(key, to_cell(default), before=before)
        self._sync()

    def remove_column(self, key: str) -> None:
        """Drop a column."""
        for c in list(self.cols):
            if c.key == key:
                self.cols.remove(c)
        self.model.remove_column(key)
        self._sync()

    # ------------------------------------------------------------------ filter / sort

    def set_filter(self, query: str) -> None:
        """Show only rows matching ``query`` (see module doc)."""
        self.model.set_filter(query)
        self._sync(force_sort=True)

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column`` (kept on later updates)."""
        if reverse is None:
            reverse = self.sort_reverse if column == self.sort_column else False
        self.model.sort_by(column, reverse)
        self._sync(force_sort=True)

    def sort(self, column: str, reverse: bool = False) -> None:
        """Alias of :meth:`sort_by` (DataTable's name)."""
        self.sort_by(column, reverse)

    @contextmanager
    def deferred_sort(self) -> Iterator[None]:
        """Many upserts, one sort at the end."""
        self._defer_sort += 1
        try:
            yield
        finally:
            self._defer_sort -= 1
            if not self._defer_sort:
                self._changed()

    def resort_soon(self) -> None:
        """Sort (and redraw) once the current burst of updates is over."""
        self._changed()

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in self.cols]
        nxt = keys[0] if self.sort_column not in keys else keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_by(nxt, False)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column or self.cols[0].key, not self.sort_reverse)

    def notify_sort(self) -> None:
        """Kept for callers of the old table: the header shows the sort now."""
        self.refresh()

    def on_key(self, event: events.Key) -> None:
        # Shift-letter: sort by the first column whose label starts with that letter.
        ch = event.character or ""
        if len(ch) == 1 and ch.isupper() and event.key not in self._bound_keys():
            for c in self.cols:
                if c.label.upper().startswith(ch):
                    self.sort_by(c.key, not self.sort_reverse if c.key == self.sort_column else False)
                    event.stop()
                    event.prevent_default()
                    return

    def _bound_keys(self) -> set[str]:
        # A key bound anywhere in the focus chain (or rebound by the user's keymap) wins.
        try:
            return set(self.screen.active_bindings)
        except Exception:  # noqa: BLE001 - not mounted on a screen
            return set()

    # ------------------------------------------------------------------ syncing model and view

    def _changed(self) -> None:
        """The model changed: sync on the next idle moment, at most every 10x a sort's cost."""
        if self._defer_sort or self._sync_pending or not self.is_attached:
            return
        self._sync_pending = True
        delay = self._sort_at + min(SORT_MAX_INTERVAL, 10 * self._sort_cost) - time.monotonic()
        if delay > 0.001:
            self.set_timer(delay, self._scheduled_sync)
        else:
            self.call_later(self._scheduled_sync)

    def _scheduled_sync(self) -> None:
        self._sync_pending = False
        self._sync()

    def _sync(self, force_sort: bool = False) -> None:
        """Take the model's current view: rows shown, their order, the cursor on its row."""
        model = self.model
        if model.changes == self._synced and not force_sort:
            return
        t0 = time.perf_counter()
        view = model.view()
        self._sort_cost = time.perf_counter() - t0
        self._sort_at = time.monotonic()
        self._synced = model.changes
        self._shown = view
        self._widths = self._measure()
        row = model.position(self._cursor_key) if self._cursor_key is not None else None
        if row is None:
            row = min(self.cursor_row, max(0, len(view) - 1))
            self._cursor_key = view[row] if view and self._cursor_key is not None else self._cursor_key
        widths = self._widths
        size = Size(sum(widths) + len(widths) * 2, len(view) + 1 + self._footer_lines())
        if size != self.virtual_size:
            self.virtual_size = size
        self.cursor_row = row
        self._note_highlight()
        self._update_subtitle()
        self._scroll_to_cursor()
        self._refresh_window()

    def keys_on_screen(self) -> list[str]:
        """Keys of the rows drawn now, top to bottom."""
        top = int(self.scroll_offset.y)
        return list(self._shown[top:top + self._data_height()])

    def _window(self) -> tuple[int, list[tuple[str, int] | None]]:
        """The rows on screen now: (first view index, [(key, version) per line])."""
        top = int(self.scroll_offset.y)
        rows = self.model.rows
        window: list[tuple[str, int] | None] = []
        for key in self._shown[top:top + self._data_height()]:
            row = rows.get(key)
            window.append((key, row.version) if row is not None else None)
        return top, window

    def _refresh_window(self) -> None:
        """Repaint only the lines whose row changed (a big table mostly changes off screen)."""
        state = (self._widths, self.cursor_row, self.model.filter_text, self.model.shown_count,
                 len(self.model), self.sort_column, self.sort_reverse, self.size)
        top, window = self._window()
        last = self._drawn
        self._drawn = (state, top, window)
        if last is None or last[0] != state or last[1] != top or len(last[2]) != len(window):
            self.refresh()
            return
        width = self.size.width
        for i, (a, b) in enumerate(zip(last[2], window)):
            if a != b:
                self.refresh(Region(0, i + 1, width, 1))

    def _measure(self) -> tuple[int, ...]:
        widths = [1] if self.markable else []
        for c, w in zip(self.cols, self.model.widths):
            label = cell_len(c.label) + (2 if c.key == self.model.sort_column else 0)  # " ▲"
            widths.append(c.width if c.width else max(w, label))
        return tuple(widths)

    def _footer_lines(self) -> int:
        return 1 if self.model.filter_text else 0

    def _update_subtitle(self) -> None:
        m = self.model
        subtitle = f"{m.shown_count:,} of {len(m):,} rows" if m.filter_text else ""
        if subtitle != self.border_subtitle:  # (setting it repaints the whole table)
            self.border_subtitle = subtitle

    # ------------------------------------------------------------------ cursor and marks

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self._note_highlight()

    def _note_highlight(self) -> None:
        """Post RowHighlighted when the row under the cursor is another one (the cursor moved,
        or the first row arrived under it)."""
        row = self.cursor_row
        key = self._shown[row] if 0 <= row < len(self._shown) else None
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(self.RowHighlighted(self, row, key))

    def move_cursor(self, *, row: int | None = None, column: int | None = None, animate: bool = False,
                    scroll: bool = True) -> None:
        """Put the cursor on view row ``row`` (clamped); it then follows that row's key."""
        self._sync()
        if row is None or not self._shown:
            return
        row = max(0, min(row, len(self._shown) - 1))
        self._cursor_key = self._shown[row]
        self.cursor_row = row

    @property
    def cursor_key(self) -> str | None:
        """Key of the row the cursor was on at the last sync, without syncing (cheap: for
        checking on every row update whether it is the selected one)."""
        if self._cursor_key is not None:
            return self._cursor_key
        return self._shown[self.cursor_row] if 0 <= self.cursor_row < len(self._shown) else None

    def selected_key(self) -> str | None:
        """Key of the row under the cursor (None when empty)."""
        self._sync()
        if 0 <= self.cursor_row < len(self._shown):
            return self._shown[self.cursor_row]
        return None

    def select_key(self, key: str | None) -> None:
        """Move the cursor to row ``key`` when shown."""
        self._sync()
        if key is None:
            return
        row = self.model.position(key)
        if row is not None:
            self.move_cursor(row=row)

    def target_keys(self) -> list[str]:
        """Marked rows that are shown (in table order), else the row under the cursor."""
        return self.model.target_keys(self.selected_key())

    def action_toggle_mark(self) -> None:
        key = self.selected_key()
        if key is None or not self.markable:
            return
        self.model.toggle_mark(key)
        self._strips.clear()
        self.move_cursor(row=self.cursor_row + 1)
        self.refresh()

    def clear_marks(self) -> None:
        self.model.clear_marks()
        self._strips.clear()
        self.refresh()

    def _data_height(self) -> int:
        return max(1, self.scrollable_content_region.height - 1 - self._footer_lines())

    def _scroll_to_cursor(self) -> None:
        if not self.is_attached:
            return
        top, height = int(self.scroll_offset.y), self._data_height()
        row = self.cursor_row
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def action_cursor_down(self) -> None:
        self.move_cursor(row=self.cursor_row + 1)

    def action_cursor_up(self) -> None:
        self.move_cursor(row=self.cursor_row - 1)

    def action_scroll_top(self) -> None:
        self.move_cursor(row=0)

    def action_scroll_bottom(self) -> None:
        self.move_cursor(row=len(self._shown) - 1)

    def action_page_down(self) -> None:
        self.move_cursor(row=self.cursor_row + self._data_height())

    def action_page_up(self) -> None:
        self.move_cursor(row=self.cursor_row - self._data_height())

    def action_select_cursor(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, key))

    def on_click(self, event: events.Click) -> None:
        row = event.y - 1 + int(self.scroll_offset.y)
        if event.y >= 1 and 0 <= row < len(self._shown):
            again = row == self.cursor_row
            self.move_cursor(row=row)
            if again or event.chain > 1:
                self.action_select_cursor()

    def on_mount(self) -> None:
        self._sync(force_sort=True)

    def on_resize(self) -> None:
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self._restyled()

    def on_blur(self) -> None:
        self._restyled()

    def on_hide(self) -> None:
        # A table on a pane not shown keeps no rendered lines (they are redrawn on show).
        self._strips.clear()
        self._crops.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyled()

    def _restyled(self) -> None:
        self._strips.clear()
        self._crops.clear()
        self._styles.clear()
        self._rich_style = None

    # ------------------------------------------------------------------ drawing

    @property
    def _base_style(self) -> Style:
        # Widget.rich_style walks every ancestor (a fraction of a millisecond): once per style change.
        if self._rich_style is None:
            self._rich_style = self.rich_style
        return self._rich_style

    def render_lines(self, crop: Region) -> list[Strip]:
        # Geometry read once per paint, not once per line.
        region = self.scrollable_content_region
        self._frame = (region.width, region.height, int(self.scroll_offset.x), int(self.scroll_offset.y))
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        if self._frame is None:
            region = self.scrollable_content_region
            width, height, scroll_x, scroll_y = region.width, region.height, *map(int, self.scroll_offset)
        else:
            width, height, scroll_x, scroll_y = self._frame
        base = self._base_style
        if y == 0:
            strip = self._header_strip()
        elif self._footer_lines() and y == height - 1:
            return self._footer_strip(width)
        else:
            index = scroll_y + y - 1
            if not 0 <= index < len(self._shown):
                return Strip.blank(width, base)
            strip = self._row_strip(index)
        # The cropped strip is cached with the row's: an unchanged line costs no new Strip.
        crop_key = (id(strip), scroll_x, width)
        cropped = self._crops.get(crop_key)
        if cropped is None or cropped[0] is not strip:
            cropped = (strip, strip.crop_extend(scroll_x, scroll_x + width, base))
            self._crops[crop_key] = cropped
        return cropped[1]

    def _header_strip(self) -> Strip:
        cache_key = ("header", self._widths, self.sort_column, self.sort_reverse, tuple(c.label for c in self.cols))
        strip = self._strips.get(cache_key)
        if strip is None:
            style = self._base_style + self.get_component_rich_style("resource-table--header")
            labels = [" "] if self.markable else []
            for c in self.cols:
                arrow = f" {SORT_DOWN if self.sort_reverse else SORT_UP}" if c.key == self.sort_column else ""
                labels.append(c.label + arrow)
            segs = [Segment(" " + set_cell_size(t, w) + " ", style) for t, w in zip(labels, self._widths)]
            strip = Strip(segs)
            self._strips[cache_key] = strip
        return strip

    def _footer_strip(self, width: int) -> Strip:
        m = self.model
        style = self._base_style + self.get_component_rich_style("resource-table--footer")
        text = f" filter: {clean_line(m.filter_text)}  —  {m.shown_count:,} of {len(m):,} rows  (esc clears)"
        return Strip([Segment(set_cell_size(text, width), style)])

    def _row_strip(self, index: int) -> Strip:
        key = self._shown[index]
        row = self.model.rows.get(key)
        if row is None:  # discarded since the last sync
            return Strip.blank(sum(self._widths) + 2 * len(self._widths), self._base_style)
        cursor = index == self.cursor_row
        marked = key in self.model.marked
        even = index % 2 == 0 and self.zebra_stripes
        cache_key = (key, row.version, cursor, marked, even, self._widths)
        strip = self._strips.get(cache_key)
        if strip is not None:
            return strip
        name = "resource-table--even-row" if even else "resource-table--odd-row"
        base = self._base_style + self.get_component_rich_style(name)
        # The cursor's colours win over a cell's own (as in DataTable).
        over = self.get_component_rich_style("resource-table--cursor") if cursor else None
        segs: list[Segment] = []
        widths = iter(self._widths)
        if self.markable:
            segs.append(Segment(" " + set_cell_size(MARK if marked else " ", next(widths)) + " ",
                                 base + over if over else base))
        for value, w in zip(row.cells, widths):
            style = self._cell_style(base, value) if isinstance(value, Cell) else base
            segs.append(Segment(" " + set_cell_size(value if isinstance(value, str) else value.text, w) + " ",
                                style + over if over else style))
        strip = Strip(segs)
        self._strips[cache_key] = strip
        return strip

    def _cell_style(self, base: Style, value: Cell) -> Style:
        key = (base, value.level, value.bold, value.style)
        style = self._styles.get(key)
        if style is None:
            extra = value.style if value.style is not None else (
                level_style(self.app, value.level, bold=value.bold) if value.level else Style(bold=value.bold))
            style = self._styles[key] = base + extra
        return style

"""ResourceTable: a DataTable kept in sync by row key, with filter, sort and marks.

The owner calls :meth:`ResourceTable.upsert` with one row's cells; only cells that changed are
updated (``update_cell``), new rows are added, rows that stop matching the filter are removed.
Filter: substring (case-insensitive) or, when it compiles and contains regex characters, a
regex; a leading ``!`` inverts. Sort: ``s`` cycles the sort column, ``S`` reverses, and a
shift-letter sorts by the first column whose label starts with that letter. ``space`` marks
rows. Every cell passes through :func:`cell` so untrusted strings are never markup.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from widgets.safe import safe_str, safe_text

MARK = "●"
#: Longest wait (seconds) for a deferred sort while a big table keeps changing.
SORT_MAX_INTERVAL = 5.0
#: retain() rebuilds the table instead of removing rows one by one beyond this many.
BULK_REMOVE = 200
_REGEX_CHARS = re.compile(r"[\\^$.*+?()\[\]{}|]")


def cell(value: Any) -> Text:
    """A table cell from any value; strings become plain Text (no markup parsing)."""
    # The single point where cell text enters the table: controls are made visible here.
    if isinstance(value, Text):
        return safe_text(value, line=True)
    if value is None:
        return Text("-", end="")
    return Text(safe_str(value, line=True), end="", no_wrap=True)


def _same_cell(a: Text | None, b: Text, restyle: bool) -> bool:
    """Whether cell ``a`` can stay for ``b``. Text's own == ignores the base style; with
    ``restyle`` the style counts too (a cell that only changes colour is updated)."""
    if a is None or a != b:
        return False
    return not restyle or a.style == b.style


def row_matcher(query: str) -> Callable[[str], bool]:
    """Predicate over a row's plain text for a filter query (substring / regex / ``!`` inverts)."""
    invert = query.startswith("!")
    q = query[1:] if invert else query
    if not q:
        return lambda _text: True
    test: Callable[[str], bool]
    if _REGEX_CHARS.search(q):
        try:
            pattern = re.compile(q, re.IGNORECASE)
            test = lambda text: pattern.search(text) is not None  # noqa: E731
        except re.error:
            low = q.lower()
            test = lambda text: low in text.lower()  # noqa: E731
    else:
        low = q.lower()
        test = lambda text: low in text.lower()  # noqa: E731
    return (lambda text: not test(text)) if invert else test


@dataclass(frozen=True)
class Col:
    """A column: key, header label, optional width."""

    key: str
    label: str
    width: int | None = None


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (1, "")
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, Text):
        return (0, value.plain.lower())
    return (0, str(value).lower())


class ResourceTable(DataTable):
    """A keyed, filterable, sortable, markable table."""

    DEFAULT_CSS = """
    ResourceTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark", id="table.mark"),
        Binding("s", "cycle_sort", "Sort", id="table.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="table.reverse"),
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "scroll_top", "Top", show=False, id="table.top"),
        Binding("G", "scroll_bottom", "Bottom", show=False, id="table.bottom"),
    ]

    class MarksChanged(Message):
        """The set of marked rows changed."""

        def __init__(self, table: "ResourceTable") -> None:
            super().__init__()
            self.table = table

    def __init__(self, columns: Iterable[Col], *, markable: bool = True, sort_column: str | None = None,
                 **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self.cols = list(columns)
        self.markable = markable
        self._cells: dict[str, dict[str, Text]] = {}
        self._sort_values: dict[str, dict[str, Any]] = {}
        self._order: dict[str, None] = {}  # keys in insertion order (a dict: O(1) removal)
        self.marked: set[str] = set()
        self.filter_text = ""
        self._match: Callable[[str], bool] = lambda _t: True
        self.sort_column: str | None = sort_column
        self._defer_sort = 0
        self._sort_pending = False
        self._sort_at = 0.0  # monotonic time of the last deferred sort
        self._sort_cost = 0.0  # and how long it took
        self.sort_reverse = False

    def on_mount(self) -> None:
        if self.markable:
            self.add_column(" ", key="_mark", width=1)
        for c in self.cols:
            self.add_column(c.label, key=c.key, width=c.width)

    # ------------------------------------------------------------------ data

    @property
    def keys(self) -> list[str]:
        """Every stored row key (filtered out or not), in insertion order."""
        return list(self._order)

    def visible_keys(self) -> list[str]:
        """Row keys shown now, top to bottom."""
        return [str(row.key.value) for row in self.ordered_rows]

    def row_text(self, key: str) -> str:
        return "  ".join(t.plain for t in self._cells.get(key, {}).values())

    def row_values(self, key: str) -> dict[str, Text]:
        """The stored cells of row ``key`` by column key (a copy)."""
        return dict(self._cells.get(key, {}))

    def cell_text(self, key: str, column: str) -> str:
        """Plain text of one stored cell ("" when absent)."""
        t = self._cells.get(key, {}).get(column)
        return t.plain if t is not None else ""

    def upsert(self, key: str, values: dict[str, Any], sort_values: dict[str, Any] | None = None,
               restyle: Collection[str] = ()) -> None:
        """Insert or update row ``key``; only changed cells are touched (a cell whose text is
        unchanged keeps its old style, unless its column is in ``restyle``)."""
        new = {c.key: cell(values.get(c.key)) for c in self.cols}
        old = self._cells.get(key)
        if old is None:
            self._order[key] = None
        self._cells[key] = new
        self._sort_values[key] = {c.key: (sort_values or {}).get(c.key, values.get(c.key)) for c in self.cols}
        shown = key in self.rows
        if not self._match(self.row_text(key)):
            if shown:
                self.remove_row(key)
            return
        if not shown:
            self._add(key)
            self._resort()
            return
        changed = False
        for c in self.cols:
            if old is None or not _same_cell(old.get(c.key), new[c.key], c.key in restyle):
                # Only grow columns: shrinking makes DataTable re-measure the whole column on
                # every update (quadratic on a big fleet).
                column = self.columns.get(c.key)  # type: ignore[call-overload]
                grow = column is None or new[c.key].cell_len > column.content_width
                self.update_cell(key, c.key, new[c.key], update_width=grow)
                changed = True
        if changed and self.sort_column is not None:
            self._resort()

    def has_key(self, key: str) -> bool:
        """Whether row ``key`` is stored (shown or filtered out); O(1)."""
        return key in self._order

    def _add(self, key: str) -> None:
        cells = [self._mark_cell(key)] if self.markable else []
        cells += [self._cells[key][c.key] for c in self.cols]
        row_key = self.add_row(*cells, key=key)
        # DataTable measures every cell of each new row with a full Rich measure on its next
        # idle (seconds for 20,000 rows, in one go). Our cells are one-line Texts: their width
        # is their longest line's cell length, so grow the columns here and spare it that.
        new_rows = getattr(self, "_new_rows", None)
        if isinstance(new_rows, set) and row_key in new_rows:
            for column, text in zip(self.ordered_columns, cells):
                plain = text.plain
                width = max(map(cell_len, plain.split("\n"))) if "\n" in plain else text.cell_len
                if width > column.content_width:
                    column.content_width = width
            new_rows.discard(row_key)

    def _mark_cell(self, key: str) -> Text:
        return Text(MARK if key in self.marked else " ", end="")

    def discard(self, key: str) -> None:
        """Forget row ``key``."""
        self._cells.pop(key, None)
        self._sort_values.pop(key, None)
        self.marked.discard(key)
        self._order.pop(key, None)
        if key in self.rows:
            self.remove_row(key)

    def retain(self, keys: Iterable[str]) -> None:
        """Drop every row whose key is not in ``keys``."""
        keep = set(keys)
        drop = [k for k in self._order if k not in keep]
        if len(drop) <= BULK_REMOVE:
            for key in drop:
                self.discard(key)
            return
        # DataTable.remove_row re-indexes every row (O(n) each): dropping thousands of rows
        # one by one freezes the UI for minutes. Forget them, then rebuild what is left.
        current = self.selected_key()
        shown = [k for k in self.visible_keys() if k in keep]
        for key in drop:
            self._cells.pop(key, None)
            self._sort_values.pop(key, None)
            self.marked.discard(key)
            self._order.pop(key, None)
        self.clear()
        for key in shown:
            self._add(key)
        self.select_key(current)

    # ------------------------------------------------------------------ filter

    def set_filter(self, query: str) -> None:
        """Show only rows matching ``query`` (see module doc)."""
        self.filter_text = query
        self._match = row_matcher(query)
        current = self.selected_key()
        for key in self._order:
            want = self._match(self.row_text(key))
            shown = key in self.rows
            if want and not shown:
                self._add(key)
            elif shown and not want:
                self.remove_row(key)
        self._resort()
        self.select_key(current)

    # ------------------------------------------------------------------ sort

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column`` (kept on later updates)."""
        if reverse is None:
            reverse = self.sort_reverse if column == self.sort_column else False
        self.sort_column, self.sort_reverse = column, reverse
        self._resort()

    @contextmanager
    def deferred_sort(self) -> Iterator[None]:
        """Many upserts, one sort at the end (keeps big refreshes linear)."""
        self._defer_sort += 1
        try:
            yield
        finally:
            self._defer_sort -= 1
            if not self._defer_sort:
                self.resort_soon()

    def resort_soon(self) -> None:
        """Sort once, after the next refresh: a burst of updates (hosts answering one after
        another) costs one sort instead of one per host."""
        if self._sort_pending or self.sort_column is None:
            return
        self._sort_pending = True

        def run() -> None:
            self._sort_pending = False
            t0 = time.perf_counter()
            self._resort()
            self._sort_cost = time.perf_counter() - t0
            self._sort_at = time.monotonic()

        # A big table's sort costs tens of ms: during a long burst, sort no more often than
        # every ten times that (capped), so sorting never takes more than ~10% of the loop.
        delay = self._sort_at + min(SORT_MAX_INTERVAL, 10 * self._sort_cost) - time.monotonic()
        if delay > 0.001:
            self.set_timer(delay, run)
        else:
            self.call_after_refresh(run)

    def _resort(self) -> None:
        if self._defer_sort or self.sort_column is None or self.row_count < 2:
            return
        col = self.sort_column
        current = self.selected_key()
        values = self._sort_values
        # Ties go by row key: rows that answer in any order still land in one order.
        order = sorted(self.visible_keys(), key=lambda k: (_sort_key(values.get(k, {}).get(col)), k),
                       reverse=self.sort_reverse)
        if order == self.visible_keys():
            return
        # DataTable.sort hands the key function the cell objects: map each stored cell (by
        # identity) to our sort value, so numbers sort as numbers and filters keep working.
        by_cell = {id(self._cells[k][col]): (_sort_key(values.get(k, {}).get(col)), k) for k in order}
        at_top = self.cursor_row == 0
        self.sort(col, key=lambda c: by_cell.get(id(c), ((2, ""), "")), reverse=self.sort_reverse)
        # Follow the selected row, unless the cursor sat at the top (it stays there: rows
        # arriving in any order must not move the view).
        if at_top:
            self.move_cursor(row=0, animate=False)
        else:
            self.select_key(current)

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in self.cols]
        nxt = keys[0] if self.sort_column not in keys else keys[(keys.index(self.sort_column) + 1) % len(keys)]
        self.sort_by(nxt, False)
        self.notify_sort()

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column or self.cols[0].key, not self.sort_reverse)
        self.notify_sort()

    def notify_sort(self) -> None:
        label = next((c.label for c in self.cols if c.key == self.sort_column), "?")
        self.border_subtitle = f"sorted by {label} {'↓' if self.sort_reverse else '↑'}"

    def on_key(self, event: Any) -> None:
        # Shift-letter: sort by the first column whose label starts with that letter.
        ch = getattr(event, "character", None) or ""
        if len(ch) == 1 and ch.isupper() and event.key not in self._bound_keys():
            for c in self.cols:
                if c.label.upper().startswith(ch):
                    self.sort_by(c.key, not self.sort_reverse if c.key == self.sort_column else False)
                    self.notify_sort()
                    event.stop()
                    event.prevent_default()
                    return

    def _bound_keys(self) -> set[str]:
        # A key bound anywhere in the focus chain (or rebound by the user's keymap) wins.
        try:
            return set(self.screen.active_bindings)
        except Exception:  # noqa: BLE001 - not mounted on a screen
            return set()

    # ------------------------------------------------------------------ marks / selection

    def selected_key(self) -> str | None:
        """Key of the row under the cursor (None when empty)."""
        if self.row_count == 0:
            return None
        try:
            rk, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # noqa: BLE001 - cursor outside the rows
            return None
        return str(rk.value) if rk.value is not None else None

    def select_key(self, key: str | None) -> None:
        """Move the cursor to row ``key`` when shown."""
        if key is None or key not in self.rows:
            return
        self.move_cursor(row=self.get_row_index(key), animate=False)

    def target_keys(self) -> list[str]:
        """Marked rows that are shown (in table order), else the row under the cursor."""
        visible = self.visible_keys()
        marked = [k for k in visible if k in self.marked]
        if marked:
            return marked
        key = self.selected_key()
        return [key] if key is not None else []

    def action_toggle_mark(self) -> None:
        key = self.selected_key()
        if key is None or not self.markable:
            return
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        self.update_cell(key, "_mark", self._mark_cell(key))
        self.post_message(self.MarksChanged(self))
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1, animate=False)

    def clear_marks(self) -> None:
        for key in list(self.marked):
            self.marked.discard(key)
            if key in self.rows:
                self.update_cell(key, "_mark", self._mark_cell(key))
        self.post_message(self.MarksChanged(self))

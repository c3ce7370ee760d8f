"""The data behind a big live table: keyed rows of plain values, filtered and sorted here.

No Textual in this module (it is tested on its own). Rows are tuples of cells, one per column;
a cell is a plain ``str`` or a :class:`Cell` (text plus a style key: a status level such as
"error", coloured from the theme when drawn, or a fixed Rich style). Each row carries a version
that grows on every change, so a view can cache what it drew for a row until the row changes.

Sorting compares each column's *value* (see :func:`sort_key`): numbers, sizes and durations as
numbers, other text naturally ("node-10" after "node-9"), missing values ("-", "", None) last in
either direction; equal values go by row key, reversed or not (so the order never depends on
which row arrived first).
"""

from __future__ import annotations

import functools

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from rich.cells import cell_len

_REGEX_CHARS = re.compile(r"[\\^$.*+?()\[\]{}|]")
MISSING = frozenset({"", "-", "…", "?"})


class Cell(NamedTuple):
    """One table cell: literal ``text`` (never markup) and how to colour it.

    ``level`` is a status word or theme variable (widgets.style.LEVELS) resolved when drawn;
    ``style`` a fixed Rich style (kept from a Rich Text a caller passed).
    """

    text: str
    level: str | None = None
    bold: bool = False
    style: Any = None


CellValue = str | Cell


def row_matcher(query: str) -> Callable[[str], bool]:
    """Predicate over a row's plain text for a filter query (substring / regex / ``!`` inverts)."""
    invert = query.startswith("!")
    q = query[1:] if invert else query
    if not q:
        return lambda _text: True
    test: Callable[[str], bool]
    low = q.lower()
    test = lambda text: low in text.lower()  # noqa: E731
    if _REGEX_CHARS.search(q):
        try:
            pattern = re.compile(q, re.IGNORECASE)
            test = lambda text: pattern.search(text) is not None  # noqa: E731
        except re.error:
            pass  # an invalid regex is searched for as text
    return (lambda text: not test(text)) if invert else test


# ---------------------------------------------------------------------- sort keys

_UNITS = {
    "ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000,
    "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4, "k": 1e3, "%": 1,
}
_QUANTITY = re.compile(r"(-?\d+(?:\.\d+)?)\s*([a-zA-Z%]*)")
_AGO = re.compile(r"^(in\s+)?(.*?)(\s+ago)?$")
_CHUNKS = re.compile(r"(\d+)")


def _number(text: str) -> float | None:
    """``text`` as a number when it is one: "12", "1.5 KiB", "3h1m", "in 3d", "2h ago"."""
    m = _AGO.match(text.strip())
    if m is None:
        return None
    body = m.group(2)
    total, pos, n = 0.0, 0, len(body)
    while pos < n:
        q = _QUANTITY.match(body, pos)
        if q is None:
            return None
        unit = q.group(2).lower()
        if unit and unit not in _UNITS:
            return None
        total += float(q.group(1)) * _UNITS.get(unit, 1)
        pos = q.end()
        while pos < n and body[pos] == " ":
            pos += 1
    if n == 0:
        return None
    return -total if m.group(3) else total


def sort_key(value: Any) -> tuple:
    """A total-order key for one cell value: (0, number) < (1, natural text); None for missing."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (int, float)):
        return (0, value, ())
    if value is None:
        return ()
    text = value.text if isinstance(value, Cell) else getattr(value, "plain", None)
    if text is None:
        text = str(value)
    return _text_sort_key(text)


@functools.lru_cache(maxsize=65_536)
def _text_sort_key(text: str) -> tuple:
    # Cached: a fleet's tables repeat values (a ref on 2,000 hosts) and equal values then
    # share one key instead of a nest of tuples each.
    if text.strip() in MISSING:
        return ()
    number = _number(text) if any(ch.isdigit() for ch in text) else None
    if number is not None:
        return (0, number, ())
    parts = _CHUNKS.split(text.lower())
    return (1, 0, tuple((int(p), "") if i % 2 else (0, p) for i, p in enumerate(parts)))


def cell_text(value: CellValue) -> str:
    """The literal text of a stored cell."""
    return value.text if isinstance(value, Cell) else value


# ---------------------------------------------------------------------- the model

class Row:
    """One stored row (slots: no per-row dict)."""

    __slots__ = ("cells", "sort_values", "_text", "version")

    def __init__(self, cells: tuple[CellValue, ...], sort_values: tuple[Any, ...], version: int) -> None:
        self.cells = cells
        self.sort_values = sort_values
        self._text: str | None = None
        self.version = version

    @property
    def text(self) -> str:
        """The row's cells joined, as a filter sees them (made when a filter first asks)."""
        if self._text is None:
            self._text = "  ".join(cell_text(c) for c in self.cells)
        return self._text


class TableModel:
    """Keyed rows, a filter, a sort order, marks and per-column widths."""

    def __init__(self, columns: Sequence[str], sort_column: str | None = None) -> None:
        self.columns: list[str] = list(columns)
        self._index = {c: i for i, c in enumerate(self.columns)}
        self.rows: dict[str, Row] = {}  # insertion order
        self._shown: dict[str, None] = {}  # keys passing the filter, insertion order
        self.marked: set[str] = set()
        self.filter_text = ""
        self._match: Callable[[str], bool] = lambda _t: True
        self.sort_column = sort_column
        self.sort_reverse = False
        self._view: list[str] | None = []
        self._pos: dict[str, int] | None = None
        #: (sort key of the sort column, row key) by row key: ties go by row key.
        self._skeys: dict[str, tuple] = {}
        #: Shown rows with a sort value, ascending by _skeys (None: to be built), and the keys
        #: changed since: a refresh re-sorts only what changed (the rest is one sorted run).
        self._order: list[str] | None = None
        self._dirty: set[str] = set()
        self.widths: list[int] = [0] * len(self.columns)
        self._version = 0
        self.changes = 0  # grows whenever what a view shows may have changed

    # ------------------------------------------------------------------ rows

    def upsert(self, key: str, cells: Sequence[CellValue], sort_values: Sequence[Any] | None = None) -> bool:
        """Store row ``key`` (``cells`` in column order; ``sort_values`` the values to sort by,
        default the cells). Returns whether anything changed."""
        cells = tuple(cells)
        svals = tuple(sort_values) if sort_values is not None else cells
        old = self.rows.get(key)
        if old is not None and old.cells == cells and old.sort_values == svals:
            return False
        self._version += 1
        row = Row(cells, svals, self._version)
        self.rows[key] = row
        self.changes += 1
        for i, c in enumerate(cells):
            w = cell_len(cell_text(c))
            if w > self.widths[i]:
                self.widths[i] = w
        shown = self._match(row.text) if self.filter_text else True
        col = self._index.get(self.sort_column) if self.sort_column else None
        if col is not None and (old is None or old.sort_values[col] != svals[col]):
            self._skeys[key] = (sort_key(svals[col]), key)
            self._dirty.add(key)
            if shown:
                self._view = None
        if shown != (key in self._shown):
            if shown:
                self._shown[key] = None
            else:
                del self._shown[key]
            self._dirty.add(key)
            self._view = None
        return True

    def discard(self, key: str) -> None:
        """Forget row ``key`` (and its mark)."""
        if self.rows.pop(key, None) is None:
            return
        self.marked.discard(key)
        self._skeys.pop(key, None)
        self._dirty.add(key)
        self.changes += 1
        if self._shown.pop(key, 0) is None:
            self._view = None

    def retain(self, keys: Iterable[str]) -> None:
        """Drop every row whose key is not in ``keys``."""
        keep = set(keys)
        for key in [k for k in self.rows if k not in keep]:
            self.discard(key)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def cell(self, key: str, column: str) -> CellValue | None:
        """The stored cell of row ``key`` in ``column`` (None when absent)."""
        row = self.rows.get(key)
        i = self._index.get(column)
        return None if row is None or i is None else row.cells[i]

    # ------------------------------------------------------------------ columns

    def add_column(self, column: str, default: CellValue = "", *, before: str | None = None) -> None:
        """Add a column at the end, or in front of column ``before``; existing rows get ``default``."""
        i = self._index.get(before, len(self.columns)) if before is not None else len(self.columns)
        self.columns.insert(i, column)
        self.widths.insert(i, cell_len(cell_text(default)))
        for key, row in list(self.rows.items()):
            self._version += 1
            self.rows[key] = Row(row.cells[:i] + (default,) + row.cells[i:],
                                 row.sort_values[:i] + (default,) + row.sort_values[i:], self._version)
        self._index = {c: n for n, c in enumerate(self.columns)}
        self._reindex()

    def remove_column(self, column: str) -> None:
        """Drop a column (the sort falls back to insertion order when it was this one)."""
        i = self._index.get(column)
        if i is None:
            return
        self.columns.pop(i)
        self.widths.pop(i)
        for key, row in list(self.rows.items()):
            self._version += 1
            self.rows[key] = Row(row.cells[:i] + row.cells[i + 1:], row.sort_values[:i] + row.sort_values[i + 1:],
                                 self._version)
        self._index = {c: j for j, c in enumerate(self.columns)}
        if self.sort_column == column:
            self.sort_column = None
        self._reindex()

    def _reindex(self) -> None:
        self._skeys.clear()
        self._order = None
        self._view = None
        self.changes += 1
        if self.filter_text:
            self._shown = {k: None for k, r in self.rows.items() if self._match(r.text)}
        else:
            self._shown = dict.fromkeys(self.rows)

    # ------------------------------------------------------------------ filter / sort

    def set_filter(self, query: str) -> None:
        """Show only rows matching ``query`` (substring, regex, ``!`` inverts)."""
        self.filter_text = query
        self._match = row_matcher(query)
        self._reindex()

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Sort by ``column`` (None: insertion order), kept on later upserts."""
        if column is not None and column not in self._index:
            raise KeyError(column)
        if column != self.sort_column:
            self._skeys.clear()
            self._order = None
        self.sort_column, self.sort_reverse = column, reverse
        self._view = None
        self.changes += 1

    def view(self) -> list[str]:
        """Keys of the rows shown, top to bottom (recomputed only after a change)."""
        if self._view is None:
            col = self._index.get(self.sort_column) if self.sort_column else None
            self._view = list(self._shown) if col is None else self._sorted_view(col)
            self._pos = None
        return self._view

    def _sorted_view(self, col: int) -> list[str]:
        """Rows with a sort value by (value, row key), reversed when asked (ties still by row
        key), then the rows without one (``-``) in insertion order."""
        sk, rows, shown = self._skeys, self.rows, self._shown
        for k in shown:
            if k not in sk:
                sk[k] = (sort_key(rows[k].sort_values[col]), k)
        order, dirty = self._order, self._dirty
        if order is None or len(dirty) * 4 > len(order):
            order = sorted((k for k in shown if sk[k][0]), key=sk.__getitem__)
        elif dirty:
            # What did not change is still one sorted run: Timsort merges the changed rows
            # into it in about linear time instead of sorting everything again.
            order = [k for k in order if k not in dirty]
            order += [k for k in dirty if k in shown and sk[k][0]]
            order.sort(key=sk.__getitem__)
        self._order, self._dirty = order, set()
        missing = [k for k in shown if not sk[k][0]]
        if self.sort_reverse:  # a stable descending sort: equal values keep ascending row keys
            return sorted(order, key=lambda k: sk[k][0], reverse=True) + missing
        return order + missing

    def position(self, key: str) -> int | None:
        """Index of row ``key`` in :meth:`view` (None when not shown)."""
        view = self.view()
        if self._pos is None:
            self._pos = {k: i for i, k in enumerate(view)}
        return self._pos.get(key)

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    # ------------------------------------------------------------------ marks

    def toggle_mark(self, key: str) -> None:
        """Mark or unmark row ``key``."""
        if key in self.marked:
            self.marked.discard(key)
        elif key in self.rows:
            self.marked.add(key)
        self.changes += 1

    def clear_marks(self) -> None:
        self.marked.clear()
        self.changes += 1

    def target_keys(self, current: str | None) -> list[str]:
        """Marked rows that are shown (in view order), else ``current``."""
        if self.marked:
            marked = [k for k in self.view() if k in self.marked]
            if marked:
                return marked
        return [current] if current is not None and current in self._shown else []

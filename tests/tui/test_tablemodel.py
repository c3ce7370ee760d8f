"""TableModel: sort by value across refreshes, reverse, stability, filter + sort + marks, 20,000 rows."""

from __future__ import annotations

import random

from widgets.tablemodel import Cell, TableModel, sort_key

COLS = ["name", "size", "age", "state"]


def refresh(m: TableModel, rows: dict[str, tuple]) -> None:
    """Upsert every row with freshly built cells (new objects, as a pane's refresh does)."""
    for key, (name, size, age, state) in rows.items():
        cells = [str(name), f"{size} MiB" if size is not None else "-", age, Cell(state, state)]
        m.upsert(key, cells, [name, size, *cells[2:]])


ROWS = {
    "a": ("node-10", 5, "3h1m", "running"),
    "b": ("node-9", 200, "2d", "error"),
    "c": ("node-1", None, "59s", "running"),
    "d": ("node-2", 5, "-", "warning"),
}


def test_sort_key_numbers_durations_sizes_and_missing():
    assert sort_key("59s") < sort_key("3h1m") < sort_key("2d")
    assert sort_key("1.5 KiB") < sort_key("2 KiB") < sort_key("1 MiB")
    assert sort_key("2h ago") < sort_key("in 3d")
    assert sort_key(9) < sort_key(10) and sort_key("9") < sort_key("10")
    assert sort_key("node-9") < sort_key("node-10")  # natural order
    assert sort_key("v1.9.0") < sort_key("v1.31.2")
    assert sort_key("-") == sort_key(None) == sort_key("") == ()
    assert sort_key(Cell("12", "error")) == sort_key(12)
    assert sort_key(10) < sort_key("abc")  # numbers before words, never a TypeError


def test_sort_by_each_column_type_survives_refreshes():
    m = TableModel(COLS)
    refresh(m, ROWS)
    m.sort_by("name")
    assert m.view() == ["c", "d", "b", "a"]  # node-1, node-2, node-9, node-10
    m.sort_by("size")
    assert m.view() == ["a", "d", "b", "c"]  # 5, 5 (stable: a first), 200, missing last
    m.sort_by("age")
    assert m.view() == ["c", "a", "b", "d"]  # 59s, 3h1m, 2d, "-" last
    # A refresh with new objects and changed values re-sorts by the new values.
    changed = dict(ROWS, a=("node-10", 1000, "1s", "running"))
    for _ in range(3):
        refresh(m, changed)
        assert m.view() == ["a", "c", "b", "d"]
    m.sort_by("size")
    assert m.view() == ["d", "b", "a", "c"]
    m.sort_by("state")
    assert m.view() == ["b", "a", "c", "d"]  # error, running, running (stable), warning


def test_reverse_keeps_missing_last_and_ties_by_key():
    m = TableModel(COLS)
    refresh(m, ROWS)
    m.sort_by("size", reverse=True)
    assert m.view() == ["b", "a", "d", "c"]  # 200, then 5 and 5 by key, missing last
    refresh(m, ROWS)
    assert m.view() == ["b", "a", "d", "c"]


def test_ties_go_by_key_whatever_the_arrival_order():
    """300 rows in 3 groups, upserted in two different orders: the same view, ties by key."""
    keys = [f"r{i}" for i in range(300)]
    views = []
    for order in (keys, random.Random(7).sample(keys, len(keys))):
        m = TableModel(["k", "group"])
        for k in order:
            m.upsert(k, [k, str(int(k[1:]) % 3)])
        m.sort_by("group")
        views.append(m.view())
    assert views[0] == views[1]
    for g in "012":
        assert [k for k in views[0] if int(k[1:]) % 3 == int(g)] == sorted(k for k in keys if int(k[1:]) % 3 == int(g))


def test_filter_sort_and_marks_together():
    m = TableModel(COLS)
    refresh(m, ROWS)
    m.sort_by("size", reverse=True)
    m.toggle_mark("a")
    m.toggle_mark("c")
    m.set_filter("running")
    assert m.view() == ["a", "c"] and m.shown_count == 2 and len(m) == 4
    assert m.target_keys("a") == ["a", "c"]
    m.set_filter("!running")
    assert m.view() == ["b", "d"]
    assert m.target_keys("b") == ["b"]  # marked rows hidden by the filter are not targets
    m.set_filter("^node-(1|9) ")  # a regex over the row's text
    assert m.view() == ["b", "c"]
    # A row changing so it stops matching leaves the view; its mark stays.
    refresh(m, dict(ROWS, c=("node-3", None, "59s", "running")))
    assert m.view() == ["b"] and "c" in m.marked
    m.set_filter("")
    assert m.view() == ["b", "a", "d", "c"]
    m.retain(["a", "b"])
    assert m.view() == ["b", "a"] and m.marked == {"a"}


def test_unchanged_upsert_keeps_version_and_changed_one_bumps_it():
    m = TableModel(COLS)
    refresh(m, ROWS)
    v = m.rows["a"].version
    refresh(m, ROWS)
    assert m.rows["a"].version == v
    refresh(m, dict(ROWS, a=("node-10", 6, "3h1m", "running")))
    assert m.rows["a"].version > v and m.rows["b"].version < v + len(ROWS)


def test_widths_grow_with_content():
    m = TableModel(["a"])
    m.upsert("1", ["xx"])
    m.upsert("2", ["xxxxx"])
    m.upsert("3", ["界界界"])  # wide characters count two cells each
    assert m.widths == [6]


def test_twenty_thousand_rows_upserted_sorted_and_filtered():
    m = TableModel(["host", "ref", "size"], sort_column="size")
    rnd = random.Random(7)
    sizes = {}
    for i in range(20_000):
        key = f"h{i % 2000}|img{i}"
        sizes[key] = rnd.randrange(10**9)
        m.upsert(key, [f"h{i % 2000}", f"docker.io/app{i}:1", f"{sizes[key]} B"], [None, None, sizes[key]])
    view = m.view()
    assert len(view) == 20_000 and view == sorted(sizes, key=sizes.__getitem__)
    m.set_filter("^h7 ")
    assert all(k.startswith("h7|") for k in m.view()) and m.shown_count == 10
    m.set_filter("")
    m.retain(k for k in sizes if not k.startswith("h1"))
    assert len(m) == 20_000 - 10 * (1 + 10 + 100 + 1000)


def _brute_view(m: TableModel) -> list[str]:
    """What the view must be, computed from scratch: shown rows by (value, key), reversed with
    ties still by key, rows without a value last in insertion order."""
    col = m.columns.index(m.sort_column)
    shown = [k for k, r in m.rows.items() if m._match(r.text)]
    keyed = [k for k in shown if sort_key(m.rows[k].sort_values[col])]
    keyed.sort()
    keyed.sort(key=lambda k: sort_key(m.rows[k].sort_values[col]), reverse=m.sort_reverse)
    return keyed + [k for k in shown if not sort_key(m.rows[k].sort_values[col])]


def test_incremental_resort_matches_a_full_sort_through_many_refreshes():
    """Refreshes that change, add and drop a few rows each (the incremental path) and many at
    once (the rebuild), under a filter and both directions: always the from-scratch order."""
    rng = random.Random(13)
    m = TableModel(["name", "size"], sort_column="size")
    for i in range(2000):
        m.upsert(f"r{i:04d}", [f"host-{i}", rng.choice([str(rng.randint(1, 50)), "-"])])
    assert m.view() == _brute_view(m)
    for step in range(60):
        changed = rng.randint(1, 40) if step % 10 else 1500
        for _ in range(changed):
            k = f"r{rng.randint(0, 2599):04d}"
            if rng.random() < 0.1:
                m.discard(k)
            else:
                m.upsert(k, [f"host-{k}", rng.choice([str(rng.randint(1, 50)), "-", "7"])])
        if step == 20:
            m.set_filter("!host-r01")
        if step == 40:
            m.sort_by("size", reverse=True)
        assert m.view() == _brute_view(m), step

"""ResourceTable (filter, sort, marks, keyed updates, hostile text), keymap loading, CLI usage errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rich.text import Text
from textual.app import App, ComposeResult

from tui.keymap import KeymapError, load_keymap
from widgets.fmt import human_age, human_duration, human_size
from widgets.table import Col, ResourceTable, row_matcher
from tests.tui_support import settle
from tests.files import ROOT

COLS = [Col("name", "Name"), Col("size", "Size"), Col("label", "Label")]


class TableApp(App):
    def compose(self) -> ComposeResult:
        yield ResourceTable(COLS, id="t")


def test_row_matcher_substring_regex_and_invert():
    assert row_matcher("ngin")("docker.io/library/NGINX:1")
    assert not row_matcher("!ngin")("nginx")
    assert row_matcher("^node-[12]$")("node-2")
    assert not row_matcher("^node-[12]$")("node-3")
    assert row_matcher("!^node-[12]$")("node-3")
    # An invalid regex falls back to a substring search instead of failing.
    assert row_matcher("[bold")("x [bold y")
    assert row_matcher("")("anything")


def test_formats():
    assert human_size(0) == "0 B"
    assert human_size(1536) == "1.5 KiB"
    assert human_size(5 * 1024**3) == "5.0 GiB"
    assert human_duration(59) == "59s"
    assert human_duration(3 * 3600 + 60) == "3h1m"
    assert human_duration(2 * 86400) == "2d"
    from datetime import datetime, timedelta, timezone
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert human_age(now - timedelta(hours=2), now) == "2h ago"
    assert human_age(now + timedelta(days=3), now) == "in 3d"


async def test_table_updates_by_key_filters_sorts_marks():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        t.upsert("a", {"name": "alpha", "size": "10", "label": "x"}, {"size": 10})
        t.upsert("b", {"name": "beta", "size": "9", "label": "y"}, {"size": 9})
        t.upsert("c", {"name": "gamma", "size": "100", "label": "z"}, {"size": 100})
        assert t.visible_keys() == ["a", "b", "c"]
        # Updating one cell keeps the row (same key, same position), changes the value.
        t.upsert("b", {"name": "beta", "size": "11", "label": "y"}, {"size": 11})
        assert t.get_cell("b", "size").plain == "11"
        assert t.row_count == 3
        # Numeric sort uses the sort values, not the strings ("100" < "11" as text).
        t.sort_by("size")
        assert t.visible_keys() == ["a", "b", "c"]
        t.sort_by("size", reverse=True)
        assert t.visible_keys() == ["c", "b", "a"]
        # Sort survives updates.
        t.upsert("a", {"name": "alpha", "size": "1000", "label": "x"}, {"size": 1000})
        assert t.visible_keys()[0] == "a"
        # Filter, inverted filter, clear.
        t.set_filter("eta")
        assert t.visible_keys() == ["b"]
        t.set_filter("!eta")
        assert sorted(t.visible_keys()) == ["a", "c"]
        t.set_filter("")
        assert t.row_count == 3
        # New rows that do not match a filter stay hidden but are kept.
        t.set_filter("gam")
        t.upsert("d", {"name": "delta"})
        assert t.visible_keys() == ["c"] and "d" in t.keys
        t.set_filter("")
        # Marks: space marks the row under the cursor and moves down.
        t.sort_by("name")
        t.focus()
        t.move_cursor(row=0)
        await pilot.press("space")
        await pilot.press("space")
        assert t.marked == {t.visible_keys()[0], t.visible_keys()[1]}
        assert t.target_keys() == t.visible_keys()[:2]
        t.clear_marks()
        assert t.target_keys() == [t.visible_keys()[t.cursor_row]]
        # retain drops the rest.
        t.retain(["a"])
        assert t.visible_keys() == ["a"]


async def test_shift_letter_and_s_cycle_sort():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        for k, n, s in (("1", "b", 3), ("2", "a", 1), ("3", "c", 2)):
            t.upsert(k, {"name": n, "size": str(s)}, {"size": s})
        t.focus()
        await pilot.press("N")  # shift-letter: sort by Name
        assert t.sort_column == "name" and t.visible_keys() == ["2", "1", "3"]
        await pilot.press("N")  # again: reversed
        assert t.visible_keys() == ["3", "1", "2"]
        await pilot.press("s")  # cycle to the next column
        assert t.sort_column == "size"


async def test_hostile_text_is_displayed_literally():
    app = TableApp()
    async with app.run_test(size=(100, 24)) as pilot:
        t = app.query_one(ResourceTable)
        t.upsert("evil", {"name": "[bold]x", "size": "[/]", "label": "[red]boom[/red] [link=http://x]y"})
        await pilot.pause()
        assert t.get_cell("evil", "name").plain == "[bold]x"
        assert t.get_cell("evil", "size").plain == "[/]"
        assert isinstance(t.get_cell("evil", "label"), Text)
        screen = app.export_screenshot()
        assert "[bold]x" in screen.replace("&#160;", " ") and "[red]boom[/red]" in screen.replace("&#160;", " ")


def test_keymap_file(tmp_path: Path):
    f = tmp_path / "keymap.toml"
    assert load_keymap(f) == {}
    f.write_text('[keymap]\n"nodes.stop" = "X"\n"app.activity" = ["A", "f2"]\n')
    assert load_keymap(f) == {"nodes.stop": "X", "app.activity": "A,f2"}
    f.write_text('"nodes.stop" = 3\n')
    with pytest.raises(KeymapError, match="nodes.stop"):
        load_keymap(f)
    f.write_text("this is = not toml [")
    with pytest.raises(KeymapError):
        load_keymap(f)


def test_cli_without_hosts_names_the_options(tmp_path: Path):
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "tui.cli"], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=60)
    assert out.returncode == 2
    for word in ("--demo", "--inventory", "--ssh"):
        assert word in out.stderr


def test_cli_version_and_exclusive_sources(tmp_path: Path):
    from tui.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert main(["--demo", "--ssh", "root@127.0.0.1"]) == 2


async def test_sort_ties_go_by_row_key_not_arrival_order():
    """Rows equal in the sort column (hosts answering in any order) land in one order: by key."""
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        t.sort_by("size")
        for key in ("h3\x1fca", "h1\x1fca", "h2\x1fca", "h1\x1fleaf"):
            days = 1 if key.endswith("leaf") else 3065
            t.upsert(key, {"name": key, "size": str(days), "label": ""}, {"size": days})
        await settle(app, pilot)
        assert t.visible_keys() == ["h1\x1fleaf", "h1\x1fca", "h2\x1fca", "h3\x1fca"]

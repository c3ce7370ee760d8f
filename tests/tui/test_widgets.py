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


def _screen_text(app) -> str:
    return app.export_screenshot().replace("&#160;", " ")


async def test_sort_stays_right_across_refreshes_and_header_shows_it():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)

        def refresh(sizes: dict[str, int]) -> None:  # new Text objects every time, like a pane
            for k, n in sizes.items():
                t.upsert(k, {"name": Text(f"n{k}"), "size": Text(f"{n} MiB")}, {"size": n})

        refresh({"1": 30, "2": 10, "3": 20})
        t.focus()
        await pilot.press("s", "s")  # s cycles: Name, then Size
        assert t.sort_column == "size" and t.visible_keys() == ["2", "3", "1"]
        await pilot.pause()
        assert "Size ▲" in _screen_text(app)
        for _ in range(2):
            refresh({"1": 5, "2": 10, "3": 20})
            await pilot.pause()
        assert t.visible_keys() == ["1", "2", "3"]
        await pilot.press("S")  # reversed, still by value after the refreshes
        assert t.visible_keys() == ["3", "2", "1"]
        await pilot.pause()
        assert "Size ▼" in _screen_text(app) and "Size ▲" not in _screen_text(app)


async def test_cursor_stays_on_its_row_across_refreshes():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        for i in range(50):
            t.upsert(f"k{i}", {"name": f"row {i}", "size": str(i)}, {"size": i})
        t.sort_by("size")
        t.select_key("k10")
        assert t.selected_key() == "k10" and t.cursor_row == 10
        # Rows arrive ahead of it (smaller sizes): the cursor follows k10 to its new place.
        for i in range(5):
            t.upsert(f"new{i}", {"name": f"new {i}", "size": "-1"}, {"size": -1})
        await pilot.pause()
        assert t.selected_key() == "k10" and t.cursor_row == 15
        t.upsert("k10", {"name": "row 10", "size": "1000"}, {"size": 1000})
        await pilot.pause()
        assert t.selected_key() == "k10" and t.cursor_row == t.row_count - 1


async def test_filter_marker_and_row_counts_show():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        for i in range(30):
            t.upsert(f"k{i}", {"name": f"{'web' if i % 3 == 0 else 'db'}-{i}", "size": str(i)})
        await pilot.pause()
        assert "filter:" not in _screen_text(app)
        t.set_filter("web")
        await pilot.pause()
        screen = _screen_text(app)
        assert "filter: web" in screen and "10 of 30 rows" in screen
        assert t.border_subtitle == "10 of 30 rows"
        t.set_filter("")
        await pilot.pause()
        assert "filter:" not in _screen_text(app)


async def test_only_visible_rows_are_drawn_for_a_big_table():
    app = TableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        for i in range(20_000):
            t.upsert(f"k{i}", {"name": f"row-{i}", "size": str(i)}, {"size": i})
        t.sort_by("size", reverse=True)
        t.focus()
        await pilot.press("G")  # the bottom: row 0
        await pilot.pause()
        screen = _screen_text(app)
        assert "row-0 " in screen and "row-19999" not in screen
        assert len(t._strips) < 100  # strips for the rows on screen, not for 20,000


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


def test_cli_version_and_exclusive_sources(tmp_path: Path, capsys):
    from tui.cli import _version, main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"k0s-tui {_version()}\n" and _version() != "0+unknown"
    assert main(["--demo", "--ssh", "root@127.0.0.1"]) == 2




class NestedTableApp(App):
    """A table inside a container that binds the same key (``j``) and another (``x``)."""

    def __init__(self) -> None:
        super().__init__()
        self.container_calls: list[str] = []

    def compose(self) -> ComposeResult:
        from textual.binding import Binding
        from textual.containers import Vertical

        app = self

        class Pane(Vertical):
            BINDINGS = [Binding("j", "mine('j')", "j"), Binding("x", "mine('x')", "x")]

            def action_mine(self, key: str) -> None:
                app.container_calls.append(key)

        with Pane():
            yield ResourceTable(COLS, id="t")


async def test_a_focused_tables_own_binding_runs_once_where_the_key_arrives():
    """DirectBindings: the table's own `j` moves the cursor and nothing above it sees the key;
    a key the table does not bind still reaches the container; a rebound key is honoured."""
    app = NestedTableApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.query_one(ResourceTable)
        for i in range(5):
            t.upsert(f"k{i}", {"name": f"row-{i}"})
        t.focus()
        await pilot.pause()
        await pilot.press("j")
        await pilot.press("x")
        await pilot.pause()
        assert t.cursor_row == 1
        assert app.container_calls == ["x"]
        app.set_keymap({"table.down": "n"})
        await pilot.press("n", "n")
        await pilot.pause()
        assert t.cursor_row == 3
        await pilot.press("j")  # no longer the table's: the container's binding gets it
        await pilot.pause()
        assert t.cursor_row == 3 and app.container_calls == ["x", "j"]


class TabsApp(App):
    def __init__(self) -> None:
        super().__init__()
        self.clicked: list[str] = []

    def compose(self) -> ComposeResult:
        from widgets.tabbar import TabBar

        yield TabBar([("a", "Alpha"), ("b", "Be\x1b[31mta"), ("c", "C")], active="b", id="tabs")

    def on_tab_bar_clicked(self, event) -> None:
        self.clicked.append(event.tab_id)


def _highlighted_columns(bar) -> set[int]:
    """Columns of the underline drawn in the highlight colour."""
    colour = bar.get_component_rich_style("tab-bar--underline").color
    cols, x = set(), 0
    for seg in bar.render_line(1):
        if seg.style.color == colour:
            cols |= set(range(x, x + len(seg.text)))
        x += len(seg.text)
    return cols


async def test_tab_bar_draws_labels_underlines_the_active_tab_and_reports_clicks():
    from widgets.tabbar import TabBar

    app = TabsApp()
    async with app.run_test(size=(40, 4)) as pilot:
        bar = app.query_one(TabBar)
        # A label's control character is shown escaped, never sent to the terminal.
        assert bar.tabs[1][1] == "Be\\x1b[31mta"
        _, start, end = bar.spans()[1]
        assert (start, end) == (8, 8 + len("Be\\x1b[31mta"))
        line = "".join(s.text for s in bar.render_line(0))
        assert line.startswith(" Alpha  Be\\x1b[31mta  C ") and "\x1b" not in line and len(line) == 40
        assert _highlighted_columns(bar) == set(range(start, end))
        bar.active = "c"
        _, c_start, c_end = bar.spans()[2]
        assert _highlighted_columns(bar) == set(range(c_start, c_end))
        await pilot.click(TabBar, offset=(2, 0))  # on "Alpha"
        await pilot.click(TabBar, offset=(start - 1, 0))  # on the second tab's padding
        await pilot.click(TabBar, offset=(38, 0))  # past the last tab: nothing
        await settle(app, pilot)
        assert app.clicked == ["a", "b"]


class KeysApp(App):
    """Bindings for the footer: one hostile description, one disabled, one pinned at the end."""

    BINDINGS = [("x", "hit('x')", "Hit\x1b[2J"), ("y", "hit('y')", "Off"), ("z", "help", "Help")]

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[str] = []

    def compose(self) -> ComposeResult:
        from widgets.footer import PinnedFooter

        yield PinnedFooter(["help"])

    def action_hit(self, what: str) -> None:
        self.hits.append(what)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if (action, parameters) == ("hit", ("y",)) else True  # None: shown, but disabled


async def test_footer_draws_keys_pinned_first_and_runs_a_clicked_key():
    from widgets.footer import PinnedFooter

    app = KeysApp()
    async with app.run_test(size=(60, 3)) as pilot:
        await settle(app, pilot)
        footer = app.query_one(PinnedFooter)
        spans = footer.spans()
        assert [item.action for item, _, _ in spans] == ["help", "hit('x')", "hit('y')", "command_palette"]
        line = "".join(s.text for s in footer.render_line(0))
        assert len(line) == 60 and "\x1b" not in line
        assert line.startswith(" z Help  x Hit\\x1b[2J  y Off ") and line.endswith("▏^p palette ")
        disabled = [s for s in footer.render_line(0) if s.text == " y "]
        assert disabled and disabled[0].style.dim
        x_start = next(start for item, start, _ in spans if item.key == "x")
        y_start = next(start for item, start, _ in spans if item.key == "y")
        await pilot.mouse_down(PinnedFooter, offset=(x_start + 1, 0))
        await pilot.mouse_down(PinnedFooter, offset=(y_start + 1, 0))  # disabled: a bell, no action
        await settle(app, pilot)
        assert app.hits == ["x"]
    narrow = KeysApp()
    async with narrow.run_test(size=(20, 3)) as pilot:
        await settle(narrow, pilot)
        footer = narrow.query_one(PinnedFooter)
        # At 20 columns the palette's key takes the right end and the pinned Help stays first.
        assert [item.action for item, _, _ in footer.spans()] == ["help", "command_palette"]
        assert "".join(s.text for s in footer.render_line(0)) == " z Help ▏^p palette "

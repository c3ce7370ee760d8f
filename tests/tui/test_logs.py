"""The Logs pane on the demo cluster (Pilot): follow, merge, filters, save, links, the shell key."""

from __future__ import annotations

import asyncio
import time

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.k0s.parsers.logs import LogEntry
from backends.session.session import ClusterSession
from tui.app import K0sTuiApp
from tui.panes.logs import LogsPane
from tests.tui_support import FROZEN, audit, settle, settle_until

pytestmark = pytest.mark.timeout(120)


def make_app(clock=None) -> K0sTuiApp:
    demo = DemoCluster(clock=clock or (lambda: FROZEN), pull_duration=0.3)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=clock or (lambda: FROZEN))
    return K0sTuiApp(session, refresh=0, clock=clock or (lambda: FROZEN))


async def until(pilot, cond, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


def shown(view) -> list[LogEntry]:
    """The view's rows (tuples) as entries, to read their fields by name."""
    return [LogEntry(*r) for r in view.rows]


def logs(app) -> LogsPane:
    return app.pane("logs")  # type: ignore[return-value]


def screen_text(app) -> str:
    view = logs(app).view
    return "\n".join(view.render_line(y).text for y in range(view.size.height))


async def test_key_7_follows_every_host_merged_by_time(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("7")
        pane = logs(app)
        await until(pilot, lambda: {e.host for e in pane.buffer.entries()} == set(app.session.host_names),
                    what="lines of every host")
        times = [e.time for e in pane.buffer.entries()]
        assert times == sorted(times)
        # worker-5 (OpenRC, stopped) came from its .err file and shows its failed start.
        w5 = [e for e in pane.buffer.entries() if e.host == "worker-5"]
        assert any(e.level == "error" and "Failed to start worker" in e.message for e in w5)
        # worker-4 warns about cgroups before its rejected probe.
        assert any(e.host == "worker-4" and e.level == "warning" and "cgroup" in e.message
                   for e in pane.buffer.entries())
        # Follow produces new lines over time.
        n = len(pane.buffer)
        await until(pilot, lambda: len(pane.buffer) > n, what="new followed lines")
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "INFO" in text and "worker-" in text and "controller-" in text
        # Leaving the pane closes the streams; the buffer stays.
        await pilot.press("1")
        await until(pilot, lambda: not pane.follower.tasks, what="streams closed")
        assert len(pane.buffer) > n


async def test_filters_highlight_pause_wrap_and_save(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("colon")
        await pilot.press(*"logs worker-4 worker-5", "enter")
        pane = logs(app)
        await until(pilot, lambda: {e.host for e in pane.buffer.entries()} == {"worker-4", "worker-5"},
                    what="both hosts")
        view = pane.view
        await pilot.press("v")  # warnings and worse
        assert view.rows and all(r.level in ("warning", "error", "fatal") for r in shown(view))
        await pilot.press("v")  # errors and worse
        assert view.rows and {r.host for r in shown(view)} == {"worker-5"}
        await pilot.press("v")  # all again
        await pilot.press("c")
        first = next(iter(view.flt.components))
        assert view.rows and all(r.component == first for r in shown(view))
        while view.flt.components:
            await pilot.press("c")
        await pilot.press("slash", *"cgroup", "enter")
        assert view.rows and all("cgroup" in (r.message + r.component).lower() for r in shown(view))
        await pilot.pause(0.1)
        # The match is highlighted (reverse) in the rendered line.
        strip = view.render_line(0)
        assert any(seg.text.lower() == "cgroup" and seg.style and seg.style.reverse for seg in strip)
        await pilot.press("slash", *"!cgroup", "enter")
        assert view.rows and not any("cgroup" in r.message.lower() for r in shown(view))
        await pilot.press("slash", "enter")  # cleared
        # Pause keeps the buffer: `f` stops following, lines still arrive.
        await pilot.press("f")
        assert view.follow is False
        await pilot.press("w")
        assert view.wrap is True
        await pilot.pause(0.1)
        assert screen_text(app).strip()
        await pilot.press("ctrl+s")
        path = pane.saved_path
        assert path is not None and path.parent == xdg / "XDG_DATA_HOME" / "k0s-tui" / "logs"
        saved = path.read_text().splitlines()
        count = int(path.stem.rsplit("-", 1)[1])  # lines keep arriving: the file says how many it took
        assert len(saved) == count and 0 < count <= len(view.rows)
        assert any(line.split()[1] == "worker-5" for line in saved)
        assert str(path) in str(pane.query_one("#logs-status").render())


async def test_host_text_is_never_markup_and_controls_are_visible(xdg):
    app = make_app()
    async with app.run_test(size=(160, 20)) as pilot:
        await settle(app, pilot)
        await pilot.press("7")
        pane = logs(app)
        # The pane is built on first show and then starts following (clearing its view): only
        # then is a row added by hand there to stay.
        await settle_until(app, pilot, lambda: pane.follower.tasks, "the logs pane following")
        pane.follower.tasks.clear()
        pane.add_rows([LogEntry(FROZEN.timestamp() + 999, "worker-1", "info", "[bold]x[/]",
                                "\x1b]0;pwned\x07[red]hi[/red]\x1b[2J").row()])
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "\\x1b]0;pwned\\x07[red]hi[/red]\\x1b[2J" in text
        assert "[bold]x[/]" in text
        assert "\x1b" not in text


async def test_show_logs_links_from_nodes_and_sysinfo(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        table.select_key("worker-5")
        await pilot.press("l")
        pane = logs(app)
        await until(pilot, lambda: pane.buffer.entries() and pane.hosts == ["worker-5"], what="worker-5 logs")
        assert any("Failed to start worker" in e.message for e in pane.buffer.entries())
        await pilot.press("3")
        await settle(app, pilot)
        si = app.sysinfo_pane.primary_table()
        si.select_key("worker-4")
        await pilot.press("l")
        await settle(app, pilot)
        at = app.session.sysinfo.result("worker-4").at.timestamp()
        assert pane.window == (at - 600, at + 300) and pane.hosts == ["worker-4"]
        assert pane.buffer.entries() and all(at - 600 <= e.time <= at + 300 for e in pane.buffer.entries())
        assert any(e.level == "warning" and "cgroup" in e.message for e in pane.buffer.entries())
        assert not pane.follower.tasks  # a window, not a follow


async def test_shell_key_says_why_when_the_console_cannot_suspend(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        notes = [n.message for n in app._notifications]
        assert any("a shell needs a terminal" in m and "headless" in m for m in notes)
        assert app.screen is app.screen_stack[0]
        assert [r for r in audit(xdg) if r["operation"] == "shell"] == []


def test_the_level_key_cycles_through_known_levels_only():
    from tui.panes.logs import _MIN_LEVELS
    from widgets.logview import LEVEL_ORDER

    assert all(level in LEVEL_ORDER for level in _MIN_LEVELS)

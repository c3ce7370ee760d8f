"""The console's cluster-aware flows on the demo (Pilot): the Nodes confirm dialog says what etcd,
the API and the workers keep, refuses to break quorum without the typed override, offers a drain;
`R` rolls hosts one at a time with per-host progress in the activity panel."""

from __future__ import annotations

import pytest
from textual.widgets import Checkbox, Input, Static

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.session.quorum import OVERRIDE_WORD
from backends.session.session import ClusterSession
from tests.tui_support import FROZEN, audit, settle
from tui.app import K0sTuiApp
from tui.screens.service_confirm import ServiceConfirmScreen

pytestmark = pytest.mark.timeout(120)


def make_app() -> tuple[DemoCluster, K0sTuiApp]:
    demo = DemoCluster(clock=lambda: FROZEN, pull_duration=0.3)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    session.cluster.poll = 0.05
    return demo, K0sTuiApp(session, refresh=0, clock=lambda: FROZEN)


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def mark(app, pilot, *keys: str) -> None:
    table = app.nodes_pane.primary_table()
    for key in keys:
        table.select_key(key)
        await pilot.press("space")


async def test_stop_two_of_three_with_one_down_needs_the_typed_override(xdg) -> None:
    demo, app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await app.session.cluster.service("stop", ["controller-3"])
        await settle(app, pilot)
        await mark(app, pilot, "controller-1", "controller-2")
        await pilot.press("x")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ServiceConfirmScreen) and screen.targets == ["controller-1", "controller-2"]
        refusal = text_of(screen, "#refusal")
        assert "etcd has 3 members, 2 running" in refusal and "takes 2 down, leaving 0" in refusal
        assert "a quorum needs 2" in refusal
        await pilot.click("#confirm")  # nothing typed: refused in the dialog
        await pilot.pause()
        assert app.screen is screen and OVERRIDE_WORD in text_of(screen, "#problem")
        assert demo.node("controller-1").running
        screen.query_one("#typed", Input).focus()
        await pilot.press(*OVERRIDE_WORD, "enter")  # typed, then Enter
        await settle(app, pilot)
        assert not demo.node("controller-1").running and not demo.node("controller-2").running
        rec = audit(xdg)[-1]
        assert rec["operation"] == "stop" and rec["result"] == "ok" and rec["details"]["force"] == "True"


async def test_worker_stop_dialog_counts_ready_workers_and_drains(xdg) -> None:
    demo, app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        app.nodes_pane.primary_table().select_key("worker-1")
        await pilot.press("x")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ServiceConfirmScreen)
        notes = text_of(screen, "#notes")
        assert "Ready workers: 4 of 5 now, 3 while stopping lasts; drain first moves pods off worker-1" in notes
        box = screen.query_one("#drain", Checkbox)
        assert box.value is True and "grace 120s" in str(box.label)
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert not demo.node("worker-1").running and demo.node("worker-1").unschedulable
        assert audit(xdg)[-1]["details"]["drain"] == "True"


async def test_kine_single_controller_stop_says_full_outage(xdg) -> None:
    demo = DemoCluster(controllers=1, workers=1, storage="kine", clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    app = K0sTuiApp(session, refresh=0, clock=lambda: FROZEN)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        app.nodes_pane.primary_table().select_key("controller-1")
        await pilot.press("x")
        await pilot.pause()
        assert "FULL OUTAGE of the Kubernetes API" in text_of(app.screen, "#notes")
        await pilot.press("escape")
        await pilot.pause()
        assert demo.node("controller-1").running


async def test_rolling_restart_key_rolls_with_progress_per_host(xdg) -> None:
    demo, app = make_app()
    pids = {c.name: c.pid for c in demo.controllers}
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await mark(app, pilot, *pids)
        await pilot.press("R")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ServiceConfirmScreen) and screen.targets == list(pids)
        assert "one host at a time, controllers first" in text_of(screen, "#notes")
        await pilot.click("#confirm")
        await settle(app, pilot)
        op = list(app.activity.operations.values())[-1]
        assert op.what == "rolling restart" and op.state == "done", op.errors
        assert all(op.notes[h] == "back" and op.progress[h] == (1.0, 1.0) for h in pids)
        assert op.updates["controller-2"] > op.updates["controller-1"]  # the slow one was waited for
        assert all(demo.node(h).pid != pid for h, pid in pids.items())
        assert [r["hosts"] for r in audit(xdg) if r["operation"] == "rolling restart"] == [[h] for h in pids]


async def test_roll_over_workers_stops_at_worker_4(xdg) -> None:
    demo, app = make_app()
    app.session.cluster.host_deadline = 0.5
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await mark(app, pilot, "worker-4", "worker-5")
        await pilot.press("R")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(app, pilot)
        op = list(app.activity.operations.values())[-1]
        assert op.state == "failed" and "node Ready" in op.errors["worker-4"]
        assert op.notes["worker-5"] == "left untouched" and not demo.node("worker-5").running
        assert "stopped at worker-4" in str(app.screen.query_one("#body", Static).content)


async def test_backups_pane_shows_this_clusters_archives_and_A_shows_all(xdg) -> None:
    staging = DemoCluster(name="staging", clock=lambda: FROZEN)
    other = ClusterSession.open(demo_inventory(staging), simulated=demo_transports(staging), clock=lambda: FROZEN,
                                backup_dir=xdg / "XDG_DATA_HOME" / "k0s-tui" / "backups")
    await other.backups.backup_now()
    demo, app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        table = app.backups_pane.primary_table()
        assert table.row_count == 0 and "0 archive(s) of cluster demo" in text_of(app.backups_pane,
                                                                                 "#backups-status")
        await pilot.press("A")
        await pilot.pause()
        assert table.row_count == 1 and table.cell_text(table.keys[0], "cluster") == "staging"
        assert "1 archive(s) of all clusters" in text_of(app.backups_pane, "#backups-status")

"""The console's :airgap and :plans screens, the drift in the header and Nodes status line, and
the versions columns placed before Message (Pilot, demo cluster, frozen clock)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.session.session import ClusterSession
from tests.tui_support import FROZEN, settle
from tui.app import K0sTuiApp
from tui.screens.airgap import AirgapScreen
from tui.screens.modals import TextScreen
from tui.screens.plans import PlansScreen
from widgets.table import ResourceTable

pytestmark = pytest.mark.timeout(120)


def make_app(**demo_kwargs) -> K0sTuiApp:
    demo = DemoCluster(clock=lambda: FROZEN, **demo_kwargs)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN)


async def type_command(pilot, text: str) -> None:
    await pilot.press(":")
    for ch in text:
        await pilot.press("space" if ch == " " else ("minus" if ch == "-" else ch))
    await pilot.press("enter")


async def test_airgap_screen_lists_what_each_node_lacks(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await type_command(pilot, "airgap")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, AirgapScreen)
        assert app.active_pane.pane_id == "images"  # opened from the Containers pane
        table = screen.query_one(ResourceTable)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert table.cell_text("worker-2", "state") == "missing"
        assert table.cell_text("worker-2", "present") == "6" and table.cell_text("worker-2", "missing") == "1"
        assert table.cell_text("worker-2", "lacks") == "quay.io/k0sproject/cni-node:1.7.1-k0s.0"
        assert table.cell_text("worker-1", "state") == "ok" and table.cell_text("worker-1", "present") == "7"
        assert table.cell_text("controller-1", "state") == "skipped"
        assert "runs v1.31.9+k0s.0" in table.cell_text("worker-3", "lacks")
        status = str(screen.query_one("#report-status", Static).content)
        assert "7 images needed" in status and "2 of 8 hosts lack images" in status
        # enter: the selected host's full list
        table.select_key("worker-2")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TextScreen)
        body = str(app.screen.query_one("#body", Static).content)
        assert "6 of 7 needed images present" in body and "quay.io/k0sproject/cni-node:1.7.1-k0s.0" in body
        await pilot.press("escape")
        # a: compare with --all (optional components too): more needed, more lacking
        await pilot.press("a")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "11 images needed" in str(screen.query_one("#report-status", Static).content)
        assert int(table.cell_text("worker-1", "missing")) == 3  # the Calico images
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AirgapScreen)


async def test_plans_screen_shows_the_plan_in_progress(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await type_command(pilot, "plans")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PlansScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one(ResourceTable)
        keys = {table.cell_text(k, "node"): k for k in table.keys}
        assert set(keys) == set(app.session.host_names)
        assert table.cell_text(keys["worker-3"], "state") == "SignalSent"
        assert table.cell_text(keys["controller-1"], "state") == "SignalCompleted"
        assert table.cell_text(keys["worker-1"], "version") == "v1.33.3+k0s.0"
        status = str(screen.query_one("#report-status", Static).content)
        assert "plan autopilot" in status and "SchedulableWait" in status and "5 of 8 nodes done" in status


async def test_plans_screen_without_autopilot(xdg):
    app = make_app(autopilot=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.run_command("plans")
        await pilot.pause()
        screen = app.screen
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "no autopilot" in str(screen.query_one("#report-status", Static).content)
        assert screen.query_one(ResourceTable).row_count == 0


async def test_drift_in_header_and_nodes_status(xdg):
    app = make_app()
    async with app.run_test(size=(200, 36)) as pilot:  # wide: the header's long forms fit
        await settle(app, pilot)
        header = str(app.header_widget.content)
        assert "k0s 1 of 8 hosts behind v1.33.3+k0s.0" in header
        status = str(app.nodes_pane.query_one("#nodes-status", Static).content)
        assert "1 of 8 hosts behind v1.33.3+k0s.0" in status and "behind: worker-3" in status
        assert "k0sctl.yaml spec.k0s.version" in status


async def test_versions_columns_come_before_message(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        app.session.host("controller-1").transport.cluster.node("worker-1").running = False
        await pilot.press("v")
        await settle(app, pilot)
        order = [c.key for c in table.cols]
        assert order.index("containerd") < order.index("message") == len(order) - 1
        assert [c.key for c in table.cols][-1] == "message"
        # Cells follow their columns: the message column still holds the row's message.
        app.nodes_pane.refresh_data()
        await settle(app, pilot)
        assert table.cell_text("worker-1", "containerd") not in ("", "…")
        assert "not running" in table.cell_text("worker-1", "message").lower()
        assert list(table.row_values("worker-1"))[-1] == "message"  # the row's cells in column order
        await pilot.press("v")
        await pilot.pause()
        assert "containerd" not in [c.key for c in table.cols]


async def test_airgap_all_from_the_command_line_and_hostile_plan_text(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        app.run_command("airgap --all")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AirgapScreen) and screen.all_images
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "list-images --all" in str(screen.query_one("#report-status", Static).content)
        await pilot.press("escape")
        await pilot.pause()
        # Text from the cluster is shown as text, never as markup.
        from backends.k0s.autopilot import PlansResult
        from backends.k0s.parsers.autopilot import Plan, PlanCommand, PlanTarget

        app.run_command("plans")
        await pilot.pause()
        plans = app.screen
        await plans.workers.wait_for_complete()
        hostile = Plan(name="[bold red]p[/]", id="[link=x]i[/link]", state="ApplyFailed", commands=[
            PlanCommand(index=0, kind="k0supdate", version="v1.33.3+k0s.0", targets=[
                PlanTarget(name="[b]n[/b]", role="worker", state="SignalApplyFailed", description="[i]why[/i]")])])
        plans.show(PlansResult(host="controller-1", available=True, plans=[hostile]))
        await pilot.pause()
        table = plans.query_one(ResourceTable)
        [key] = table.keys
        assert table.cell_text(key, "node") == "[b]n[/b]" and table.cell_text(key, "note") == "[i]why[/i]"
        assert "plan [bold red]p[/] (id [link=x]i[/link])" in str(plans.query_one("#report-status", Static).content)

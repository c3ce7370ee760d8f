"""The console on the demo cluster: every pane and action, navigation, palette, hostile labels.

The app gets an injected DemoCluster, XDG dirs inside tmp_path (catalog, audit log, keymap)
and a frozen clock. Waiting is `settle` (tests/tui_support.py: workers idle, messages processed), no sleeps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.command import CommandList
from textual.widgets import Button, Input, Select, Static, Tree

from backends.session.session import ClusterSession
from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.k0s.host import ServiceState
from tui.app import K0sTuiApp
from tui.screens.node_details import NodeDetailsScreen
from tui.screens.modals import ConfirmScreen, InputScreen, TextScreen
from tui.screens.restore import RestoreScreen
from tests.tui_support import FROZEN, audit, settle, settle_until

pytestmark = pytest.mark.timeout(120)


def make_app(*, readonly: bool = False) -> K0sTuiApp:
    demo = DemoCluster(clock=lambda: FROZEN, pull_duration=0.3)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), readonly=readonly, clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN)


def running_worker(app: K0sTuiApp) -> str:
    for snap in app.session.nodes.snapshots():
        name = snap.name
        if snap.state is ServiceState.RUNNING and not app.session.spec(name).is_controller:
            return name
    raise AssertionError("no running worker in the demo")


async def test_nodes_pane_fills_in_and_header(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        # Up at once: every host has a row before any answered.
        table = app.nodes_pane.primary_table()
        assert table.row_count == len(app.session.hosts)
        await settle(app, pilot)
        states = {k: table.cell_text(k, "state") for k in table.keys}
        assert "connecting…" not in states.values()
        assert "running" in states.values()
        c = app.session.nodes.counts()
        header = str(app.header_widget.content)
        assert app.session.name in header
        assert f"hosts {c.reachable}/{c.total}" in header
        assert f"ctrl {c.controllers_running}/{c.controllers}" in header  # shortened at 120 columns
        assert "sysinfo" in header and "certs" in header
        ctl = app.session.controllers()[0]
        assert table.cell_text(ctl, "version").startswith("v1.")
        assert table.cell_text(ctl, "pid") not in ("", "-")


async def test_stop_node_with_confirmation_then_start(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        target = running_worker(app)
        table.select_key(target)
        await pilot.press("x")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.targets == [target]
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert table.cell_text(target, "state") == "stopped"
        rec = audit(xdg)[-1]
        assert rec["operation"] == "stop" and rec["hosts"] == [target] and rec["result"] == "ok"
        # Marks: start two hosts at once; the confirmation names both.
        other = next(n for n in table.visible_keys() if n != target)
        table.select_key(target)
        await pilot.press("space")
        table.select_key(other)
        await pilot.press("space")
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert sorted(app.screen.targets) == sorted([target, other])
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert table.cell_text(target, "state") == "running"


async def test_details_screen_shows_status_and_etcd(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        ctl = app.session.controllers()[0]
        app.nodes_pane.primary_table().select_key(ctl)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, NodeDetailsScreen)
        assert "etcd member" in app.screen.section_text("summary")
        assert "--data-dir" in app.screen.section_text("args") or app.screen.section_text("args") != "loading…"
        assert "version" in app.screen.section_text("summary")
        await pilot.press("escape")
        await settle(app, pilot)
        assert not isinstance(app.screen, NodeDetailsScreen)


async def test_containers_pull_label_remove(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        pane = app.images_pane
        it = pane.images_table
        # one row per image group of every host that answered: all but the stopped worker-5
        assert set(pane.data) == set(app.session.host_names) - {"worker-5"}
        assert it.row_count == sum(len(d.groups) for d in pane.data.values()) >= len(pane.data)
        # the demo has no containerd socket to forward: hosts list images with `ctr`; the
        # stopped worker-5 has no containerd and says so
        assert str(pane.query_one("#images-status", Static).content).startswith(
            "host: all   image path: ctr   worker-5: k0s's containerd is not running (k0s stopped?)")
        host = running_worker(app)
        await pilot.press("colon", *f"images {host}", "enter")
        await settle(app, pilot)
        assert pane.scope == host
        assert {k.split("\x1f")[0] for k in it.keys} == {host}
        # Pull: invalid input is explained, then a valid ref pulls with progress.
        await pilot.press("p")
        await settle(app, pilot)
        assert isinstance(app.screen, InputScreen)
        await pilot.press(*"Bad Ref!", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, InputScreen)
        assert str(app.screen.query_one("#problem", Static).content) == (
            "image reference contains whitespace or control characters")
        app.screen.query_one("#value", Input).value = "docker.io/library/redis:7.4"
        await pilot.press("enter")
        await settle(app, pilot)
        op = list(app.activity.operations.values())[-1]
        assert op.what == "pull docker.io/library/redis:7.4" and op.state == "done", op.errors
        assert op.updates.get(host, 0) >= 2  # progress seen
        refs = {it.cell_text(k, "ref") for k in it.keys}
        assert "docker.io/library/redis:7.4" in refs
        # Label (hostile text stays literal).
        key = next(k for k in it.keys if it.cell_text(k, "ref") == "docker.io/library/redis:7.4")
        it.select_key(key)
        await pilot.press("l")
        await settle(app, pilot)
        await pilot.press(*"no key", "enter")
        await settle(app, pilot)
        assert "=" in str(app.screen.query_one("#problem", Static).content)  # explained
        app.screen.query_one("#value", Input).value = "note=[bold]x [/]"
        await pilot.press("enter")
        await settle(app, pilot)
        assert "note=[bold]x [/]" in it.cell_text(key, "labels")
        svg = app.export_screenshot().replace("&#160;", " ")
        assert "note=[bold]x [/]" in svg
        # Remove with confirmation naming host and image.
        it.select_key(key)
        digest = key.split("\x1f")[1]
        all_refs = [img.ref for g in pane.data[host].groups if g.digest == digest for img in g.refs]
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        # By digest: every ref of the image on that host is named (and removed).
        assert app.screen.targets == [f"{host}: {r}" for r in all_refs] and len(all_refs) >= 1
        assert f"{host}: docker.io/library/redis:7.4" in app.screen.targets
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert not set(all_refs) & {it.cell_text(k, "ref") for k in it.keys}
        assert not any(k.endswith(digest) for k in it.keys)
        ops = [r["operation"] for r in audit(xdg)]
        assert ops == ["pull image", "label image", "remove image"]


async def test_sysinfo_matrix_tree_and_rerun(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("colon", *"sysinfo", "enter")
        await settle(app, pilot)
        pane = app.sysinfo_pane
        table = pane.primary_table()
        verdicts = {k: table.cell_text(k, "verdict") for k in table.keys}
        assert set(verdicts) == set(app.session.host_names)
        assert "pass" in verdicts.values()
        assert any(v in ("rejected", "warning") for v in verdicts.values())  # the demo's failing worker
        bad = next(k for k, v in verdicts.items() if v == "rejected") if "rejected" in verdicts.values() else None
        if bad:
            table.select_key(bad)
            await settle(app, pilot)
            tree = pane.query_one("#sysinfo-tree", Tree)
            labels = []
            stack = list(tree.root.children)
            while stack:
                n = stack.pop()
                labels.append(str(n.label))
                stack.extend(n.children)
            assert any("REJECTED" in lab for lab in labels)
        before = app.session.sysinfo.result(app.session.host_names[0])
        table.select_key(app.session.host_names[0])
        await pilot.press("r")
        await settle(app, pilot)
        assert app.session.sysinfo.result(app.session.host_names[0]) is not before
        assert app.session.sysinfo.verdict() in ("warning", "rejected")


async def test_backup_verify_retention_delete(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await settle(app, pilot)
        await pilot.press("b")
        await settle(app, pilot)
        op = list(app.activity.operations.values())[-1]
        assert op.state == "done", op.errors
        assert sum(op.updates.values()) >= 2
        entries = app.session.backups.list()
        assert len(entries) == 1 and entries[0].verified and entries[0].sha256
        table = app.backups_pane.primary_table()
        assert table.cell_text(entries[0].file, "verified") == "yes"
        assert "backup 0s ago" in str(app.header_widget.content)
        # Verify again.
        await pilot.press("v")
        await settle(app, pilot)
        assert list(app.activity.operations.values())[-1].state == "done"
        # A second backup (a distinct file, never overwriting), then retention keep 1.
        await pilot.press("b")
        await settle(app, pilot)
        assert len(app.session.backups.list()) == 2
        await pilot.press("n")
        await settle(app, pilot)
        app.screen.query_one("#value", Input).value = "1"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and len(app.screen.targets) == 1
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert len(app.session.backups.list()) == 1
        # Delete with confirmation.
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert app.session.backups.list() == [] and table.row_count == 0
        ops = [r["operation"] for r in audit(xdg)]
        assert ops == ["backup", "verify backup", "backup", "backup retention", "delete backup"]


async def test_restore_refused_while_running_then_done_after_stop(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await pilot.press("b")
        await settle(app, pilot)
        [entry] = app.session.backups.list()
        target = app.session.controllers()[0]
        await pilot.press("o")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        screen.query_one("#target", Select).value = target
        await settle(app, pilot)
        checks = str(screen.query_one("#checks", Static).content)
        assert "k0s stopped" in checks and "running" in checks
        screen.query_one("#typed", Input).value = target
        await settle(app, pilot)
        assert screen.query_one("#restore", Button).disabled
        await pilot.press("escape")
        await settle(app, pilot)
        # The backend refuses too, and says why.
        op = app.backups_pane.restore(entry, target)
        await settle(app, pilot)
        assert op.state == "failed" and "stop it first" in op.errors[target]
        # Stop k0s on every controller (k0s restores one; the others rejoin): a quorum override.
        from tui.panes.cluster_actions import run_service
        from tui.screens.service_confirm import ServiceChoice

        run_service(app.nodes_pane, "stop", app.session.controllers(), ServiceChoice(drain=False, force=True))
        await settle(app, pilot)
        await pilot.press("o")
        await settle(app, pilot)
        screen = app.screen
        screen.query_one("#target", Select).value = target
        await settle(app, pilot)
        assert screen.blocking_ok, str(screen.query_one("#checks", Static).content)
        screen.query_one("#typed", Input).value = "wrong-name"
        await settle(app, pilot)
        assert screen.query_one("#restore", Button).disabled
        screen.query_one("#typed", Input).value = target
        await settle(app, pilot)
        assert not screen.query_one("#restore", Button).disabled
        await pilot.click("#restore")
        await settle(app, pilot)
        op = list(app.activity.operations.values())[-1]
        assert op.what == f"restore {entry.file}" and op.state == "done", op.errors
        assert isinstance(app.screen, TextScreen)
        rec = audit(xdg)[-1]
        assert rec["operation"] == "restore" and rec["hosts"] == [target] and rec["result"] == "ok"


async def test_filter_and_command_navigation(xdg):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        total = table.row_count
        await pilot.press("slash", *"worker")
        await settle(app, pilot)
        shown = table.visible_keys()
        assert 0 < len(shown) < total
        assert all("worker" in app.session.spec(k).role for k in shown)
        screen = app.export_screenshot().replace("&#160;", " ")
        assert "filter: worker" in screen and f"{len(shown)} of {total} rows" in screen
        # One esc, with the bar still open, closes it and clears the filter.
        await pilot.press("escape")
        await pilot.pause()
        assert not app.command_input.display and table.row_count == total and table.filter_text == ""
        await pilot.press("slash", *"worker")
        await pilot.press("enter")
        await pilot.press("slash")
        app.command_input.value = "!worker"
        await pilot.press("enter")
        await settle(app, pilot)
        assert len(table.visible_keys()) == total - len(shown)
        await pilot.press("escape")
        await settle(app, pilot)
        assert table.row_count == total
        for cmd, pane in (("backups", "backups"), ("sysinfo", "sysinfo"), ("images", "images"), ("nodes", "nodes")):
            await pilot.press("colon", *cmd, "enter")
            await settle(app, pilot)
            assert app.active_pane_id == pane
        await pilot.press("colon", *"nonsense", "enter")
        await settle(app, pilot)
        assert app.active_pane_id == "nodes"
        await pilot.press("colon", "q", "enter")
        await settle(app, pilot)
    assert app.return_code == 0


async def test_command_palette_jumps_to_pane(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await settle(app, pilot)
        await pilot.press(*"Go to Backups")
        palette = app.screen
        await settle_until(app, pilot, lambda: palette.query_one(CommandList).option_count > 0 and "Go to Backups" in str(
            palette.query_one(CommandList).get_option_at_index(0).prompt), "the palette's first hit")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.active_pane_id == "backups"


async def test_readonly_demo_hides_all_mutations(xdg):
    app = make_app(readonly=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        for key in "1234":
            await pilot.press(key)
            await settle(app, pilot)
            ids = {r[2] for r in app.binding_rows()}
            assert not ids & {"nodes.stop", "nodes.start", "nodes.restart", "images.pull", "images.label",
                              "images.remove", "backups.backup", "backups.delete", "backups.restore",
                              "backups.retention", "backups.verify"}
        await pilot.press("b")
        await settle(app, pilot)
        assert app.session.backups.list() == []
        op = app.images_pane.pull("docker.io/library/redis:7.4", app.session.host_names[:1])
        await settle(app, pilot)
        assert op.state == "refused"
        assert "READ-ONLY" in str(app.header_widget.content).upper()


async def test_refresh_starts_with_marked_and_on_screen_hosts(xdg):
    """A small terminal shows a few rows: the next refresh asks those (and the marked) first."""
    app = make_app()
    async with app.run_test(size=(100, 12)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        shown = table.keys_on_screen()
        assert 0 < len(shown) < len(app.session.host_names)
        last = app.session.host_names[-1]
        assert last not in shown
        table.select_key(last)
        await pilot.press("space")
        await settle(app, pilot)
        table.move_cursor(row=0)
        await settle(app, pilot)
        order = app.nodes_pane.refresh_order()
        on_screen = table.keys_on_screen()
        assert last not in on_screen  # scrolled back to the top
        assert order[0] == last and order[1:1 + len(on_screen)] == on_screen
        assert sorted(order) == sorted(app.session.host_names)

"""Daily use with k9s habits (issue 15): q/esc, the footer at 80 columns, the one-line header,
the row message line, node details, readiness kept between refreshes, container details,
removal by digest, pull progress figures, the restore target switch — on the demo cluster."""

from __future__ import annotations

from datetime import timedelta

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input, Select, Static
from widgets.footer import PinnedFooter

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.k0s.host import ServiceState
from backends.session.session import ClusterSession
from tests.tui_support import FROZEN, audit, settle
from tui.app import K0sTuiApp
from tui.screens.container_details import ContainerDetailsScreen
from tui.screens.modals import ConfirmScreen, HelpScreen
from tui.screens.node_details import SECTIONS, NodeDetailsScreen
from tui.screens.restore import RestoreScreen
from widgets.activity import HostProgress
from widgets.rowmessage import RowMessage

pytestmark = pytest.mark.timeout(120)


def make_app(clock=lambda: FROZEN) -> K0sTuiApp:
    demo = DemoCluster(clock=clock, pull_duration=0.3)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=clock)
    return K0sTuiApp(session, refresh=0, clock=clock)


def screen_lines(app) -> list[str]:
    """What the terminal shows, line by line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def active(app) -> str:
    return app.active_pane_id


# ------------------------------------------------------------------ keys


async def test_footer_keeps_help_and_filter_at_80_columns(xdg):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for pane in ("1", "2"):  # Nodes and Containers have the most keys
            await pilot.press(pane)
            await settle(app, pilot)
            spans = {item.action: (start, end) for item, start, end in app.query_one(PinnedFooter).spans()}
            for action in ("help", "command_bar('/')"):
                start, end = spans[action]
                assert 0 <= start < end <= 80, (action, start, end)
            footer = screen_lines(app)[-1]
            assert "? Help" in footer and "/ Filter" in footer


async def test_q_goes_back_then_quits_and_esc_chain(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await pilot.press("3")
        await settle(app, pilot)
        assert active(app) == "sysinfo"
        # esc: bar first, then (no filter, no marks) the previous pane
        await pilot.press("colon")
        assert app.command_input.display
        await pilot.press("escape")
        assert not app.command_input.display and active(app) == "sysinfo"
        await pilot.press("escape")
        await settle(app, pilot)
        assert active(app) == "images"
        # the filter, then the marks, are cleared before going back
        await pilot.press("1")
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        await pilot.press("slash", *"worker", "enter")
        await pilot.press("space")
        assert table.filter_text == "worker" and table.marked
        await pilot.press("escape")
        assert table.filter_text == "" and table.marked and active(app) == "nodes"
        await pilot.press("escape")
        assert not table.marked and active(app) == "nodes"
        # q on a confirmation closes it (never quits behind it)
        table.select_key(app.session.controllers()[0])
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and app.is_running
        # q: back through the panes, then quit at the top
        await pilot.press("q")
        await settle(app, pilot)
        assert active(app) == "images" and app.is_running
        await pilot.press("q")
        await settle(app, pilot)
        assert active(app) == "nodes"
        assert app.return_code is None
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0  # exited


async def test_help_lists_quit_and_back(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        rows = {bid: (keys, desc) for keys, desc, bid in app.screen.rows}
        assert rows["app.quit"][0] == "^q" and "Quit" in rows["app.quit"][1]
        assert rows["app.back_q"][0] == "q" and rows["app.back"][0] == "esc"


# ------------------------------------------------------------------ rows you can read


async def test_header_is_one_line_at_120_columns(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        header = app.header_widget
        assert header.region.height == 1
        text = str(header.content)
        assert len(text) <= 118 and "…" not in text
        c = app.session.nodes.counts()
        assert f"hosts {c.reachable}/{c.total}" in text and "certs" in text and "k0s 1/8 behind" in text
        assert screen_lines(app)[0].strip() == text
        # narrower: facts are dropped (least important first), hosts stay
        await pilot.resize_terminal(60, 24)
        await pilot.pause()
        narrow = str(header.content)
        assert len(narrow) <= 58 and "hosts 8/8" in narrow and "backup" not in narrow


async def test_message_line_shows_the_selected_rows_full_message(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        pane = app.nodes_pane
        table = pane.primary_table()
        stopped = next(s.name for s in app.session.nodes.snapshots() if s.state is ServiceState.STOPPED)
        table.select_key(stopped)
        await pilot.pause()
        line = pane.query_one(RowMessage)
        message = table.cell_text(stopped, "message")
        assert message and line.message == message and line.key == stopped
        assert any(f"{stopped}: {message[:60]}" in ln for ln in screen_lines(app))
        # a row without a message empties the line
        table.select_key(app.session.controllers()[0])
        await pilot.pause()
        assert line.message == ""


# ------------------------------------------------------------------ node details


async def test_node_details_sections_and_arrow_scrolling(xdg):
    app = make_app()
    async with app.run_test(size=(100, 20)) as pilot:
        await settle(app, pilot)
        worker = next(s.name for s in app.session.nodes.snapshots()
                      if s.state is ServiceState.RUNNING and s.kube_ready)
        app.nodes_pane.primary_table().select_key(worker)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, NodeDetailsScreen)
        assert screen.region.width == 100  # a full screen, not a box
        summary = screen.section_text("summary")
        for word in ("state: running", "role: worker", "k0s version", "uptime", "ready: Ready", "MemoryPressure"):
            assert word in summary, word
        assert "worker" in screen.section_text("args")
        assert '"Version"' in screen.section_text("raw")
        ys = [screen.query_one(f"#section-{s}").region.y for s in SECTIONS]
        assert ys == sorted(ys)  # summary first, raw status last
        scroll = screen.query_one("#details-scroll", VerticalScroll)
        assert app.focused is scroll
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert scroll.scroll_y >= 3  # no tab needed
        await pilot.press("q")
        await pilot.pause()
        assert not isinstance(app.screen, NodeDetailsScreen)


async def test_controller_details_show_etcd_membership(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        ctl = app.session.controllers()[0]
        app.nodes_pane.primary_table().select_key(ctl)
        await pilot.press("enter")
        await settle(app, pilot)
        summary = app.screen.section_text("summary")
        assert "etcd member: yes (3 members)" in summary


# ------------------------------------------------------------------ readiness


async def test_readiness_kept_when_a_worker_answers_first(xdg):
    now = [FROZEN]
    app = make_app(clock=lambda: now[0])
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        worker = next(s.name for s in app.session.nodes.snapshots() if s.kube_ready)
        assert table.cell_text(worker, "ready") == "Ready"
        kubelet = table.cell_text(worker, "kubelet")
        # A refresh in which only the worker answers (its snapshot has no readiness itself).
        now[0] = FROZEN + timedelta(seconds=75)
        app.nodes_pane.refresh_hosts([worker])
        await settle(app, pilot)
        snap = app.session.nodes.snapshot_of(worker)
        assert snap.kube_ready is True and snap.kube_at == FROZEN
        assert table.cell_text(worker, "ready") == "Ready (1m)"  # kept, with its age
        assert table.cell_text(worker, "kubelet") == kubelet
        # The controllers answer again: fresh, no age.
        app.nodes_pane.refresh_data()
        await settle(app, pilot)
        assert table.cell_text(worker, "ready") == "Ready"


# ------------------------------------------------------------------ containers


async def test_container_details_and_pod_column(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        pane = app.images_pane
        ct = pane.containers_table
        pods = {ct.cell_text(k, "pod") for k in ct.keys}
        assert "-" not in pods and any(p.startswith("kube-system/kube-proxy-") for p in pods)
        key = next(k for k in ct.keys if ct.cell_text(k, "name") == "kube-proxy")
        ct.focus()
        ct.select_key(key)
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ContainerDetailsScreen)
        assert isinstance(app.focused, VerticalScroll)  # arrows scroll without a tab first
        d = screen.details
        assert d.name == "kube-proxy" and d.state == "running" and d.namespace == "kube-system"
        assert d.pod == ct.cell_text(key, "pod").split("/", 1)[1]
        body = str(screen.body.content)
        for word in ("image: quay.io/k0sproject/kube-proxy", "state: running", "created:", "pod: kube-proxy-",
                     "namespace: kube-system", "io.kubernetes.container.name=kube-proxy",
                     "/var/run/secrets/kubernetes.io/serviceaccount", "(ro)"):
            assert word in body, word


async def test_remove_pause_needs_its_name_typed(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        pane = app.images_pane
        it = pane.images_table
        host = next(s.name for s in app.session.nodes.snapshots()
                    if s.state is ServiceState.RUNNING and not app.session.spec(s.name).is_controller)
        key = next(k for k in it.keys if k.startswith(host + "\x1f") and "/pause:" in it.cell_text(k, "ref"))
        pause = it.cell_text(key, "ref")
        it.focus()
        it.select_key(key)
        await pilot.press("d")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen) and screen.typed == pause
        assert "PAUSE image of" in screen.detail and "running pod sandbox" in screen.detail
        await pilot.press(*"pause", "enter")  # typed into the field (q would be too)
        await pilot.pause()
        assert app.screen is screen  # wrong text: still asking
        await pilot.press("escape")
        await settle(app, pilot)
        assert any(k == key for k in it.keys)  # nothing removed
        assert audit(xdg) == []
        # The backend refuses without the typed name too.
        digest = key.split("\x1f")[1]
        with pytest.raises(Exception, match="pause image of") as info:
            await app.session.images.remove_digest(host, digest)
        assert type(info.value).__name__ == "BackendError"
        # Confirmed by typing the name: every ref goes, audited with them.
        await pilot.press("d")
        await settle(app, pilot)
        app.screen.query_one("#typed", Input).value = pause
        await pilot.press("enter")
        await settle(app, pilot)
        assert not any(k.endswith(digest) and k.startswith(host) for k in it.keys)
        [record] = audit(xdg)
        assert record["operation"] == "remove image" and pause in record["details"]["refs"]
        assert record["details"]["confirmed_pause"] == pause


# ------------------------------------------------------------------ pull progress


async def test_pull_progress_shows_bytes_and_percent(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        host = next(s.name for s in app.session.nodes.snapshots() if s.state is ServiceState.RUNNING)
        notes: list[str] = []
        op = app.images_pane.pull("docker.io/library/redis:7.4", [host])
        while op.state == "running":
            await pilot.pause(0.05)
            for line in app.activity.query(HostProgress):
                if line.host == host:
                    notes.append(str(line.note.content))
        await settle(app, pilot)
        assert op.state == "done", op.errors
        done, total = op.progress[host]
        assert total and done == total
        figures = [n for n in notes if "/" in n and "%" in n and "B" in n]
        assert figures, notes
        final = next(str(ln.note.content) for ln in app.activity.query(HostProgress) if ln.host == host)
        assert final.endswith("100%") and "MiB" in final


# ------------------------------------------------------------------ restore


async def test_restore_target_switch_renames_and_rechecks(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")
        await pilot.press("b")
        await settle(app, pilot)
        first, second = app.session.controllers()[:2]
        await pilot.press("o")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, RestoreScreen) and screen.target == first
        assert first in str(screen.query_one("#checks", Static).content)
        screen.query_one("#typed", Input).value = first
        screen.query_one("#target", Select).value = second
        await settle(app, pilot)
        hint = str(screen.query_one("#hint", Static).content)
        checks = str(screen.query_one("#checks", Static).content)
        # re-run for the new target: k0s must be stopped on it, and the first is now one of the others
        stopped = next(line for line in checks.splitlines() if "k0s stopped:" in line and "other" not in line)
        assert second in stopped and first not in stopped
        assert first in next(line for line in checks.splitlines() if "other controllers" in line)
        assert first not in hint and first not in screen.query_one("#typed", Input).placeholder
        assert screen.query_one("#typed", Input).value == ""  # the old name no longer confirms
        assert second in screen.query_one("#typed", Input).placeholder

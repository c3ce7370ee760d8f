"""The app on one local host driven by a real stand-in `k0s` script (failed start, read-only)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from backends.session.audit import AuditLog
from backends.k0s.backups import BackupCatalog
from backends.session.session import ClusterSession
from backends.hosts.spec import HostSpec, Inventory
from backends.k0s.host import K0sHost
from backends.transport.local import LocalTransport
from tests.k0s_scripts import prepend_path, write_old_k0s
from tui.app import K0sTuiApp
from tui.console import WorkerKey
from tui.screens.modals import ConfirmScreen, TextScreen
from tests.tui_support import settle

FROZEN = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def make_app(tmp_path: Path, monkeypatch, *, running: bool, readonly: bool = False) -> K0sTuiApp:
    bindir = tmp_path / "bin"
    write_old_k0s(bindir, running=running)
    prepend_path(monkeypatch, bindir)
    spec = HostSpec("local-1", role="controller+worker", k0s_binary=str(bindir / "k0s"))
    session = ClusterSession(Inventory("stand-in", [spec]), [K0sHost(spec, LocalTransport("local-1"))],
                             readonly=readonly, audit=AuditLog(tmp_path / "audit.log"),
                             catalog=BackupCatalog(tmp_path / "backups"), clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, keymap_path=tmp_path / "keymap.toml",
                     scan_certs=False)


async def test_failed_start_shows_init_system_status(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, running=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        assert table.cell_text("local-1", "state") == "stopped"
        await pilot.press("u")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.targets == ["local-1"]
        await pilot.click("#confirm")
        await settle(app, pilot)
        await settle(app, pilot)
        assert isinstance(app.screen, TextScreen)
        body = app.screen.query_one("#body", Static).content
        assert "crashed" in str(body) and "service in failed state" in str(body)
        [op] = app.activity.operations.values()
        assert op.state == "failed" and "crashed" in op.errors["local-1"]


async def test_readonly_hides_bindings_and_backend_refuses(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, running=True, readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        keys = {row[2] for row in app.binding_rows()}
        assert "nodes.stop" not in keys and "nodes.start" not in keys and "nodes.restart" not in keys
        assert "app.filter" in keys
        await pilot.press("x")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        # Even when called directly, the backend refuses and the refusal is visible.
        op = app.nodes_pane.service("stop", ["local-1"])
        await settle(app, pilot)
        assert op.state == "refused" and "read-only" in op.errors["local-1"]
        assert app.nodes_pane.primary_table().cell_text("local-1", "state") == "running"
        records = [json.loads(x) for x in (tmp_path / "audit.log").read_text().splitlines()]
        assert records[-1]["operation"] == "stop" and records[-1]["result"] == "error"
        footer_text = app.export_screenshot()
        assert "Stop" not in footer_text


async def test_keymap_file_rebinds(tmp_path, monkeypatch):
    (tmp_path / "keymap.toml").write_text('[keymap]\n"nodes.stop" = "K"\n"app.help" = "f1"\n')
    app = make_app(tmp_path, monkeypatch, running=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        rows = {r[2]: r[0] for r in app.binding_rows()}
        assert rows["nodes.stop"] == "K" and rows["app.help"] == "f1"
        await pilot.press("x")  # the old key does nothing now
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("K")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen) and app.screen.targets == ["local-1"]
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("f1")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "HelpScreen"


async def test_refresh_of_a_busy_host_is_skipped_not_queued(tmp_path, monkeypatch):
    app = make_app(tmp_path, monkeypatch, running=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        key = WorkerKey("images", "local-1")
        pane = app.images_pane
        first = app.spawn(key, pane._reload("local-1"))
        again = app.start_once(key, pane._reload("local-1"))
        assert first.state in (WorkerState.PENDING, WorkerState.RUNNING)  # still in flight, so:
        assert again is None  # the second request was dropped
        assert app.worker_running(key)
        await settle(app, pilot)
        later = app.start_once(key, pane._reload("local-1"))
        assert isinstance(later, Worker)  # once the first finished, the next refresh runs
        await settle(app, pilot)
        # The stand-in has no `ctr`: the error is shown on the pane, the app keeps running.
        assert "local-1" in pane.errors and app.is_running

"""SVG snapshots of every pane on the demo cluster at 120x36, clock and relative times frozen.

Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update` (stored under
tests/tui/__snapshots__ by pytest-textual-snapshot).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.screenshots import demo_app
from tests.tui_support import settle

pytestmark = pytest.mark.timeout(120)
SIZE = (120, 36)


@pytest.fixture
def app(tmp_path: Path, monkeypatch):
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var))
    # A relative catalog path, so the path shown in the Backups pane is the same on every run.
    monkeypatch.chdir(tmp_path)
    return demo_app(tmp_path, backup_dir=Path("backups"))


def _show(key: str, *, backup: bool = False):
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        if backup:
            pilot.app.backups_pane.backup_now()
            await settle(pilot.app, pilot)
            pilot.app.activity.remove_class("-shown")
        await pilot.press(key)
        await settle(pilot.app, pilot)
    return run_before


def test_nodes_pane(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_show("1"))


def test_containers_pane(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_show("2"))


def test_sysinfo_pane(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_show("3"))


def test_backups_pane(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_show("4", backup=True))


def test_certs_pane(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_show("5"))


def test_config_pane(snap_compare, app):
    assert snap_compare(app, terminal_size=SIZE, run_before=_show("6"))

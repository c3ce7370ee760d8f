"""keymap.toml problems are shown as warnings naming the file, the id and the key (Pilot)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._toast import Toast

from backends.hosts.spec import Inventory
from backends.k0s.backups import BackupCatalog
from backends.session.audit import AuditLog
from backends.session.session import ClusterSession
from tests.tui_support import FROZEN, settle
from tui.app import K0sTuiApp
from tui.keymap import app_chains, keymap_warnings


def make_app(tmp_path: Path, keymap: str) -> K0sTuiApp:
    (tmp_path / "keymap.toml").write_text(keymap)
    session = ClusterSession(Inventory("empty", []), [], audit=AuditLog(tmp_path / "audit.log"),
                             catalog=BackupCatalog(tmp_path / "backups"), clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, keymap_path=tmp_path / "keymap.toml",
                     scan_certs=False)


async def warnings_shown(app: K0sTuiApp, pilot) -> list[str]:
    """The texts of the warning toasts on screen."""
    await settle(app, pilot)
    return [str(t.render()) for t in app.screen.query(Toast) if t.has_class("-warning")]


async def test_unknown_binding_id_is_a_visible_warning(tmp_path):
    app = make_app(tmp_path, '[keymap]\n"nodes.stpo" = "X"\n"app.help" = "f1"\n')
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        [shown] = await warnings_shown(app, pilot)
        assert str(tmp_path / "keymap.toml") in shown
        assert "unknown binding id 'nodes.stpo'" in shown and "'X'" in shown
        # The rest of the file still applies.
        assert {r[2]: r[0] for r in app.binding_rows()}["app.help"] == "f1"


async def test_key_bound_twice_is_a_visible_warning(tmp_path):
    # `b` is backups.backup's own key; `s` is the table's sort key in every pane.
    app = make_app(tmp_path, '[keymap]\n"backups.verify" = "b"\n"nodes.stop" = "s"\n')
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        shown = await warnings_shown(app, pilot)
        assert len(shown) == 2
        backups = next(w for w in shown if "'backups.verify'" in w)
        assert "key 'b' is bound to both 'backups.backup' and 'backups.verify' (Backups pane)" in backups
        nodes = next(w for w in shown if "'nodes.stop'" in w)
        assert "key 's' is bound to both 'nodes.shell' and 'nodes.stop' and 'table.sort' (Nodes pane)" in nodes
        assert all(str(tmp_path / "keymap.toml") in w for w in shown)


async def test_a_clean_keymap_warns_nothing(tmp_path):
    app = make_app(tmp_path, '[keymap]\n"nodes.stop" = "K"\n"app.activity" = "f2,f3"\n')
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        assert await warnings_shown(app, pilot) == []


def test_default_bindings_have_no_clash_within_a_class():
    """Every binding of the console, with no keymap: no class binds one key to two ids."""
    assert keymap_warnings({}, app_chains(K0sTuiApp), "keymap.toml") == []


def test_a_user_key_shadowing_a_screen_key_is_reported():
    """app.back on `q` would collide with the text screen's own `q` (close)."""
    [w] = [w for w in keymap_warnings({"app.back": "q"}, app_chains(K0sTuiApp), "k.toml")
           if "'modal.back_q'" in w]
    # Reported once, under the first screen (by name) that has TextScreen's own `q`.
    assert w.startswith("k.toml: key 'q' is bound to both 'app.back' and ") and w.endswith("(ContainerDetailsScreen)")

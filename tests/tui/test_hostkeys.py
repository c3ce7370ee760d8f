"""Trust-on-first-use of SSH host keys in the console, against REAL sshd servers.

Each server runs the demo `k0s` stand-in first on its sessions' PATH. The app's known_hosts
lives under a temporary $XDG_DATA_HOME and starts empty; the user's ~/.ssh is never read.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
from datetime import datetime, timezone
from pathlib import Path

import pytest
from textual.widgets import Button, Static

from backends.session.session import ClusterSession
from backends.demo import DemoCluster, write_standin
from backends.errors import HostKeyChanged
from backends.hosts.spec import Inventory
from backends.transport.ssh.settings import default_app_known_hosts
from tui.app import K0sTuiApp
from tui.panes.nodes import HOST_KEY_MESSAGES
from tui.screens.modals import HostKeyScreen, TextScreen
from tests.tui_support import settle

FROZEN = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
NODE = "controller-1"


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch) -> Path:
    """Every XDG directory of the app under tmp_path (config, data, state)."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    return tmp_path


@pytest.fixture
def demo_server(sshd_factory, tmp_path: Path):
    """A fresh sshd whose sessions run the demo `k0s` stand-in as controller-1."""
    state = tmp_path / "state.json"
    state.write_text(DemoCluster().to_json())
    bindir = tmp_path / "bin"
    write_standin(bindir, state, NODE)
    server = sshd_factory.start(env={"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin"})
    yield server
    server.kill()


def make_app(server, xdg: Path, **settings) -> tuple[K0sTuiApp, ClusterSession, Path]:
    """The console over SSH to ``server``, trusting only what the app's known_hosts holds."""
    app_kh = default_app_known_hosts()
    assert str(app_kh).startswith(str(xdg))  # the temp XDG dir, never the user's
    settings = server.settings(**{"known_hosts": (), "app_known_hosts": app_kh, **settings})
    spec = server.host_spec(name=NODE, role="controller")
    session = ClusterSession.open(Inventory("tofu", [spec]), settings=settings,
                                  audit_path=xdg / "audit.log", backup_dir=xdg / "backups", clock=lambda: FROZEN)
    app = K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, keymap_path=xdg / "keymap.toml", scan_certs=False)
    return app, session, app_kh


def audit_records(xdg: Path) -> list[dict]:
    """Each action's outcome record (the gate's "intent" records left out)."""
    path = xdg / "audit.log"
    records = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if r["result"] != "intent"]


@pytest.mark.timeout(60)
async def test_unknown_key_reviewed_cancelled_then_trusted(demo_server, xdg):
    app, session, app_kh = make_app(demo_server, xdg)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        assert table.cell_text(NODE, "state") == "key unknown"
        assert table.cell_text(NODE, "message") == HOST_KEY_MESSAGES["host-key-unknown"][1].format(key="t")
        assert "press t" in table.cell_text(NODE, "message")

        # t: the key the host presents, with its SHA256 fingerprint and how to check it.
        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, HostKeyScreen)
        assert screen.fingerprint == demo_server.fingerprint and screen.key_type == "ssh-ed25519"
        body = str(screen.query_one("#hostkey-body", Static).content)
        assert demo_server.fingerprint in body and f"127.0.0.1:{demo_server.port}" in body
        assert "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" in body and str(app_kh) in body

        # Cancel writes nothing and records nothing.
        await pilot.click("#cancel")
        await settle(app, pilot)
        assert not isinstance(app.screen, HostKeyScreen)
        assert not app_kh.exists()
        assert not [r for r in audit_records(xdg) if r["operation"] == "trust-host-key"]
        assert table.cell_text(NODE, "state") == "key unknown"

        # Trust appends exactly one line; the host reconnects and its row fills in.
        await pilot.press("t")
        await settle(app, pilot)
        assert isinstance(app.screen, HostKeyScreen)
        await pilot.click("#trust")
        await settle(app, pilot)
        lines = app_kh.read_text().splitlines()
        assert lines == [f"[127.0.0.1]:{demo_server.port} {demo_server.host_key_line}"]
        assert table.cell_text(NODE, "state") == "running"
        assert table.cell_text(NODE, "message") == ""
        assert session.nodes.snapshot_of(NODE).version  # answered by the stand-in over SSH
        [rec] = [r for r in audit_records(xdg) if r["operation"] == "trust-host-key"]
        assert rec["hosts"] == [NODE] and rec["result"] == "ok"
        assert rec["details"]["fingerprint"] == demo_server.fingerprint
        assert rec["details"]["file"] == str(app_kh)

        # A second t now finds the key trusted: no modal, nothing appended.
        await pilot.press("t")
        await settle(app, pilot)
        assert not isinstance(app.screen, HostKeyScreen)
        assert app_kh.read_text().splitlines() == lines


@pytest.mark.timeout(60)
async def test_changed_key_is_explained_never_trusted(demo_server, xdg):
    app_kh = default_app_known_hosts()
    app_kh.parent.mkdir(parents=True)
    app_kh.write_text(demo_server.known_hosts.read_text())  # trusted earlier…
    old_fp = demo_server.fingerprint
    demo_server.new_host_key()  # …and now the host presents another key
    assert demo_server.fingerprint != old_fp
    before = app_kh.read_bytes()
    app, session, _ = make_app(demo_server, xdg)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        assert table.cell_text(NODE, "state") == "KEY CHANGED"
        assert table.cell_text(NODE, "message") == HOST_KEY_MESSAGES["host-key-changed"][1].format(key="t")

        await pilot.press("t")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, TextScreen) and not isinstance(screen, HostKeyScreen)
        assert {b.id for b in screen.query(Button)} == {"close"}  # no way to trust from here
        body = str(screen.query_one("#body", Static).content)
        assert "DIFFERENT host key" in body and demo_server.fingerprint in body
        removal = shlex.join(["ssh-keygen", "-R", f"[127.0.0.1]:{demo_server.port}", "-f", str(app_kh)])
        assert removal in body
        await pilot.press("escape")
        await settle(app, pilot)

        # Even asked directly, the backend refuses, writes nothing, and audits the refusal.
        with pytest.raises(HostKeyChanged):
            await session.hostkeys.to_trust(NODE)
        with pytest.raises(HostKeyChanged):
            await session.hostkeys.trust(NODE, demo_server.host_key_line)
        assert app_kh.read_bytes() == before
        [rec] = [r for r in audit_records(xdg) if r["operation"] == "trust-host-key"]
        assert rec["result"] == "error" and rec["details"]["fingerprint"] == demo_server.fingerprint
        assert table.cell_text(NODE, "state") == "KEY CHANGED"


@pytest.mark.timeout(60)
async def test_unknown_bastion_key_is_the_one_reviewed(sshd_factory, xdg):
    bastion, target = sshd_factory.start_many(2)
    try:
        app_kh = default_app_known_hosts()
        # The target's key is known (its own known_hosts); the bastion's is not.
        settings = target.settings(app_known_hosts=app_kh)
        spec = target.host_spec("behind")
        spec = dataclasses.replace(spec, ssh=dataclasses.replace(spec.ssh, bastion=bastion.host_spec().ssh))
        session = ClusterSession.open(Inventory("jump", [spec]), settings=settings,
                                      audit_path=xdg / "audit.log", backup_dir=xdg / "backups")
        try:
            review = await session.hostkeys.to_trust("behind")
            key_spec, key_type, fp, line = review.spec, review.key_type, review.fingerprint, review.public_key_line
            assert key_spec.ssh.port == bastion.port and fp == bastion.fingerprint and key_type == "ssh-ed25519"
            await session.hostkeys.trust("behind", line, key_spec)
            assert app_kh.read_text().splitlines() == [f"[127.0.0.1]:{bastion.port} {bastion.host_key_line}"]
            review = await session.hostkeys.review("behind")  # now about the target: already known
            assert review.spec.ssh.port == target.port and review.trusted and not review.changed
            result = await session.host("behind").transport.run(["echo", "through"])
            assert result.stdout == b"through\n"
        finally:
            await session.close()
    finally:
        bastion.kill()
        target.kill()


async def test_row_hint_names_the_rebound_trust_key(demo_server, xdg):
    """keymap.toml moves nodes.trust to `y`: the row says `press y`, and `y` opens the review."""
    (xdg / "keymap.toml").write_text('[keymap]\n"nodes.trust" = "y"\n')
    app, session, app_kh = make_app(demo_server, xdg)
    async with app.run_test(size=(140, 36)) as pilot:
        await settle(app, pilot)
        table = app.nodes_pane.primary_table()
        assert "press y to review" in table.cell_text(NODE, "message")
        await pilot.press("y")
        await settle(app, pilot)
        assert isinstance(app.screen, HostKeyScreen)

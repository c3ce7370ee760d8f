"""The Certificates pane on the demo cluster (real PKI made with `cryptography`, one controller
running for 360 days so its leaf certificates expire within days): fleet table sorted by
expiry, severities in theme colours, details, renew = restart + re-scan with new dates,
read-only refusal, and the header's nearest-expiry field.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from rich.text import Text

from backends.k0s.certs import CertInfo
from backends.session.session import ClusterSession
from backends.demo import DemoCluster, demo_inventory, demo_transports
from tui.app import K0sTuiApp
from tui.panes.certs import CertsPane, cert_key, split_key, status_of
from tui.screens.modals import ConfirmScreen, TextScreen
from widgets.style import theme_color
from tests.tui_support import FROZEN, audit, settle, settle_until

pytestmark = pytest.mark.timeout(60)


def make_app(*, readonly: bool = False) -> K0sTuiApp:
    demo = DemoCluster(clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), readonly=readonly, clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, start_pane="certs")


def certs_pane(app: K0sTuiApp) -> CertsPane:
    return app.pane("certs")  # type: ignore[return-value]


def cell_color(table, key: str, column: str) -> str | None:
    t = table.row_values(key)[column]
    assert isinstance(t, Text)
    return t.style.color.triplet.hex.lower() if t.style and t.style.color else None  # type: ignore[union-attr]


def expiring_controller(app: K0sTuiApp) -> str:
    """The controller whose nearest expiry is soonest (the demo's 360-day-old one)."""
    host, _ = app.session.certs.nearest()  # type: ignore[misc]
    return host


async def test_fleet_table_sorted_with_severities_and_header(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = certs_pane(app)
        table = pane.primary_table()
        controllers = app.session.controllers()
        assert set(app.session.certs.scanned_hosts()) == set(controllers)
        hosts_in_table = {split_key(k)[0] for k in table.keys}
        assert hosts_in_table == set(controllers)  # workers have no PKI: not scanned
        total = sum(len(app.session.certs.of(h)) for h in app.session.certs.scanned_hosts())
        assert table.row_count == total > 3 * 5

        # Sorted by expiry: the expiring controller's leaves on top, in non-decreasing order.
        bad = expiring_controller(app)
        visible = table.visible_keys()
        top_host = split_key(visible[0])[0]
        assert top_host == bad
        afters = [table.cell_text(k, "not_after") for k in visible]
        assert afters == sorted(afters)

        # Its leaves are errors (< 7 days) coloured with the theme's $error; CAs are fine.
        error_hex = (theme_color(app, "error") or "").lower()
        success_hex = (theme_color(app, "success") or "").lower()
        leaf = next(k for k in visible if split_key(k)[0] == bad and table.cell_text(k, "ca") == "")
        assert table.cell_text(leaf, "status") == "EXPIRING"
        assert float(table.cell_text(leaf, "days")) < 7
        assert cell_color(table, leaf, "status") == error_hex
        ca = next(k for k in visible if table.cell_text(k, "ca") == "CA")
        assert table.cell_text(ca, "status") == "ok"
        assert cell_color(table, ca, "status") == success_hex
        # The key and SANs columns come from the real certificates.
        server = next(k for k in visible if split_key(k) == (bad, split_key(k)[1])
                      and split_key(k)[1].endswith("/pki/server.crt"))
        assert table.cell_text(server, "key").startswith("EC")
        assert "kubernetes" in table.cell_text(server, "sans")

        # Header: the nearest expiry names that controller, coloured as an error (its redraw
        # follows the last scan after a refresh: wait for it rather than for one idle pass).
        await settle_until(app, pilot, lambda: f"({bad})" in str(app.header_widget.content),
                           "the header names the controller expiring first")
        header = str(app.header_widget.content)
        assert f"({bad})" in header and "certs in " in header
        assert app.header_widget.info.cert_level == "error"

        # `/` filter works like every table.
        await pilot.press("slash")
        await pilot.press(*"etcd/")
        await pilot.press("enter")
        assert table.visible_keys() and all("etcd/" in table.row_text(k) for k in table.visible_keys())
        await pilot.press("escape")
        assert table.row_count == total

        # Details on enter.
        table.select_key(leaf)
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TextScreen)
        body = app.screen.body.render()
        text = body.plain if isinstance(body, Text) else str(body)
        assert "not after" in text and "renewed by" in text and "k0s restart" in text
        await pilot.press("escape")


async def test_renew_restarts_k0s_and_shows_new_dates(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = certs_pane(app)
        table = pane.primary_table()
        bad = expiring_controller(app)
        old_after = app.session.certs.expiry_of(bad)
        pid_before = app.session.nodes.snapshot_of(bad).status.pid  # type: ignore[union-attr]
        leaf = next(k for k in table.visible_keys() if split_key(k)[0] == bad and table.cell_text(k, "ca") == "")
        table.select_key(leaf)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.targets == [bad] and bad in app.screen.title_text
        await pilot.click("#confirm")
        await settle(app, pilot)

        new_after = app.session.certs.expiry_of(bad)
        assert new_after is not None and old_after is not None and new_after > old_after
        assert (new_after - FROZEN).days >= 364  # re-issued for a year from the restart
        assert app.session.nodes.snapshot_of(bad).status.pid != pid_before  # type: ignore[union-attr]
        # The table shows the new dates: no error row left for that host's leaves.
        for k in table.keys:
            if split_key(k)[0] == bad and table.cell_text(k, "ca") == "":
                assert table.cell_text(k, "status") == "ok"
                assert table.cell_text(k, "not_after").startswith(new_after.strftime("%Y-%m-%d"))
        # The header moved on to another controller (or a later date).
        assert app.header_widget.info.cert_level != "error"
        # Still soonest-first after the renewal replaced that host's rows.
        await pilot.pause()
        shown = [c for h in app.session.certs.scanned_hosts() for c in app.session.certs.of(h) if c.not_after]
        by_key = {cert_key(c.host, c.path): c.not_after for c in shown}
        order = [by_key[k] for k in table.visible_keys() if k in by_key]
        assert len(order) == len(by_key) > 1 and order == sorted(order)
        assert table.sort_column == "not_after" and not table.sort_reverse
        recs = [r for r in audit(xdg) if "renew" in r["operation"]]
        assert len(recs) == 1 and recs[0]["result"] == "ok" and recs[0]["hosts"] == [bad]
        assert recs[0]["details"]["nearest_after"].startswith(new_after.strftime("%Y-%m-%d"))


async def test_renew_cancelled_changes_nothing(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        bad = expiring_controller(app)
        before = app.session.certs.expiry_of(bad)
        await pilot.press("r")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.session.certs.expiry_of(bad) == before
        assert not [r for r in audit(xdg) if "renew" in r["operation"]]


async def test_readonly_hides_and_refuses_renew(xdg):
    app = make_app(readonly=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = certs_pane(app)
        assert pane.check_action("renew", ()) is False
        assert "certs.renew" not in {b.binding.id for b in app.active_bindings.values() if b.enabled}
        await pilot.press("r")
        await settle(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        bad = expiring_controller(app)
        before = app.session.certs.expiry_of(bad)
        # The backend refuses too (and audits the refusal).
        from backends.errors import ReadOnlyRefused

        with pytest.raises(ReadOnlyRefused):
            await app.session.certs.renew(bad)
        assert app.session.certs.expiry_of(bad) == before
        recs = audit(xdg)
        assert recs and recs[-1]["result"] == "error" and "refused" in recs[-1]["error"]


async def test_unreadable_and_not_yet_valid_rows(xdg):
    """Rows for a garbage file and a certificate from the future (clock skew)."""
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = certs_pane(app)
        table = pane.primary_table()
        host = app.session.controllers()[0]
        good = app.session.certs.of(host)[0]
        skewed = CertInfo(host=host, path="/var/lib/k0s/pki/future.crt", subject_cn="future",
                          issuer_cn="kubernetes-ca", not_before=datetime(2027, 1, 1, tzinfo=timezone.utc),
                          not_after=datetime(2028, 1, 1, tzinfo=timezone.utc), key_type="EC", key_size=256)
        garbage = CertInfo(host=host, path="/var/lib/k0s/pki/garbage.crt", error="not a PEM or DER certificate")
        app.session.certs._certs[host] = [good, skewed, garbage]  # a scan that found these
        app.session.certs._times[host] = datetime(2026, 11, 27, 12, 1, tzinfo=timezone.utc)
        pane.sync()
        await settle(app, pilot)
        gk = f"{host}\x1f/var/lib/k0s/pki/garbage.crt"
        fk = f"{host}\x1f/var/lib/k0s/pki/future.crt"
        assert table.cell_text(gk, "status") == "unreadable"
        assert "not a PEM" in table.cell_text(gk, "cn")
        assert table.visible_keys()[0] == gk  # unreadable files first
        assert table.cell_text(fk, "status") == "not yet valid"
        warning = theme_color(app, "warning")
        assert warning and cell_color(table, fk, "status") == warning.lower()
        assert status_of(skewed, FROZEN) == ("not yet valid", "warning")
        # Only this host's rows were replaced.
        assert {split_key(k)[0] for k in table.keys} == set(app.session.controllers())


async def test_certs_command_and_palette_reach_the_pane(xdg):
    demo = DemoCluster(clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    app = K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, scan_certs=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        app.run_command("certs")
        await settle(app, pilot)
        assert app.active_pane.pane_id == "certs"
        # Shown without a start-up scan: the pane scanned the controllers itself.
        assert set(app.session.certs.scanned_hosts()) == set(app.session.controllers())
        counts = [len(app.session.certs.of(h)) for h in app.session.controllers()]
        assert min(counts) > 0 and certs_pane(app).primary_table().row_count == sum(counts)
        from tui.commands import K0sCommands

        names = [n for n, _h, _cb in K0sCommands(app.screen)._commands()]
        assert "Go to Certificates" in names and "Certificates: Renew (restart k0s)" in names


async def test_unreachable_controller_shows_scan_error_row(xdg):
    app = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = certs_pane(app)
        table = pane.primary_table()
        host = app.session.controllers()[0]
        await app.session.host(host).transport.close()  # the demo transport now refuses: unreachable
        key = next(k for k in table.visible_keys() if split_key(k)[0] == host)
        table.select_key(key)
        await pilot.press("c")
        await settle(app, pilot)
        rows = [k for k in table.keys if split_key(k)[0] == host]
        assert rows == [f"{host}\x1f"]
        assert table.cell_text(rows[0], "status") == "scan failed"
        assert "closed" in table.cell_text(rows[0], "cn")
        # The other controllers keep their rows.
        assert any(split_key(k)[0] != host for k in table.keys)
        status = str(pane.query_one("#certs-status").render())
        assert f"scan failed: {host}" in status

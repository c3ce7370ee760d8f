"""The Config pane (k0s.yaml, kube-proxy mode) and the Nodes version columns on the demo cluster.

The mode change goes through the real backend: set_kube_proxy validation, the backup copy
and the atomic write on the demo host's file system; the test reads the host's file back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rich.text import Text
from textual.widgets import OptionList

from backends.session.session import ClusterSession
from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.errors import ReadOnlyRefused, ValidationError
from tui.app import K0sTuiApp
from tui.panes.config import ConfigPane
from tui.screens.choice import ChoiceScreen
from tui.screens.modals import ConfirmScreen
from widgets.style import theme_color
from tests.tui_support import FROZEN, audit, settle

CONFIG = "/etc/k0s/k0s.yaml"
pytestmark = pytest.mark.timeout(60)


def make_app(*, readonly: bool = False, start_pane: str = "config",
             old_controller: str | None = None) -> tuple[K0sTuiApp, DemoCluster]:
    demo = DemoCluster(clock=lambda: FROZEN)
    if old_controller:
        demo.node(old_controller).version = "v1.30.4+k0s.0"  # before nftables (k0s 1.31)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), readonly=readonly, clock=lambda: FROZEN)
    app = K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, start_pane=start_pane, scan_certs=False)
    return app, demo


def config_pane(app: K0sTuiApp) -> ConfigPane:
    return app.pane("config")  # type: ignore[return-value]


def host_file(demo: DemoCluster, host: str, path: str = CONFIG) -> str:
    return demo.read(demo.node(host), path).decode()


def backups_on(demo: DemoCluster, host: str) -> list[str]:
    return [p for p in demo.file_names(demo.node(host)) if p.startswith(CONFIG + ".") and p.endswith(".bak")]


async def choose(app: K0sTuiApp, pilot, choice: str) -> None:
    screen = app.screen
    assert isinstance(screen, ChoiceScreen)
    ol = screen.query_one(OptionList)
    ol.highlighted = screen.choices.index(choice)
    await pilot.press("enter")
    await settle(app, pilot)


async def test_table_shows_each_controller(xdg):
    app, _demo = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        table = config_pane(app).primary_table()
        assert sorted(table.keys) == sorted(app.session.controllers())
        host = app.session.controllers()[0]
        assert table.cell_text(host, "kube_proxy") == "iptables"
        assert table.cell_text(host, "storage") == "etcd"
        assert table.cell_text(host, "network") == "kuberouter"
        assert table.cell_text(host, "api").endswith(":6443")
        assert table.cell_text(host, "version").startswith("v1.")
        table.select_key(host)
        await pilot.press("enter")
        await settle(app, pilot)
        body = app.screen.body.render()  # type: ignore[attr-defined]
        assert "kubeProxy" in (body.plain if isinstance(body, Text) else str(body))


async def test_mode_change_writes_backup_and_offers_restart(xdg):
    app, demo = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = config_pane(app)
        table = pane.primary_table()
        host = app.session.controllers()[1]  # controller-2: the demo host without IPVS modules
        before = host_file(demo, host)
        assert backups_on(demo, host) == []
        table.select_key(host)
        await pilot.press("m")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ChoiceScreen)
        # Only the modes this k0s accepts, then "disabled"; the current one is marked.
        assert screen.choices == ["iptables", "ipvs", "userspace", "nftables", "disabled"]
        assert screen.current == "iptables"
        await choose(app, pilot, "ipvs")

        # The warning (IPVS modules left out in the host's sysinfo) shows BEFORE writing.
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "iptables -> ipvs" in confirm.detail and "WARNING" in confirm.detail
        assert "IPVS" in confirm.detail
        assert host_file(demo, host) == before  # nothing written yet
        await pilot.click("#confirm")
        await settle(app, pilot)

        # Written: mode changed on the host, every other key kept, a backup of the old file.
        after = host_file(demo, host)
        doc = yaml.safe_load(after)
        assert doc["spec"]["network"]["kubeProxy"] == {"disabled": False, "mode": "ipvs"}
        old_doc = yaml.safe_load(before)
        old_doc["spec"]["network"]["kubeProxy"]["mode"] = "ipvs"
        assert doc == old_doc
        baks = backups_on(demo, host)
        assert len(baks) == 1 and host_file(demo, host, baks[0]) == before
        assert table.cell_text(host, "kube_proxy") == "ipvs"
        # Other controllers untouched.
        other = app.session.controllers()[0]
        assert table.cell_text(other, "kube_proxy") == "iptables"
        rec = [r for r in audit(xdg) if r["operation"].startswith("kube-proxy")]
        assert len(rec) == 1 and rec[0]["result"] == "ok" and rec[0]["hosts"] == [host]
        assert rec[0]["details"]["backup"] == baks[0] and rec[0]["details"]["to"] == "ipvs"

        # Then a restart is offered; accepting restarts k0s (new pid), audited as a restart.
        offer = app.screen
        assert isinstance(offer, ConfirmScreen) and offer.targets == [host]
        pid = app.session.nodes.snapshot_of(host).status.pid  # type: ignore[union-attr]
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert app.session.nodes.snapshot_of(host).status.pid != pid  # type: ignore[union-attr]
        assert audit(xdg)[-1]["operation"] == "restart"


async def test_disable_then_cancel_keeps_file(xdg):
    app, demo = make_app()
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = config_pane(app)
        host = app.session.controllers()[1]
        pane.primary_table().select_key(host)
        before = host_file(demo, host)
        await pilot.press("m")
        await settle(app, pilot)
        await choose(app, pilot, "disabled")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and "iptables -> disabled" in confirm.detail
        await pilot.press("escape")
        await settle(app, pilot)
        assert host_file(demo, host) == before and backups_on(demo, host) == []
        # Now confirm it.
        await pilot.press("m")
        await settle(app, pilot)
        await choose(app, pilot, "disabled")
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert yaml.safe_load(host_file(demo, host))["spec"]["network"]["kubeProxy"]["disabled"] is True
        assert pane.primary_table().cell_text(host, "kube_proxy") == "disabled"
        (bak,) = backups_on(demo, host)
        assert "restart pending" in pane.primary_table().cell_text(host, "note")
        assert bak in pane.primary_table().cell_text(host, "note")
        await pilot.press("escape")  # decline the restart offer
        await settle(app, pilot)


async def test_unsupported_modes_not_offered_and_refused(xdg):
    old = "controller-2"
    app, demo = make_app(old_controller=old)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = config_pane(app)
        pane.primary_table().select_key(old)
        await pilot.press("m")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ChoiceScreen)
        assert "nftables" not in screen.choices  # k0s 1.30 does not know it
        assert screen.choices == ["iptables", "ipvs", "userspace", "disabled"]
        await pilot.press("escape")
        await settle(app, pilot)
        # The backend refuses what the UI does not offer, naming the allowed modes; no write.
        before = host_file(demo, old)
        with pytest.raises(ValidationError, match="allowed modes are iptables, ipvs, userspace"):
            await app.session.config.plan_kube_proxy(old, mode="nftables")
        with pytest.raises(ValidationError, match="allowed modes"):
            await app.session.config.plan_kube_proxy(old, mode="bogus")
        assert host_file(demo, old) == before
        # userspace is offered but carries its caveat (gone since Kubernetes 1.26).
        plan = await app.session.config.plan_kube_proxy(old, mode="userspace")
        assert any("userspace" in w for w in plan.warnings)


async def test_readonly_hides_edit_and_backend_refuses(xdg):
    app, demo = make_app(readonly=True)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        pane = config_pane(app)
        host = app.session.controllers()[0]
        pane.primary_table().select_key(host)
        assert pane.check_action("kube_proxy", ()) is False
        await pilot.press("m")
        await settle(app, pilot)
        assert not isinstance(app.screen, (ChoiceScreen, ConfirmScreen))
        before = host_file(demo, host)
        plan = await app.session.config.plan_kube_proxy(host, mode="nftables")  # planning reads only
        with pytest.raises(ReadOnlyRefused):
            await app.session.config.apply_kube_proxy(plan)
        assert host_file(demo, host) == before and backups_on(demo, host) == []
        recs = audit(xdg)
        assert recs[-1]["result"] == "error" and "refused" in recs[-1]["error"]


async def test_nodes_version_columns_highlight_mismatch(xdg):
    app, _demo = make_app(start_pane="nodes")
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(app, pilot)
        nodes = app.nodes_pane
        table = nodes.primary_table()
        # The demo runs one worker on an older k0s: its version cell is in the warning colour.
        odd = app.session.nodes.version_mismatches()["k0s"]
        assert len(odd) == 1
        (old,) = odd
        warn = (theme_color(app, "warning") or "").lower()

        def color(key: str, col: str) -> str | None:
            t = table.row_values(key)[col]
            return t.style.color.triplet.hex.lower() if t.style and t.style.color else None  # type: ignore[union-attr]

        assert color(old, "version") == warn
        same = next(h for h in app.session.host_names if h not in odd and h in table.keys)
        assert color(same, "version") != warn
        # `v` adds the component columns (containerd, runc, etcd) filled by a version scan.
        assert "containerd" not in [c.key for c in table.cols]
        await pilot.press("v")
        await settle(app, pilot)
        # ... before Message, so they are seen at 120 columns.
        assert [c.key for c in table.cols][-4:] == ["containerd", "runc", "etcd", "message"]
        assert table.cell_text(old, "containerd") == "v1.7.22"
        assert color(old, "containerd") == warn
        assert table.cell_text(same, "containerd") not in ("", "v1.7.22")
        await pilot.press("v")
        await settle(app, pilot)
        assert "containerd" not in [c.key for c in table.cols]
        assert table.cell_text(old, "version").startswith("v1.31")
        # Node details list the component versions.
        table.select_key(old)
        await pilot.press("enter")
        await settle(app, pilot)
        text = app.screen.section_text("versions")  # type: ignore[attr-defined]
        assert "containerd" in text and "v1.7.22" in text

"""Start-up (issue 13): the first frame waits only for what it shows.

Panes not on screen are built when first shown, from what the work they started meanwhile
gathered; the pane on screen refreshes once; the footer's keys are built once for the first
frame; modules no frame needs (asyncssh, cryptography, gRPC, protobuf, pyyaml, tarfile, the modal
screens, the log machinery, the user-command loader without a commands.toml, k0s.yaml handling,
the quorum rules) are not loaded
before it, for the demo and for SSH hosts alike (the real CLI path); nor is pyyaml by the
start's own work (the first refresh, sysinfo, the certificate scan)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.session.session import ClusterSession
from tui.app import K0sTuiApp
from widgets.footer import PinnedFooter
from tests.tui_support import FROZEN, settle

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[2]
PANE_IDS = ("nodes", "images", "sysinfo", "backups", "certs", "config", "logs")


def make_app(**kwargs) -> K0sTuiApp:
    demo = DemoCluster(clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, **kwargs)


async def test_hidden_panes_are_built_on_first_show_from_what_was_gathered(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert [p.pane_id for p in app.built_panes()] == ["nodes"]
        assert all(not app.pane(p).children for p in PANE_IDS if p != "nodes")
        # What the hidden panes start still ran: the header has the sysinfo verdict and the
        # nearest certificate expiry (the Sysinfo and Certificates panes' start-up work).
        header = str(app.header_widget.content)
        assert "sysinfo rejected" in header and "certs in 4d5h" in header
        await pilot.press("3")
        await settle(app, pilot)
        sysinfo = app.sysinfo_pane
        assert sysinfo.built and app.focused is sysinfo.primary_table()
        verdicts = {k: sysinfo.primary_table().cell_text(k, "verdict") for k in sysinfo.primary_table().keys}
        assert set(verdicts) == set(app.session.host_names)
        assert {r.verdict for r in app.session.sysinfo.results()} == set(verdicts.values()) >= {"pass", "rejected"}
        await pilot.press("5")
        await settle(app, pilot)
        certs = app.pane("certs")
        expected = sum(len(app.session.certs.of(h)) for h in app.session.controllers())
        assert expected > 0 and certs.primary_table().row_count == expected
        assert {p.pane_id for p in app.built_panes()} == {"nodes", "sysinfo", "certs"}


async def test_a_command_reaches_a_pane_not_built_yet(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert not app.images_pane.built
        await pilot.press("colon", *"images worker-1", "enter")
        await settle(app, pilot)
        pane = app.images_pane
        assert pane.built and pane.scope == "worker-1"
        hosts = {k.split("\x1f")[0] for k in pane.images_table.keys}
        assert hosts == {"worker-1"}


async def test_the_first_frame_comes_before_any_host_is_asked(xdg):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        # Composed and mounted, before the first refresh: no worker yet, "connecting…" rows.
        assert not list(app.workers)
        table = app.nodes_pane.primary_table()
        assert {table.cell_text(h, "state") for h in app.session.host_names} == {"connecting…"}
        await settle(app, pilot)  # the first frame, then the panes start
        assert "connecting…" not in {table.cell_text(h, "state") for h in app.session.host_names}
        assert app.session.sysinfo.verdict() == "rejected"


async def test_a_pane_switch_before_the_panes_started(xdg):
    """A key right at start (before the first frame's follow-up work): the pane switched to is
    shown and refreshed once, the start pane's work still runs."""
    app = make_app()
    streams: list[list[str]] = []
    stream = app.session.images.stream

    def counted(hosts):
        streams.append(list(hosts))
        return stream(hosts)

    app.session.images.stream = counted  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("2")
        await settle(app, pilot)
        assert streams == [app.session.host_names]
        pane = app.images_pane
        assert app.active_pane is pane and pane.built and app.focused is pane.images_table
        assert pane.images_table.row_count > 0 and set(pane.data) >= {"worker-1"}
        assert len(app.session.nodes.snapshots()) == len(app.session.host_names)


async def test_the_pane_on_screen_refreshes_once_at_start(xdg):
    app = make_app()
    calls: list[object] = []
    refresh = app.session.nodes.refresh

    async def counted(*args, **kwargs):
        calls.append(kwargs.get("names"))
        return await refresh(*args, **kwargs)

    app.session.nodes.refresh = counted  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert len(calls) == 1 and set(calls[0]) == set(app.session.host_names)
        assert len(app.session.nodes.snapshots()) == len(app.session.host_names)


async def test_the_panes_not_on_screen_start_once_the_pane_on_screen_answered(xdg):
    """Sysinfo and the certificate scan (the hidden panes' start-up work) begin only after
    every host answered the Nodes refresh and the console was quiet; settle waits for them."""
    app = make_app()
    events: list[str] = []
    refresh, sysinfo, scan = app.session.nodes.refresh, app.session.sysinfo.run, app.session.certs.scan

    async def nodes_refresh(*args, **kwargs):
        try:
            return await refresh(*args, **kwargs)
        finally:
            events.append("nodes answered")

    async def sysinfo_run(name, **kwargs):
        events.append("sysinfo")
        return await sysinfo(name, **kwargs)

    async def certs_scan(name):
        events.append("certs")
        return await scan(name)

    app.session.nodes.refresh = nodes_refresh  # type: ignore[method-assign]
    app.session.sysinfo.run = sysinfo_run  # type: ignore[method-assign]
    app.session.certs.scan = certs_scan  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        assert app.background_pending
        await settle(app, pilot)
        assert not app.background_pending
    assert events[0] == "nodes answered"
    assert events.count("sysinfo") == len(app.session.host_names)
    assert events.count("certs") == len(app.session.controllers())


async def test_a_quit_before_the_panes_not_on_screen_started(xdg):
    """The background start's check running while the app shuts down starts nothing."""
    app = make_app()
    async with app.run_test(size=(120, 36)):
        pass  # quit at once: the first frame's follow-up work has not begun
    app._start_background_when_quiet()  # what its timer would do during the shutdown
    assert app.session.sysinfo.results() == [] and app.session.certs.scanned_hosts() == []


async def test_a_click_on_a_tab_shows_its_pane(xdg):
    from widgets.tabbar import TabBar

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        bar = app.query_one(TabBar)
        start = next(start for tab_id, start, _ in bar.spans() if tab_id == "images")
        await pilot.click(TabBar, offset=(start, 0))
        await settle(app, pilot)
        assert app.active_pane_id == "images" and bar.active == "images"
        assert app.images_pane.built and app.focused is app.images_pane.images_table
        assert app.pane_history == ["nodes"]


async def test_the_console_hands_the_gil_back_sooner_while_it_runs(xdg):
    from tui.app import SWITCH_INTERVAL

    before = sys.getswitchinterval()
    assert before > SWITCH_INTERVAL  # CPython's default, 5 ms
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
    assert sys.getswitchinterval() == pytest.approx(before)


async def test_a_start_pane_other_than_nodes_starts_nodes_too(xdg):
    app = make_app(start_pane="sysinfo")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        assert {p.pane_id for p in app.built_panes()} == {"nodes", "sysinfo"}
        assert app.focused is app.sysinfo_pane.primary_table()
        # The Nodes pane (built for the header's figures) refreshed though it is hidden.
        assert len(app.session.nodes.snapshots()) == len(app.session.host_names)
        table = app.nodes_pane.primary_table()
        assert all(table.cell_text(h, "state") != "connecting…" for h in app.session.host_names)


async def test_the_footer_builds_its_keys_once_per_change(xdg, monkeypatch):
    """Textual's footer rebuilds its keys on every bindings signal (a focus move sends two);
    ours repaints once per change, and the first frame already shows the pane's keys."""
    builds: list[list[str]] = []
    show_keys = PinnedFooter.show_keys

    def counted(self, items, palette) -> None:
        if (items, palette) != (self.items, self.palette):
            builds.append([item.key for item in items])
        show_keys(self, items, palette)

    monkeypatch.setattr(PinnedFooter, "show_keys", counted)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        footer = app.query_one(PinnedFooter)
        await pilot._wait_for_screen()
        assert footer.items is not None  # the first frame drew keys
        first = [item.key for item in footer.items]
        await settle(app, pilot)
        assert builds == []  # the first frame had the focused table's keys already
        # help and filter first (pinned), then the Nodes pane's and its table's keys.
        assert first[:2] == ["question_mark", "slash"] and {"u", "x", "r", "space"} <= set(first)
        assert [item.key for item in footer.items] == first
        await pilot.press("4")  # another pane: its keys (the move may pass through no focus)
        await settle(app, pilot)
        assert "b" in builds[-1] and "u" not in builds[-1]
        count = len(builds)
        await pilot.press("4")  # the same pane again: nothing changed, nothing rebuilt
        await settle(app, pilot)
        assert len(builds) == count


@pytest.mark.parametrize("hosts", [["--demo"], ["--ssh", "root@127.0.0.1:1", "--ssh", "root@127.0.0.2:1"]])
def test_the_cli_builds_the_console_without_ssh_crypto_grpc_or_screens(hosts, xdg):
    """`k0s-tui` up to running the app (inventory, session, the app and every module its
    first frame needs) loads none of the modules only contacting hosts, parsing their answers,
    images, certificates, backups, a keymap file, an opened screen or `--version` need, nor
    Textual's tab and footer widgets (ours draw the tabs and keys)."""
    code = (
        "import sys, tui.app, tui.cli\n"
        "def report(self):\n"
        "    heavy = ('asyncssh', 'cryptography', 'grpc', 'google.protobuf', 'tarfile', 'yaml',\n"
        "             'tui.screens.modals', 'tui.screens.node_details', 'tui.screens.container_details',\n"
        "             'importlib.metadata', 'backends.k0s.parsers.logs', 'widgets.logview',\n"
        "             'backends.hosts.usercommands', 'backends.k0s.config', 'backends.session.quorum',\n"
        "             'backends.k0s.parsers', 'backends.k0s.backups', 'backends.k0s.certs', 'backends.images.ctr',\n"
        "             'backends.session.images', 'backends.session.certs', 'backends.session.backups',\n"
        "             'backends.session.hostkeys', 'tomllib', 'textual.widgets._tabbed_content',\n"
        "             'textual.widgets._footer')\n"
        "    if '--demo' in sys.argv:  # SSH hosts need their transport's modules, the demo none\n"
        "        heavy += ('backends.transport.ssh.deferred', 'backends.transport.ssh.settings')\n"
        "    print('loaded:', ','.join(m for m in heavy if m in sys.modules))\n"
        "    print('hosts:', len(self.session.hosts))\n"
        "tui.app.K0sTuiApp.run = report\n"
        "sys.exit(tui.cli.main(sys.argv[1:]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *hosts], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["loaded: ", f"hosts: {8 if hosts == ['--demo'] else 2}"]


def test_the_start_work_loads_no_yaml_logs_or_user_command_modules(xdg):
    """Everything a demo start does until it is idle (first frame, the Nodes refresh, sysinfo,
    the certificate scan) parses no YAML, and leaves the Logs pane's machinery and the
    user-command loader (no commands.toml) unloaded."""
    code = (
        "import asyncio, sys, tempfile\n"
        "from pathlib import Path\n"
        "from tui.screenshots import demo_app\n"
        "async def main():\n"
        "    app = demo_app(Path(tempfile.mkdtemp()))\n"
        "    async with app.run_test(size=(120, 36)) as pilot:\n"
        "        while len(app.session.nodes.snapshots()) < len(app.session.hosts) or app.session.sysinfo.verdict() is None:\n"
        "            await pilot.pause(0.01)\n"
        "        await app.workers.wait_for_complete()\n"
        "        assert app.session.certs.nearest() is not None\n"
        "    heavy = ('yaml', 'backends.k0s.parsers.logs', 'widgets.logview', 'backends.hosts.usercommands',\n"
        "             'backends.k0s.config', 'backends.session.quorum')\n"
        "    print('loaded:', ','.join(m for m in heavy if m in sys.modules))\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["loaded: "]

"""Make docs/screenshots/{nodes,containers,sysinfo,backups,certs,config,airgap,plans,node-details}.svg with the app itself.

    python -m tui.screenshots [OUTDIR]      (default docs/screenshots)

Runs the demo cluster headless at 120x36 with a frozen clock, a temporary backup catalog
holding one fresh backup, waits until every host answered, and saves one SVG per pane.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from tui.settle import settle

FROZEN = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)
SIZE = (120, 36)
SHOTS = (("nodes", "1", "nodes.svg"), ("images", "2", "containers.svg"), ("sysinfo", "3", "sysinfo.svg"),
         ("backups", "4", "backups.svg"), ("certs", "5", "certs.svg"), ("config", "6", "config.svg"),
         ("logs", "7", "logs.svg"))
#: `:` commands whose screens are saved too (after the panes).
SCREEN_SHOTS = (("airgap", "airgap.svg"), ("plans", "plans.svg"))


def demo_app(tmp: Path, *, clock=lambda: FROZEN, refresh: float = 0.0, scan_certs: bool = True,
             backup_dir: Path | None = None, **demo_kwargs):
    """A K0sTuiApp on a fresh demo cluster, its catalog (default ``tmp/backups``) and audit under ``tmp``."""
    from backends.session.session import ClusterSession
    from backends.demo import DemoCluster, demo_inventory, demo_transports
    from tui.app import K0sTuiApp

    demo_kwargs.setdefault("clock", clock)
    demo = DemoCluster(**demo_kwargs)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), backup_dir=backup_dir or tmp / "backups",
                                  audit_path=tmp / "audit.log", clock=clock)
    return K0sTuiApp(session, refresh=refresh, clock=clock, keymap_path=tmp / "none.toml", scan_certs=scan_certs,
                     commands_path=tmp / "none-commands.toml")


async def make_screenshots(outdir: Path) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    outdir = outdir.resolve()
    written = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # a relative catalog path: the Backups pane shows "backups", not a temp path
        app = demo_app(Path(tmp), backup_dir=Path("backups"))
        async with app.run_test(size=SIZE) as pilot:
            await settle(app, pilot)
            op = app.backups_pane.backup_now()
            await settle(app, pilot)
            if op is not None and op.state != "done":
                print(f"warning: demo backup {op.state}: {op.errors}", file=sys.stderr)
            app.activity.remove_class("-shown")
            for _pane, key, name in SHOTS:
                await pilot.press(key)
                await settle(app, pilot)
                app.save_screenshot(name, str(outdir))
                written.append(outdir / name)
            for command, name in SCREEN_SHOTS:  # screens opened by `:` commands
                app.run_command(command)
                await settle(app, pilot)
                await app.screen.workers.wait_for_complete()
                await pilot.pause()
                app.save_screenshot(name, str(outdir))
                written.append(outdir / name)
                app.pop_screen()
                await pilot.pause()
            # The node details screen of the first worker.
            await pilot.press("1")
            await settle(app, pilot)
            worker = next(n for n in app.session.host_names if not app.session.spec(n).is_controller)
            app.nodes_pane.primary_table().select_key(worker)
            await pilot.press("enter")
            await settle(app, pilot)
            app.save_screenshot("node-details.svg", str(outdir))
            written.append(outdir / "node-details.svg")
            app.pop_screen()
            await pilot.pause()
        os.chdir(cwd)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    outdir = Path(args[0]) if args else Path("docs/screenshots")
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    for path in asyncio.run(make_screenshots(outdir)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

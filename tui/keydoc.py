"""Print the key bindings as a Markdown table, generated from the app's real bindings.

    python -m tui.keydoc

Runs the app headless on an empty inventory, visits every pane and collects the bindings in
force there (the same list `?` shows), so the README never drifts from the code.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path


async def collect() -> list[tuple[str, str, str, str]]:
    """(where, keys, action, id) rows: global bindings once, then each pane's own."""
    from backends.session.audit import AuditLog
    from backends.k0s.backups import BackupCatalog
    from backends.session.session import ClusterSession
    from backends.hosts.spec import Inventory
    from tui.app import K0sTuiApp
    from tui.panes import PANES

    with tempfile.TemporaryDirectory() as tmp:
        session = ClusterSession(Inventory("docs", []), [], audit=AuditLog(Path(tmp) / "a.log"),
                                 catalog=BackupCatalog(Path(tmp) / "b"))
        app = K0sTuiApp(session, refresh=0, keymap_path=Path(tmp) / "none.toml", scan_certs=False,
                        commands_path=Path(tmp) / "none-commands.toml")
        rows: list[tuple[str, str, str, str]] = []
        seen: set[str] = set()
        async with app.run_test(size=(160, 48)) as pilot:
            for i, pane in enumerate(PANES):
                await pilot.press(str(i + 1))
                await pilot.pause()
                for keys, desc, bid in app.binding_rows():
                    if not bid or bid in seen:  # DataTable's own arrows/page keys have no id
                        continue
                    seen.add(bid)
                    where = "all panes" if bid.startswith(("app.", "table.")) or not bid else pane.title
                    rows.append((where, keys, desc, bid))
            for title, screen in screens(session):  # screens opened by `:` commands
                await app.push_screen(screen)
                await pilot.pause()
                await screen.workers.wait_for_complete()
                for keys, desc, bid in app.binding_rows():
                    if bid.startswith(screen.BINDINGS[0].id.split(".")[0] + ".") and bid not in seen:
                        seen.add(bid)
                        rows.append((title, keys, desc, bid))
                app.pop_screen()
                await pilot.pause()
        rows.append(("all panes", "enter", "Details of the row under the cursor", "(table)"))
        rows.append(("all panes", "^p", "Command palette (panes and actions)", "(textual)"))
        rows.sort(key=lambda r: (r[0] != "all panes", r[0]))
        return rows


def screens(session) -> list[tuple[str, object]]:
    """(title, screen) of the screens `:` commands open, for their own bindings."""
    from tui.screens.airgap import AirgapScreen
    from tui.screens.plans import PlansScreen

    return [("`:airgap`", AirgapScreen(session)), ("`:plans`", PlansScreen(session))]


def markdown(rows: list[tuple[str, str, str, str]]) -> str:
    out = ["| Where | Key | Action | Binding id |", "|---|---|---|---|"]
    for where, keys, desc, bid in rows:
        out.append(f"| {where} | `{keys}` | {desc} | `{bid}` |")
    return "\n".join(out) + "\n"


def main() -> int:
    sys.stdout.write(markdown(asyncio.run(collect())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

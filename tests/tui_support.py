"""Helpers shared by the console's Pilot tests (the `xdg` fixture lives in conftest.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

#: The frozen "now" of the console tests: relative times and the demo's clock stay stable.
FROZEN = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


async def settle(app, pilot) -> None:
    """Wait until no worker runs and the screen has caught up (no sleeps)."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def audit(xdg: Path, *, intents: bool = False) -> list[dict]:
    """The audit log's records under the test's XDG state dir: each action's outcome (and,
    with ``intents``, also the record the mutation gate writes before the action)."""
    path = xdg / "XDG_STATE_HOME" / "k0s-tui" / "audit.log"
    records = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if intents or r["result"] != "intent"]

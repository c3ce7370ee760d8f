"""Helpers shared by the console's Pilot tests (the `xdg` fixture lives in conftest.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path


from tests.waits import POLL
from tui.settle import settle  # noqa: F401 - the tests' settle

#: The frozen "now" of the console tests: relative times and the demo's clock stay stable.
FROZEN = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


async def settle_until(app, pilot, condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """Settle, then keep processing messages until ``condition()`` holds (a debounced search,
    a timer-driven refresh); fails naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    await settle(app, pilot, timeout)
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await pilot.pause(POLL)
        await settle(app, pilot, max(deadline - time.monotonic(), 0.01))


def audit(xdg: Path, *, intents: bool = False) -> list[dict]:
    """The audit log's records under the test's XDG state dir: each action's outcome (and,
    with ``intents``, also the record the mutation gate writes before the action)."""
    path = xdg / "XDG_STATE_HOME" / "k0s-tui" / "audit.log"
    records = [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if intents or r["result"] != "intent"]

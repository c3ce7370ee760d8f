"""Waiting until a running console has come to rest, for Pilot drivers: the screenshots, the
tests and the benches (one definition of "at rest" for all of them)."""

from __future__ import annotations

import asyncio
import time

from textual.worker import WorkerState

#: Seconds between two looks while something is due (a throttled header, the background start).
POLL = 0.02


async def settle(app, pilot, timeout: float = 30.0) -> None:
    """Wait until no worker runs and the app has processed its pending messages (no sleeps).

    A finished worker posts messages whose handlers may start more workers (a refresh that
    fetches details), so this repeats until one pass finds nothing pending or running after the
    screen caught up, the panes not on screen started their work (shortly after the first frame)
    and the header's figures (recomputed at most twice a second) are current. Raises
    TimeoutError after ``timeout`` s.
    """
    deadline = time.monotonic() + timeout
    while True:
        await asyncio.wait_for(app.workers.wait_for_complete(), max(deadline - time.monotonic(), 0.01))
        await pilot.pause()  # handlers of what the workers posted run now
        if getattr(app, "header_pending", False) or getattr(app, "background_pending", False):
            await pilot.pause(POLL)
        elif not any(w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in app.workers):
            return
        if time.monotonic() >= deadline:
            raise TimeoutError("workers still running after settle's timeout")

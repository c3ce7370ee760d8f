"""Condition waits for tests: poll a predicate until it holds or a deadline passes (no fixed sleeps)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

#: How often a condition is re-checked: short, so a test waits barely longer than the event.
POLL = 0.02


async def wait_for(condition: Callable[[], object], what: str, timeout: float = 5.0) -> None:
    """Return once ``condition()`` is truthy; fail the test naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(POLL)


async def wait_for_path(path: Path, timeout: float = 5.0) -> None:
    """Return once ``path`` exists (a stand-in's marker file, say)."""
    await wait_for(path.exists, f"{path} never appeared", timeout)


def running(pattern: str) -> bool:
    """Whether a process whose command line matches ``pattern`` (pgrep -f) runs on this machine.

    Tests pass patterns unique to themselves (odd sleep lengths), so others' processes never match.
    """
    return subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True).returncode == 0


async def wait_for_process(pattern: str, timeout: float = 10.0) -> None:
    """Return once a process matching ``pattern`` runs (a remote command reached its host)."""
    await wait_for(lambda: running(pattern), f"no process matches {pattern!r}", timeout)


async def wait_for_no_process(pattern: str, timeout: float = 10.0) -> None:
    """Return once no process matches ``pattern`` (a killed command is gone)."""
    await wait_for(lambda: not running(pattern), f"a process still matches {pattern!r}", timeout)

"""Headless `k0s-tui [hosts] logs [HOST…] [--since 10m] [--follow] [--component C] [--json]`.

Prints k0s's own log of the chosen hosts (default: all), each line prefixed with its host,
merged by time; ``--json`` prints one JSON object per line. With ``--follow`` the streams stay
open (one channel per host) until interrupted; lines are merged within short flush windows.
Control characters never reach the terminal. Exit: 0, 1 when any host failed, 2 for usage.
No Textual here.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TextIO

from backends.errors import BackendError
from backends.k0s.host import K0sHost
from backends.k0s.logs import DEFAULT_LINES, LogFollower, error_entry, merge_by_time, read_logs
from backends.k0s.parsers.logs import LogEntry, visible

EXIT_OK, EXIT_HOST_FAILED, EXIT_USAGE = 0, 1, 2
#: Seconds between two flushes of a follow (lines of all hosts within one are sorted by time).
FLUSH = 0.2
_DURATION = re.compile(r"(\d{1,9})([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """``10m``/``2h``/``30s``/``1d`` ago, or an ISO time; ValueError otherwise."""
    now = time.time() if now is None else now
    m = _DURATION.fullmatch(text.strip())
    if m:
        return now - int(m.group(1)) * _UNITS[m.group(2)]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: give a duration (10m, 2h, 1d) or an ISO time") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def format_entry(e: LogEntry, *, as_json: bool) -> str:
    """One output line: ``HOST TIME LEVEL COMPONENT: MESSAGE`` or a JSON object."""
    when = (datetime.fromtimestamp(e.time, timezone.utc).isoformat(timespec="microseconds")
            .replace("+00:00", "Z") if e.time is not None else None)
    if as_json:
        return json.dumps({"host": e.host, "time": when, "level": e.level, "component": e.component,
                           "message": e.message, "stream": e.stream, "kind": e.kind}, ensure_ascii=False)
    comp = f" {visible(e.component)}:" if e.component else ""
    return f"{visible(e.host)} {when or '-'} {e.level or '-'}{comp} {visible(e.message)}"


async def run_logs(hosts: Sequence[K0sHost], *, names: Sequence[str] = (), since: float | None = None,
                   follow: bool = False, component: str | None = None, as_json: bool = False,
                   lines: int | None = DEFAULT_LINES, out: TextIO, close: bool = True,
                   stop: asyncio.Event | None = None) -> int:
    """Print the logs of ``hosts`` (those in ``names`` when given). Returns the exit status.

    ``stop`` ends a follow (tests); otherwise it runs until cancelled (Ctrl-C).
    """
    chosen = [h for h in hosts if not names or h.name in names]
    unknown = [n for n in names if n not in {h.name for h in hosts}]
    if unknown:
        out.write(f"k0s-tui: unknown host: {', '.join(unknown)}\n")
        return EXIT_USAGE
    failed = False

    def emit(entries: list[LogEntry]) -> None:
        nonlocal failed
        text = []
        for e in entries:
            if e.kind == "error":
                failed = True
            elif component and e.component != component:
                continue
            text.append(format_entry(e, as_json=as_json))
        if text:
            out.write("\n".join(text) + "\n")
            out.flush()

    try:
        if not follow:
            results = await asyncio.gather(*(_read(h, since, lines) for h in chosen))
            emit(merge_by_time(results))
            return EXIT_HOST_FAILED if failed else EXIT_OK
        pending: list[LogEntry] = []
        follower = LogFollower(pending.extend)
        follower.start(list(chosen), lines=lines, since=since)
        try:
            while follower.running and not (stop is not None and stop.is_set()):
                await asyncio.sleep(FLUSH)
                if pending:
                    batch = sorted(pending, key=lambda e: e.time or 0.0)
                    pending.clear()
                    emit(batch)
        finally:
            await follower.stop()
            if pending:
                emit(sorted(pending, key=lambda e: e.time or 0.0))
        return EXIT_HOST_FAILED if failed else EXIT_OK
    finally:
        if close:
            await asyncio.gather(*(h.transport.close() for h in hosts), return_exceptions=True)


async def _read(host: K0sHost, since: float | None, lines: int | None) -> list[LogEntry]:
    try:
        return await read_logs(host, since=since, lines=lines)
    except BackendError as exc:
        return [error_entry(host.name, f"cannot read the log ({exc.kind}): {exc.message}")]

"""Headless `k0s-tui [hosts] logs [HOST…] [--since 10m] [--follow] [--component C] [--json]`.

Prints k0s's own log of the chosen hosts (default: all), each line prefixed with its host,
merged by time; ``--json`` prints one JSON object per line. With ``--follow`` the streams stay
open (one channel per host) until interrupted; lines are merged within short flush windows.
Control characters never reach the terminal. Exit: 0, 1 when any host failed, 2 for usage.
No Textual here.
"""

from __future__ import annotations

import asyncio
import functools
import math
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TextIO

from backends.errors import BackendError
from backends.k0s.host import K0sHost
from backends.k0s.logs import DEFAULT_LINES, LogFollower, error_entry, merge_by_time, read_logs, sort_by_time
from backends.k0s.parsers.logs import COMPONENT, HOST, KIND, LEVEL, MESSAGE, STREAM, TIME, Row, has_unsafe, visible
from backends.safetext import dumps_json

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


#: Seconds beyond any calendar: a time there has no date to print.
_FAR = 1e15


@functools.lru_cache(maxsize=1024)
def _utc_second(second: int) -> str | None:
    """``2026-09-01T10:15:42`` of a whole second (a log prints many lines in each)."""
    try:
        return datetime.fromtimestamp(second, timezone.utc).isoformat()[:19]
    except (OverflowError, OSError, ValueError):
        return None


def utc_stamp(when: float | None) -> str | None:
    """``2026-09-01T10:15:42.123456Z``: what ``datetime.fromtimestamp(when, utc).isoformat()``
    says (microseconds rounded the same way), the date part formatted once per second."""
    if when is None or not math.isfinite(when):
        return None
    frac, whole = math.modf(when)
    micro, second = round(frac * 1e6), int(whole)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    elif micro < 0:
        second, micro = second - 1, micro + 1_000_000
    day = _utc_second(second)
    return None if day is None else f"{day}.{micro:06d}Z"


def format_row(row: Row, *, as_json: bool) -> str:
    """One output line, safe for a terminal: ``HOST TIME LEVEL COMPONENT: MESSAGE`` (control
    characters shown as ``\\xNN``) or a JSON object (ASCII)."""
    when = utc_stamp(row[TIME])
    if as_json:
        return dumps_json({"host": row[HOST], "time": when, "level": row[LEVEL], "component": row[COMPONENT],
                           "message": row[MESSAGE], "stream": row[STREAM], "kind": row[KIND]})
    comp = f" {row[COMPONENT]}:" if row[COMPONENT] else ""
    return visible(f"{row[HOST]} {when or '-'} {row[LEVEL] or '-'}{comp} {row[MESSAGE]}")


def format_rows(rows: list[Row]) -> str:
    """:func:`format_row` of each row (text form), each line ending in a newline.

    Built for a follow printing many thousand lines a second: the date part is formatted once
    per second, and the lines are built raw and checked together (one ``isprintable`` over them
    all: no control character, no bidi mark, no newline inside a message); only when that finds
    something is each line made visible. The output is the same as line by line.
    """
    lines: list[str] = []
    append = lines.append
    modf = math.modf
    last_whole, day = None, None
    for when, host, level, component, message, _stream, _kind in rows:
        if when is not None and -_FAR < when < _FAR:  # (NaN and infinities fail it)
            frac, whole = modf(when)
            if whole != last_whole:
                last_whole, day = whole, _utc_second(int(whole))
            micro = round(frac * 1e6)
            if day is not None and 0 <= micro < 1_000_000:
                if component:
                    append(f"{host} {day}.{micro:06d}Z {level or '-'} {component}: {message}")
                else:
                    append(f"{host} {day}.{micro:06d}Z {level or '-'} {message}")
                continue
            stamp = utc_stamp(when) or "-"  # no calendar date, or rounded into the next second
        else:
            stamp = "-"
        if component:
            append(f"{host} {stamp} {level or '-'} {component}: {message}")
        else:
            append(f"{host} {stamp} {level or '-'} {message}")
    if not lines:
        return ""
    if not "".join(lines).isprintable() and has_unsafe("".join(lines)):
        lines = [visible(line) for line in lines]
    return "\n".join(lines) + "\n"


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

    def emit(rows: list[Row]) -> None:
        nonlocal failed
        if any(r[KIND] == "error" for r in rows):
            failed = True
        if component:
            rows = [r for r in rows if r[KIND] == "error" or r[COMPONENT] == component]
        if not rows:
            return
        if as_json:
            out.write("".join(format_row(r, as_json=True) + "\n" for r in rows))
        else:
            out.write(format_rows(rows))
        out.flush()

    try:
        if not follow:
            results = await asyncio.gather(*(_read(h, since, lines) for h in chosen))
            emit(merge_by_time(results))
            return EXIT_HOST_FAILED if failed else EXIT_OK
        pending: list[Row] = []
        follower = LogFollower(pending.extend)
        follower.start(list(chosen), lines=lines, since=since)
        try:
            while follower.running and not (stop is not None and stop.is_set()):
                # a flush window, cut short when the streams end (a host printing flat out)
                await asyncio.wait(list(follower.tasks.values()), timeout=FLUSH)
                if pending:
                    batch = sort_by_time(pending)
                    pending.clear()
                    emit(batch)
        finally:
            await follower.stop()
            if pending:
                emit(sort_by_time(pending))
        return EXIT_HOST_FAILED if failed else EXIT_OK
    finally:
        if close:
            await asyncio.gather(*(h.transport.close() for h in hosts), return_exceptions=True)


async def _read(host: K0sHost, since: float | None, lines: int | None) -> list[Row]:
    try:
        return await read_logs(host, since=since, lines=lines)
    except BackendError as exc:
        return [error_entry(host.name, f"cannot read the log ({exc.kind}): {exc.message}")]

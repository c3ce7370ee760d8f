"""Headless `k0s-tui [hosts] logs [HOST…] [--since 10m] [--follow] [--component C] [--json]`.

Prints k0s's own log of the chosen hosts (default: all), each line as the host's log source
printed it (journalctl's ``short-iso-precise`` line, the OpenRC file's logrus line) prefixed with
the host, merged by time; ``--json`` prints the parsed fields, one JSON object per line. The text
form parses nothing: a single host's batch is prefixed with string operations over the whole
batch, several hosts are merged by each line's leading stamp only, and ``--component`` parses
just to filter. With ``--follow`` the streams stay
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
from backends.k0s.logs import (DEFAULT_LINES, DEFAULT_SINCE, LogFollower, error_entry, merge_by_time, read_logs,
                               read_raw, sort_by_time)
from backends.k0s.parsers.logs import (COMPONENT, HOST, KIND, LEVEL, MESSAGE, STREAM, TIME, Row, has_unsafe,
                                       line_times, parse_rows, plain_lines, visible)
from backends.safetext import dumps_json
from backends.transport.base import block_lines

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


class _RawHost:
    """One host's raw text output: its prefix (text and encoded), the time of its last stamped
    line, and whether its lines still need the ``--since`` check (a files source cannot select
    by time)."""

    __slots__ = ("name", "prefix", "prefix_bytes", "between", "last", "gate")

    def __init__(self, name: str, since: float | None, encoding: str) -> None:
        self.name, self.prefix, self.last, self.gate = name, f"{visible(name)} ", None, since
        self.prefix_bytes = self.prefix.encode(encoding, "backslashreplace")
        self.between = b"\n" + self.prefix_bytes


#: One arrival of a text-mode follow: a host's raw block ``(host, fmt, block)`` or an error row.
_Item = tuple[str, str, bytes] | Row


class RawPrinter:
    """Turns raw blocks (and typed error rows) into the text output, safe for a terminal, as
    bytes in ``encoding``.

    ``merge``: several hosts, whose lines are ordered by their stamps; otherwise the blocks
    are printed in arrival order, and a block of plain ASCII lines is prefixed with one bytes
    replace: nothing decoded, split or encoded (a host printing flat out is read at the speed
    of ``ssh``).
    """

    def __init__(self, hosts: Sequence[str], *, since: float | None, component: str | None,
                 encoding: str = "utf-8") -> None:
        self.encoding = encoding
        self.hosts = {name: _RawHost(name, since, encoding) for name in hosts}
        self.merge = len(self.hosts) > 1
        self.since, self.component = since, component

    def render(self, items: list[_Item]) -> bytes:
        """The output of ``items`` (each line ending in a newline)."""
        if not self.merge:
            return b"".join(self._batch(item) if len(item) == 3 else self._encode(format_rows([item]))
                            for item in items)
        timed: list[tuple[float, str]] = []
        for item in items:
            if len(item) == 3:
                lines, times = self._lines(item[0], item[1], block_lines(item[2]), need_times=True)
                prefix = self.hosts[item[0]].prefix
                lines = self._safe(lines)
                timed.extend(zip([0.0 if t is None else t for t in times], [prefix + line for line in lines]))
            else:
                timed.append((item[TIME] or 0.0, format_rows([item])[:-1]))
        timed.sort(key=lambda pair: pair[0])  # stable: a host's lines keep their order
        return self._encode("".join(line + "\n" for _when, line in timed))

    def _encode(self, text: str) -> bytes:
        return text.encode(self.encoding, "backslashreplace")

    def _batch(self, item: tuple[str, str, bytes]) -> bytes:
        host, fmt, block = item
        state = self.hosts[host]
        if (not self.component and (fmt == "short" or (fmt == "logrus" and state.gate is None))
                and plain_lines(block)):
            return state.prefix_bytes + block.replace(b"\n", state.between) + b"\n"
        lines, _times = self._lines(host, fmt, block_lines(block), need_times=False)
        if not lines:
            return b""
        prefix = state.prefix
        text = prefix + ("\n" + prefix).join(lines) + "\n"  # one C-level pass builds the batch
        if has_unsafe(text, lines=True):  # and one checks it (the prefix is made safe already)
            text = prefix + ("\n" + prefix).join(map(visible, lines)) + "\n"
        return self._encode(text)

    @staticmethod
    def _safe(lines: list[str]) -> list[str]:
        return list(map(visible, lines)) if has_unsafe("\n".join(lines), lines=True) else lines

    def _lines(self, host: str, fmt: str, lines: list[str], *,
               need_times: bool) -> tuple[list[str], list[float | None]]:
        """The lines of a batch to print, and their times when ``need_times`` (or a check of
        ``--since`` needs them): parsed only for ``--component`` or a json source."""
        state = self.hosts[host]
        if "" in lines:
            lines = [line for line in lines if line]
        if self.component or fmt not in ("short", "logrus"):
            kept = [line for line in lines if not line.isspace()]
            rows = parse_rows(fmt, kept, host)
            if fmt not in ("short", "logrus"):  # journalctl too old for short-iso-precise: json
                kept = [format_rows([row])[len(state.prefix):-1] for row in rows]
            pairs = [(line, row) for line, row in zip(kept, rows)
                     if not self.component or row[COMPONENT] == self.component]
            times: list[float | None] = []
            for _line, row in pairs:
                state.last = row[TIME] if row[TIME] is not None else state.last
                times.append(state.last)
            lines = [line for line, _row in pairs]
        elif need_times or (state.gate is not None and fmt == "logrus"):
            times = line_times(fmt, lines, state.last)
            if times:
                state.last = times[-1]
        else:
            return lines, []
        if state.gate is not None and fmt == "logrus" and lines:
            # tail prints the file's last lines whatever their time: drop those before --since
            # (the file is in time order, so the check ends at the first line that passes)
            first = next((i for i, t in enumerate(times) if t is not None and t >= state.gate), None)
            if first is None:
                return [], []
            state.gate = None
            lines, times = lines[first:], times[first:]
        return lines, times


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
    since = time.time() - DEFAULT_SINCE if since is None else since
    try:
        if as_json:
            return await _run_json(chosen, since=since, follow=follow, component=component, lines=lines,
                                   out=out, stop=stop)
        return await _run_raw(chosen, since=since, follow=follow, component=component, lines=lines,
                              out=out, stop=stop)
    finally:
        if close:
            await asyncio.gather(*(h.transport.close() for h in hosts), return_exceptions=True)


async def _run_raw(chosen: list[K0sHost], *, since: float, follow: bool, component: str | None,
                   lines: int | None, out: TextIO, stop: asyncio.Event | None) -> int:
    """The text form: each line as the source printed it, prefixed with its host."""
    encoding = getattr(out, "encoding", None) or "utf-8"
    printer = RawPrinter([h.name for h in chosen], since=since, component=component, encoding=encoding)
    failed = False

    def emit(items: list[_Item]) -> None:
        nonlocal failed
        if any(len(item) != 3 for item in items):
            failed = True
        data = printer.render(items)
        if data:
            write_bytes(out, data, encoding)

    if not follow:
        results = await asyncio.gather(*(_read_raw(h, since, lines) for h in chosen))
        emit([item for result in results for item in result])
        return EXIT_HOST_FAILED if failed else EXIT_OK
    pending: list[_Item] = []
    if printer.merge:  # lines of several hosts wait for a flush window to be merged
        follower = LogFollower(pending.extend, raw=lambda host, fmt, block: pending.append((host, fmt, block)))
    else:  # one host: each block is printed as it arrives (no window to wait for at the end)
        follower = LogFollower(emit, raw=lambda host, fmt, block: emit([(host, fmt, block)]))
    await _follow(follower, chosen, pending, emit, since=since, lines=lines, stop=stop, sort=False)
    return EXIT_HOST_FAILED if failed else EXIT_OK


def write_bytes(out: TextIO, data: bytes, encoding: str) -> None:
    """``data`` (text in ``encoding``) to ``out``: straight into its binary buffer when it has
    one, so a big batch is not decoded and encoded again; flushed either way."""
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        out.write(data.decode(encoding, "replace"))
        out.flush()
        return
    out.flush()  # what went through the text layer before comes first
    buffer.write(data)
    buffer.flush()


async def _follow(follower: LogFollower, chosen: list[K0sHost], pending: list, emit, *, since: float,
                  lines: int | None, stop: asyncio.Event | None, sort: bool) -> None:
    follower.start(list(chosen), lines=lines, since=since)
    try:
        while follower.running and not (stop is not None and stop.is_set()):
            # a flush window, cut short when the streams end (a host printing flat out)
            await asyncio.wait(list(follower.tasks.values()), timeout=FLUSH)
            if pending:
                batch = sort_by_time(pending) if sort else list(pending)
                pending.clear()
                emit(batch)
    finally:
        await follower.stop()
        if pending:
            emit(sort_by_time(pending) if sort else list(pending))


async def _run_json(chosen: list[K0sHost], *, since: float, follow: bool, component: str | None,
                    lines: int | None, out: TextIO, stop: asyncio.Event | None) -> int:
    """``--json``: the parsed fields of each line, one object per line."""
    failed = False

    def emit(rows: list[Row]) -> None:
        nonlocal failed
        if any(r[KIND] == "error" for r in rows):
            failed = True
        if component:
            rows = [r for r in rows if r[KIND] == "error" or r[COMPONENT] == component]
        if rows:
            out.write("".join(format_row(r, as_json=True) + "\n" for r in rows))
            out.flush()

    if not follow:
        results = await asyncio.gather(*(_read(h, since, lines) for h in chosen))
        emit(merge_by_time(results))
        return EXIT_HOST_FAILED if failed else EXIT_OK
    pending: list[Row] = []
    await _follow(LogFollower(pending.extend), chosen, pending, emit, since=since, lines=lines, stop=stop,
                  sort=True)
    return EXIT_HOST_FAILED if failed else EXIT_OK


async def _read_raw(host: K0sHost, since: float | None, lines: int | None) -> list[_Item]:
    try:
        fmt, raw = await read_raw(host, since=since, lines=lines)
    except BackendError as exc:
        return [error_entry(host.name, f"cannot read the log ({exc.kind}): {exc.message}")]
    return [(host.name, fmt, "\n".join(raw).encode("utf-8"))]  # a block, as a follow delivers


async def _read(host: K0sHost, since: float | None, lines: int | None) -> list[Row]:
    try:
        return await read_logs(host, since=since, lines=lines)
    except BackendError as exc:
        return [error_entry(host.name, f"cannot read the log ({exc.kind}): {exc.message}")]

"""k0s's own log on a host: where it is (journal or OpenRC files), reading it, following it.

- :func:`resolve_source` finds the source from the init system `k0s status` reports (systemd ->
  the journal unit ``k0scontroller``/``k0sworker``; OpenRC -> ``/var/log/<binary>.log`` and
  ``.err``), probing the files when k0s is down and cannot say.
- :func:`read_logs` fetches a window (default: the last 1,000 lines, at most 1 h old);
  :func:`follow_host` keeps one long-lived command (one SSH channel) open per host, and
  :class:`LogFollower` runs it for many hosts: a host that drops yields a typed error entry
  while the others keep streaming.
- Lines travel as :data:`~backends.k0s.parsers.logs.Row` tuples (``LogEntry(*row)`` reads one
  by field name): cheap to make at thousands a second, and invisible to the garbage collector.
- :class:`RingBuffer` keeps a view's rows in time order, bounded (default 50,000).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import heapq
import posixpath
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from backends.errors import BackendError
from backends.k0s.host import K0sHost
from backends.k0s.parsers.logs import TIME, CriJoiner, LogEntry, Row, parse_line, parse_rows
from backends.transport.base import CommandResult

DEFAULT_LINES = 1000
DEFAULT_SINCE = 3600.0
DEFAULT_BUFFER = 50_000
#: The console's own component tag on entries it makes (errors about the stream itself).
CONSOLE = "k0s-tui"

OnRows = Callable[[list[Row]], None]
#: ``(host, fmt, block)``: lines exactly as the host's log source printed them, as the raw
#: bytes of a :meth:`~backends.transport.base.Transport.stream_chunks` block (``fmt``: the
#: parser format that would read them), for a consumer that does not parse.
OnRawBlock = Callable[[str, str, bytes], None]
#: ``journalctl -o``: exact times (µs) at a fifth of the bytes of ``json`` (whose records carry
#: some twenty fields), and a line that parses for a few µs. A journalctl too old to know it
#: (systemd < 234) refuses it, and ``json`` is asked instead.
JOURNAL_OUTPUT = "short-iso-precise"


@dataclass(frozen=True)
class LogSource:
    """Where a host's k0s log is: ``kind`` "journal" (``unit``, read as ``output``) or "files"
    (``files``)."""

    kind: str
    unit: str = ""
    files: tuple[str, ...] = ()
    output: str = JOURNAL_OUTPUT

    @property
    def fmt(self) -> str:
        """The parser format of what :meth:`argv` prints."""
        if self.kind == "journal":
            return "json" if self.output == "json" else "short"
        return "logrus"

    def argv(self, *, lines: int | None = DEFAULT_LINES, since: float | None = None,
             until: float | None = None, follow: bool = False) -> list[str]:
        """The command printing this source (``since``/``until``: seconds since the epoch;
        the files source cannot select by time, its lines are filtered after parsing)."""
        if self.kind == "journal":
            return journal_argv(self.unit, lines=lines, since=since, until=until, follow=follow, fmt=self.output)
        return tail_argv(self.files, lines=lines, follow=follow)

    def fallback(self, result: CommandResult) -> LogSource | None:
        """The source to ask instead when ``result`` says journalctl does not know our output
        format (``Unknown output format 'short-iso-precise'.``), else None."""
        if self.kind != "journal" or self.output == "json" or result.ok:
            return None
        return replace(self, output="json") if self.output in result.stderr_text else None

    def describe(self) -> str:
        return f"journal unit {self.unit}" if self.kind == "journal" else ", ".join(self.files)


def journal_argv(unit: str, *, lines: int | None = DEFAULT_LINES, since: float | None = None,
                 until: float | None = None, follow: bool = False, fmt: str = JOURNAL_OUTPUT) -> list[str]:
    """``journalctl -u UNIT -o FMT --all --no-pager [-n N] [--since @EPOCH] [--until @EPOCH] [-f]``.

    ``--all``: messages as logged, however long or unprintable (without it journalctl prints
    ``[… blob data]`` for a message with control characters, strips ANSI sequences, and nulls
    json fields over 4 KiB); the console escapes what it shows.
    """
    argv = ["journalctl", "-u", unit, "-o", fmt, "--all", "--no-pager"]
    if lines is not None:
        argv += ["-n", str(max(0, int(lines)))]
    if since is not None:
        argv += ["--since", f"@{int(since)}"]
    if until is not None:
        argv += ["--until", f"@{int(until) + 1}"]
    if follow:
        argv.append("-f")
    return argv


def tail_argv(files: Sequence[str], *, lines: int | None = DEFAULT_LINES, follow: bool = False) -> list[str]:
    """``tail -q -n N [-F] -- FILE…`` (``-F``: follows across log rotation)."""
    argv = ["tail", "-q", "-n", str(max(0, int(lines if lines is not None else DEFAULT_LINES)))]
    if follow:
        argv.append("-F")
    return [*argv, "--", *files]


def container_log_argv(log_path: str, *, lines: int = DEFAULT_LINES, follow: bool = True) -> list[str]:
    """``tail -n N [-F] -- LOG_PATH``: a container's CRI log file (path from CRI ContainerStatus)."""
    return ["tail", "-n", str(max(0, int(lines)))] + (["-F"] if follow else []) + ["--", log_path]


def unit_for(role: str) -> str:
    """The systemd unit k0s installs for a role."""
    return "k0sworker" if role == "worker" else "k0scontroller"


def openrc_files(k0s_binary: str) -> tuple[str, str]:
    """OpenRC's supervise-daemon log files: named after the binary's basename."""
    name = posixpath.basename(k0s_binary.rstrip("/")) or "k0s"
    return f"/var/log/{name}.log", f"/var/log/{name}.err"


async def resolve_source(host: K0sHost) -> LogSource:
    """The log source of ``host``: from `k0s status`'s init system, else by probing the files.

    k0s that is down cannot report its init system, and that is exactly when its log is
    wanted: then an existing OpenRC ``.err`` file decides, the journal otherwise.
    """
    role, init = host.spec.role, None
    try:
        status = await host.status()
        role, init = status.role or role, (status.init_system or "").lower()
    except BackendError:
        pass
    files = openrc_files(host.spec.k0s_binary)
    if init and "openrc" in init:
        return LogSource("files", files=files)
    if init and "systemd" in init:
        return LogSource("journal", unit=unit_for(role))
    probe = await host.transport.run(["tail", "-n", "0", "--", files[1]], timeout=15.0, sudo=host.sudo)
    if probe.ok:
        return LogSource("files", files=files)
    return LogSource("journal", unit=unit_for(role))


class _Parser:
    """Parses one host's lines; a line without a time gets the previous line's time."""

    def __init__(self, host: str, fmt: str, component: str = "", since: float | None = None,
                 until: float | None = None) -> None:
        self.host, self.fmt, self.component, self.since, self.until = host, fmt, component, since, until
        self.last: float | None = None
        self.cri = CriJoiner() if fmt == "cri" else None

    def __call__(self, lines: list[str]) -> list[Row]:
        if self.cri is not None:
            joined = (self.cri.feed(parse_line(self.fmt, line, self.host, self.component))
                      for line in lines if line and not line.isspace())
            rows = [e.row() for e in joined if e is not None]
        else:
            rows = parse_rows(self.fmt, lines, self.host, self.component)
        if not rows:
            return rows
        since, until = self.since, self.until
        times = [row[TIME] for row in rows]
        if None not in times:  # the usual batch: every line had its time
            self.last = times[-1]
            if (since is not None and min(times) < since) or (until is not None and max(times) > until):
                rows = [row for row in rows if (since is None or row[TIME] >= since)
                        and (until is None or row[TIME] <= until)]
            return rows
        last = self.last
        out: list[Row] = []
        for row in rows:
            when = row[TIME]
            if when is None:
                if last is not None:
                    row = (last, *row[1:])
                when = last
            else:
                last = when
            if when is not None and ((since is not None and when < since) or (until is not None and when > until)):
                continue
            out.append(row)
        self.last = last
        return out


def error_entry(host: str, message: str, when: float | None = None) -> Row:
    """A typed error shown in the view itself (kind "error", component :data:`CONSOLE`)."""
    return LogEntry(when if when is not None else time.time(), host, "error", CONSOLE, message, kind="error").row()


async def read_raw(host: K0sHost, *, source: LogSource | None = None, lines: int | None = DEFAULT_LINES,
                   since: float | None = None, until: float | None = None) -> tuple[str, list[str]]:
    """A window of ``host``'s k0s log as the source printed it, oldest first: ``(fmt, lines)``
    (``since`` defaults to one hour ago; a files source cannot select by time, so its lines
    are the last ``lines`` whatever their time).

    Raises BackendError when the host cannot be reached or the command fails.
    """
    source = source or await resolve_source(host)
    since = time.time() - DEFAULT_SINCE if since is None else since
    result = await host.transport.run(source.argv(lines=lines, since=since, until=until), timeout=60.0,
                                      sudo=host.sudo)
    older = source.fallback(result)
    if older is not None:
        source = older
        result = await host.transport.run(source.argv(lines=lines, since=since, until=until), timeout=60.0,
                                          sudo=host.sudo)
    if not result.ok:
        raise BackendError(host.name, f"cannot read {source.describe()}: "
                           f"{result.stderr_text.strip()[:300] or f'exit {result.exit_status}'}")
    return source.fmt, result.stdout_text.splitlines()


async def read_logs(host: K0sHost, *, source: LogSource | None = None, lines: int | None = DEFAULT_LINES,
                    since: float | None = None, until: float | None = None) -> list[Row]:
    """A window of ``host``'s k0s log, parsed, oldest first (``since`` defaults to one hour ago).

    Raises BackendError when the host cannot be reached or the command fails.
    """
    since = time.time() - DEFAULT_SINCE if since is None else since
    fmt, raw = await read_raw(host, source=source, lines=lines, since=since, until=until)
    return _Parser(host.name, fmt, since=since, until=until)(raw)


async def follow_host(host: K0sHost, on_entries: OnRows, *, source: LogSource | None = None,
                      lines: int | None = DEFAULT_LINES, since: float | None = None,
                      raw: OnRawBlock | None = None) -> None:
    """Stream ``host``'s log into ``on_entries`` until cancelled (one long-lived command).

    With ``raw`` the lines are not parsed: each batch goes to ``raw`` as the source printed it
    (the headless path), and only the error entries to ``on_entries``. Never raises for the host's own failures: an unreachable or dropped host, or a command
    that ends, becomes an :func:`error_entry` so a merged view shows it in place.
    """
    try:
        source = source or await resolve_source(host)
        since = time.time() - DEFAULT_SINCE if since is None else since
        result, read = await _stream(host.transport, host.name, source.argv(lines=lines, since=since, follow=True),
                                     source.fmt, on_entries, sudo=host.sudo, since=since, raw=raw)
        older = source.fallback(result) if read == 0 else None
        if older is not None:
            result, read = await _stream(host.transport, host.name, older.argv(lines=lines, since=since, follow=True),
                                         older.fmt, on_entries, sudo=host.sudo, since=since, raw=raw)
        on_entries([_ended(host.name, result)])
    except BackendError as exc:
        on_entries([error_entry(host.name, f"log stream lost ({exc.kind}): {exc.message}")])


#: Lines parsed between two yields to the event loop (keys stay responsive while a chatty
#: host streams thousands of lines per second).
PARSE_SLICE = 500
#: Raw lines waiting to be parsed at most; past it the reader parses before it reads on
#: (backpressure through the SSH window), so nothing is lost and memory stays bounded.
MAX_PENDING = 20_000


async def follow_command(transport, host: str, argv: list[str], fmt: str, on_entries: OnRows, *,
                         sudo: bool = False, since: float | None = None, component: str = "") -> None:
    """Run a follow command (``journalctl -f``, ``tail -F``) feeding parsed entries; an end of
    the command (it should never end by itself) becomes an error entry. Raises BackendError."""
    result, _read = await _stream(transport, host, argv, fmt, on_entries, sudo=sudo, since=since,
                                  component=component)
    on_entries([_ended(host, result)])


def _ended(host: str, result: CommandResult) -> Row:
    why = result.stderr_text.strip()[:300] or f"exit {result.exit_status}"
    return error_entry(host, f"log stream ended: {why}")


async def _stream(transport, host: str, argv: list[str], fmt: str, on_entries: OnRows, *,
                  sudo: bool = False, since: float | None = None, component: str = "",
                  raw: OnRawBlock | None = None) -> tuple[CommandResult, int]:
    """Run ``argv`` until it ends, feeding its parsed lines (or its raw batches to ``raw``);
    returns its result and the number of lines it printed. Raises BackendError.

    Reading and parsing are decoupled: the reader queues raw lines, a parser task takes them
    :data:`PARSE_SLICE` at a time from the front, yielding in between; entries keep their order.
    """
    if raw is not None:
        return await _stream_raw(transport, host, argv, fmt, raw, sudo=sudo)
    parse = _Parser(host, fmt, component, since)
    read = 0
    pending: collections.deque[list[str]] = collections.deque()
    queued = 0
    wake = asyncio.Event()

    def parse_some(limit: int) -> None:
        nonlocal queued
        lines = pending[0]
        if len(lines) <= limit:
            pending.popleft()
            chunk = lines
        else:
            chunk, pending[0] = lines[:limit], lines[limit:]
        queued -= len(chunk)
        entries = parse(chunk)
        if entries:
            on_entries(entries)

    def batch(lines: list[str]) -> None:
        nonlocal queued, read
        pending.append(lines)
        queued += len(lines)
        read += len(lines)
        while queued > MAX_PENDING:
            parse_some(PARSE_SLICE)
        wake.set()

    async def drain_all() -> None:
        while pending:
            parse_some(PARSE_SLICE)
            await asyncio.sleep(0)

    finished = False

    async def drain() -> None:
        while not finished or pending:
            await wake.wait()
            wake.clear()
            await drain_all()

    drainer = asyncio.ensure_future(drain())
    try:
        result = await transport.stream_lines(argv, batch, sudo=sudo)
    except BaseException:
        drainer.cancel()
        await asyncio.gather(drainer, return_exceptions=True)
        raise
    finished = True
    wake.set()
    await drainer  # every line read is parsed before the end is reported
    return result, read


async def _stream_raw(transport, host: str, argv: list[str], fmt: str, raw: OnRawBlock, *,
                      sudo: bool = False) -> tuple[CommandResult, int]:
    read = 0

    def forward(block: bytes) -> None:
        nonlocal read
        read += 1 + block.count(b"\n")
        raw(host, fmt, block)

    result = await transport.stream_chunks(argv, forward, sudo=sudo)
    return result, read


class LogFollower:
    """One follow task per host feeding one callback (and raw batches to ``raw`` when given,
    unparsed); :meth:`stop` closes every channel."""

    def __init__(self, on_entries: OnRows, raw: OnRawBlock | None = None) -> None:
        self.on_entries = on_entries
        self.raw = raw
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, hosts: Sequence[K0sHost], *, lines: int | None = DEFAULT_LINES,
              since: float | None = None) -> None:
        """Start following each host not already followed."""
        for host in hosts:
            if host.name not in self.tasks or self.tasks[host.name].done():
                self.tasks[host.name] = asyncio.ensure_future(
                    follow_host(host, self.on_entries, lines=lines, since=since, raw=self.raw))

    def add_task(self, name: str, coro) -> None:
        """Follow with a custom coroutine (a container's log) under ``name``."""
        self.tasks[name] = asyncio.ensure_future(coro)

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self.tasks.values())

    async def stop(self) -> None:
        """Cancel every stream (their SSH channels close) and wait for them."""
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _row_key(row: Row) -> float:
    when = row[TIME]
    return when if when is not None else 0.0


def merge_by_time(streams: Iterable[Sequence[Row]]) -> list[Row]:
    """Rows of several hosts (each in time order) merged into one time order (stable)."""
    return list(heapq.merge(*streams, key=_row_key))


def sort_by_time(rows: list[Row]) -> list[Row]:
    """``rows`` in time order (stable; a row without a time counts as 0)."""
    return sorted(rows, key=_row_key)


class RingBuffer:
    """A view's lines (:data:`Row` tuples) in time order, at most ``capacity`` (the oldest are
    dropped first).

    Rows arriving in order (the usual follow case) are appended; a late host's backlog is
    inserted in place. :meth:`add` says what fell out, so a filtered view can trim itself.
    """

    def __init__(self, capacity: int = DEFAULT_BUFFER) -> None:
        if capacity < 1:
            raise ValueError("a log buffer holds at least one line")
        self.capacity = capacity
        self.rows: list[Row] = []
        self.dropped = 0

    def __len__(self) -> int:
        return len(self.rows)

    def entries(self) -> list[LogEntry]:
        """A copy of the buffer as LogEntry objects (for reading; the buffer holds rows)."""
        return [LogEntry(*row) for row in self.rows]

    def add(self, new: Sequence[Row]) -> tuple[list[Row], bool]:
        """Add ``new``; returns (rows evicted, whether all of ``new`` went at the end in order)."""
        rows = self.rows
        in_order = True
        last = _row_key(rows[-1]) if rows else float("-inf")
        for row in new:
            when = row[TIME]
            key = when if when is not None else 0.0
            if key >= last:
                rows.append(row)
                last = key
            else:
                bisect.insort_right(rows, row, key=_row_key)
                in_order = False
        evicted: list[Row] = []
        extra = len(rows) - self.capacity
        if extra > 0:
            evicted = rows[:extra]
            del rows[:extra]
            self.dropped += extra
        return evicted, in_order

    def clear(self) -> None:
        self.rows.clear()

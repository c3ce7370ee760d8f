"""k0s's own log on a host: where it is (journal or OpenRC files), reading it, following it.

- :func:`resolve_source` finds the source from the init system `k0s status` reports (systemd ->
  the journal unit ``k0scontroller``/``k0sworker``; OpenRC -> ``/var/log/<binary>.log`` and
  ``.err``), probing the files when k0s is down and cannot say.
- :func:`read_logs` fetches a window (default: the last 1,000 lines, at most 1 h old);
  :func:`follow_host` keeps one long-lived command (one SSH channel) open per host, and
  :class:`LogFollower` runs it for many hosts: a host that drops yields a typed error entry
  while the others keep streaming.
- :class:`RingBuffer` keeps a view's entries in time order, bounded (default 50,000).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import heapq
import posixpath
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from backends.errors import BackendError
from backends.k0s.host import K0sHost
from backends.k0s.parsers.logs import CriJoiner, LogEntry, parse_line

DEFAULT_LINES = 1000
DEFAULT_SINCE = 3600.0
DEFAULT_BUFFER = 50_000
#: The console's own component tag on entries it makes (errors about the stream itself).
CONSOLE = "k0s-tui"

OnEntries = Callable[[list[LogEntry]], None]


@dataclass(frozen=True)
class LogSource:
    """Where a host's k0s log is: ``kind`` "journal" (``unit``) or "files" (``files``)."""

    kind: str
    unit: str = ""
    files: tuple[str, ...] = ()

    @property
    def fmt(self) -> str:
        """The parser format of what :meth:`argv` prints."""
        return "json" if self.kind == "journal" else "logrus"

    def argv(self, *, lines: int | None = DEFAULT_LINES, since: float | None = None,
             until: float | None = None, follow: bool = False) -> list[str]:
        """The command printing this source (``since``/``until``: seconds since the epoch;
        the files source cannot select by time, its lines are filtered after parsing)."""
        if self.kind == "journal":
            return journal_argv(self.unit, lines=lines, since=since, until=until, follow=follow)
        return tail_argv(self.files, lines=lines, follow=follow)

    def describe(self) -> str:
        return f"journal unit {self.unit}" if self.kind == "journal" else ", ".join(self.files)


def journal_argv(unit: str, *, lines: int | None = DEFAULT_LINES, since: float | None = None,
                 until: float | None = None, follow: bool = False, fmt: str = "json") -> list[str]:
    """``journalctl -u UNIT -o json --no-pager [-n N] [--since @EPOCH] [--until @EPOCH] [-f]``."""
    argv = ["journalctl", "-u", unit, "-o", fmt, "--no-pager"]
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

    def __call__(self, lines: Iterable[str]) -> list[LogEntry]:
        out: list[LogEntry] = []
        for line in lines:
            if not line.strip():
                continue
            e = parse_line(self.fmt, line, self.host, self.component)
            if self.cri is not None and (e := self.cri.feed(e)) is None:
                continue
            if e.time is None:
                e.time = self.last
            else:
                self.last = e.time
            if e.time is not None and ((self.since is not None and e.time < self.since)
                                       or (self.until is not None and e.time > self.until)):
                continue
            out.append(e)
        return out


def error_entry(host: str, message: str, when: float | None = None) -> LogEntry:
    """A typed error shown in the view itself (kind "error", component :data:`CONSOLE`)."""
    return LogEntry(when if when is not None else time.time(), host, "error", CONSOLE, message, kind="error")


async def read_logs(host: K0sHost, *, source: LogSource | None = None, lines: int | None = DEFAULT_LINES,
                    since: float | None = None, until: float | None = None) -> list[LogEntry]:
    """A window of ``host``'s k0s log, oldest first (``since`` defaults to one hour ago).

    Raises BackendError when the host cannot be reached or the command fails.
    """
    source = source or await resolve_source(host)
    since = time.time() - DEFAULT_SINCE if since is None else since
    result = await host.transport.run(source.argv(lines=lines, since=since, until=until), timeout=60.0,
                                      sudo=host.sudo)
    if not result.ok:
        raise BackendError(host.name, f"cannot read {source.describe()}: "
                           f"{result.stderr_text.strip()[:300] or f'exit {result.exit_status}'}")
    return _Parser(host.name, source.fmt, since=since, until=until)(result.stdout_text.splitlines())


async def follow_host(host: K0sHost, on_entries: OnEntries, *, source: LogSource | None = None,
                      lines: int | None = DEFAULT_LINES, since: float | None = None) -> None:
    """Stream ``host``'s log into ``on_entries`` until cancelled (one long-lived command).

    Never raises for the host's own failures: an unreachable or dropped host, or a command
    that ends, becomes an :func:`error_entry` so a merged view shows it in place.
    """
    try:
        source = source or await resolve_source(host)
        since = time.time() - DEFAULT_SINCE if since is None else since
        await follow_command(host.transport, host.name, source.argv(lines=lines, since=since, follow=True),
                             source.fmt, on_entries, sudo=host.sudo, since=since)
    except BackendError as exc:
        on_entries([error_entry(host.name, f"log stream lost ({exc.kind}): {exc.message}")])


#: Lines parsed between two yields to the event loop (keys stay responsive while a chatty
#: host streams thousands of lines per second).
PARSE_SLICE = 500
#: Raw lines waiting to be parsed at most; past it the reader parses before it reads on
#: (backpressure through the SSH window), so nothing is lost and memory stays bounded.
MAX_PENDING = 20_000


async def follow_command(transport, host: str, argv: list[str], fmt: str, on_entries: OnEntries, *,
                         sudo: bool = False, since: float | None = None, component: str = "") -> None:
    """Run a follow command (``journalctl -f``, ``tail -F``) feeding parsed entries; an end of
    the command (it should never end by itself) becomes an error entry. Raises BackendError.

    Reading and parsing are decoupled: the reader queues raw lines, a parser task takes them
    :data:`PARSE_SLICE` at a time from the front, yielding in between; entries keep their order.
    """
    parse = _Parser(host, fmt, component, since)
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
        nonlocal queued
        pending.append(lines)
        queued += len(lines)
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
    why = result.stderr_text.strip()[:300] or f"exit {result.exit_status}"
    on_entries([error_entry(host, f"log stream ended: {why}")])


class LogFollower:
    """One follow task per host feeding one callback; :meth:`stop` closes every channel."""

    def __init__(self, on_entries: OnEntries) -> None:
        self.on_entries = on_entries
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, hosts: Sequence[K0sHost], *, lines: int | None = DEFAULT_LINES,
              since: float | None = None) -> None:
        """Start following each host not already followed."""
        for host in hosts:
            if host.name not in self.tasks or self.tasks[host.name].done():
                self.tasks[host.name] = asyncio.ensure_future(
                    follow_host(host, self.on_entries, lines=lines, since=since))

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


def _key(e: LogEntry) -> float:
    return e.time if e.time is not None else 0.0


def merge_by_time(streams: Iterable[Sequence[LogEntry]]) -> list[LogEntry]:
    """Entries of several hosts (each in time order) merged into one time order (stable)."""
    return list(heapq.merge(*streams, key=_key))


class RingBuffer:
    """A view's entries in time order, at most ``capacity`` (the oldest are dropped first).

    Entries arriving in order (the usual follow case) are appended; a late host's backlog is
    inserted in place. :meth:`add` says what fell out, so a filtered view can trim itself.
    """

    def __init__(self, capacity: int = DEFAULT_BUFFER) -> None:
        if capacity < 1:
            raise ValueError("a log buffer holds at least one line")
        self.capacity = capacity
        self.entries: list[LogEntry] = []
        self.dropped = 0

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, new: Sequence[LogEntry]) -> tuple[list[LogEntry], bool]:
        """Add ``new``; returns (entries evicted, whether all of ``new`` went at the end in order)."""
        entries = self.entries
        in_order = True
        for e in new:
            if not entries or _key(e) >= _key(entries[-1]):
                entries.append(e)
            else:
                bisect.insort_right(entries, e, key=_key)
                in_order = False
        evicted: list[LogEntry] = []
        extra = len(entries) - self.capacity
        if extra > 0:
            evicted = entries[:extra]
            del entries[:extra]
            self.dropped += extra
        return evicted, in_order

    def clear(self) -> None:
        self.entries.clear()

"""A budget of open SSH connections under the process's descriptor limit (RLIMIT_NOFILE).

Each SSH connection holds one socket. A fleet of 2,000 hosts needs 2,000+ descriptors while
the default soft limit is often 1,024: :func:`raise_nofile_limit` lifts the soft limit to the
hard one at start, and a :class:`ConnectionBudget` (one per :class:`SSHSettings`, shared by the
session's transports) keeps the number of open connections below what is left. When a new
connection would go beyond it, the least recently used *idle* connection (no command running,
no socket forward) is closed first; it is reopened by its next command. If every connection is
busy, the new one waits for one to become idle (bounded by ``wait_timeout``), then fails with a
typed :class:`~backends.errors.BackendError` instead of ``EMFILE``.
"""

from __future__ import annotations

import asyncio
import resource
from collections import OrderedDict
from typing import Protocol

from backends.errors import BackendError

#: Descriptors kept for everything else (terminal, log and audit files, the event loop, pipes).
RESERVE = 64
#: Never budget fewer connections than this, however low the limit.
MIN_CONNECTIONS = 4
#: A soft limit raised to an "unlimited" hard limit stops here.
NOFILE_CEILING = 1 << 20


class Evictable(Protocol):
    """What the budget asks of a connection's owner (an SSHTransport)."""

    host: str

    @property
    def idle(self) -> bool: ...

    def evict(self) -> None: ...


def raise_nofile_limit() -> tuple[int, int]:
    """Lift the soft RLIMIT_NOFILE to the hard limit; returns the (soft, hard) now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = NOFILE_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # some systems cap below the hard limit (macOS OPEN_MAX)
            pass
    return soft, hard


def default_limit() -> int:
    """Connections that fit in the current soft descriptor limit, leaving :data:`RESERVE`."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = NOFILE_CEILING
    reserve = min(RESERVE, soft // 2)
    return max(MIN_CONNECTIONS, soft - reserve)


class ConnectionBudget:
    """At most ``limit`` open connections; least recently used idle ones are closed beyond it.

    ``limit`` None: :func:`default_limit`, read when first needed (after :func:`raise_nofile_limit`).
    """

    def __init__(self, limit: int | None = None, wait_timeout: float = 60.0) -> None:
        self._limit = limit
        self.wait_timeout = wait_timeout
        self._open: OrderedDict[int, Evictable] = OrderedDict()  # id(owner) -> owner, LRU first
        self._changed: asyncio.Event | None = None
        #: Connections closed to make room (for tests and stats).
        self.evictions = 0
        #: The most connections open at once.
        self.peak = 0

    @property
    def limit(self) -> int:
        if self._limit is None:
            self._limit = default_limit()
        return self._limit

    @property
    def open_count(self) -> int:
        return len(self._open)

    def touch(self, owner: Evictable) -> None:
        """``owner`` used its connection (a command ended): it is now the most recently used,
        and perhaps idle (a connection waiting for room may take its place)."""
        if id(owner) in self._open:
            self._open.move_to_end(id(owner))
        if self._changed is not None:
            self._changed.set()

    async def acquire(self, owner: Evictable) -> None:
        """Make room for ``owner``'s new connection (call before opening it)."""
        if id(owner) in self._open:
            self._open.move_to_end(id(owner))
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_timeout
        while len(self._open) >= self.limit:
            victim = next((o for o in self._open.values() if o is not owner and o.idle), None)
            if victim is not None:
                self.evictions += 1
                self.release(victim)
                victim.evict()
                continue
            if self._changed is None:
                self._changed = asyncio.Event()
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise BackendError(owner.host, f"too many open SSH connections: all {self.limit} the "
                                               "descriptor limit allows are busy (raise `ulimit -n`)")
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            except TimeoutError:
                pass  # re-check: a connection may have become idle without closing
        self._open[id(owner)] = owner
        self.peak = max(self.peak, len(self._open))

    def release(self, owner: Evictable) -> None:
        """``owner``'s connection closed (or its opening failed)."""
        if self._open.pop(id(owner), None) is not None and self._changed is not None:
            self._changed.set()

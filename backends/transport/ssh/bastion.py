"""One shared connection per bastion (jump host) for every host behind it.

A k0sctl inventory usually puts the whole cluster behind one ``ssh.bastion``. Opening a bastion
connection per host would cost the bastion a handshake per host and, past its MaxStartups
(OpenSSH: 10 unauthenticated connections at once), refused connections. The pool opens one
connection per bastion target, tunnels every host's connection through it, reopens it after a
drop, and closes it when the last host using it lets go. Plain asyncio, no Textual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Hashable

from backends.errors import BackendError


class _Entry:
    """A bastion's connection, who uses it, and how the last attempt to open it went."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.users: set[int] = set()
        self.lock = asyncio.Lock()
        self.attempts = 0
        self.last_error: BackendError | None = None


def _open(conn: Any) -> bool:
    return conn is not None and not conn.is_closed()


class BastionPool:
    """Shared bastion connections, keyed by bastion target; users are identified by ``id()``."""

    def __init__(self) -> None:
        self._entries: dict[Hashable, _Entry] = {}

    async def acquire(self, key: Hashable, user: object, connect: Callable[[], Awaitable[Any]]) -> Any:
        """The open connection for ``key`` (opening it with ``connect`` if needed) for ``user``.

        Callers that queued behind an attempt that failed get that attempt's error instead of
        each waiting out a connect timeout of its own (a fleet behind a dead bastion fails fast).
        """
        entry = self._entries.setdefault(key, _Entry())
        entry.users.add(id(user))
        if _open(entry.conn):
            return entry.conn
        attempts = entry.attempts
        async with entry.lock:
            if _open(entry.conn):
                return entry.conn
            if entry.attempts != attempts and entry.last_error is not None:
                raise entry.last_error
            try:
                entry.conn = await connect()
            except BackendError as exc:
                entry.last_error = exc
                raise
            finally:
                entry.attempts += 1  # counted once over: callers queued during it see the change
            entry.last_error = None
            return entry.conn

    def release(self, key: Hashable, user: object) -> None:
        """``user`` no longer tunnels through ``key``; the last one out closes the connection."""
        entry = self._entries.get(key)
        if entry is None:
            return
        entry.users.discard(id(user))
        if not entry.users:
            if entry.conn is not None:
                entry.conn.close()
            del self._entries[key]

    def connections(self) -> int:
        """How many bastion connections are open now."""
        return sum(1 for e in self._entries.values() if _open(e.conn))

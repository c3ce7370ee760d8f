"""One shared connection per bastion (jump host) for every host behind it.

A k0sctl inventory usually puts the whole cluster behind one ``ssh.bastion``. Opening a bastion
connection per host would cost the bastion a handshake per host and, past its MaxStartups
(OpenSSH: 10 unauthenticated connections at once), refused connections. The pool opens one
connection per bastion target, tunnels every host's connection through it, reopens it after a
drop, and closes it when the last host using it lets go. Plain asyncio, no Textual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Hashable

from backends.transport.ssh.connect_once import ConnectOnce, is_open


class _Entry(ConnectOnce):
    """A bastion's connection and who uses it."""

    def __init__(self) -> None:
        super().__init__()
        self.users: set[int] = set()


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
        return await entry.get(connect)

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
        return sum(1 for e in self._entries.values() if is_open(e.conn))

"""Open a connection at most once at a time, for everyone who needs it.

Both a host's own SSH connection and a bastion's shared one follow the same rule: while an
attempt runs, other callers wait for it instead of starting their own; when it fails, those
who queued behind it get its error at once rather than each waiting out a connect timeout of
their own (a fleet behind a dead host or bastion fails fast, after one attempt)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from backends.errors import BackendError


def is_open(conn: Any) -> bool:
    """An asyncssh connection that exists and is not closed."""
    return conn is not None and not conn.is_closed()


class ConnectOnce:
    """The current connection (``conn``) and the single attempt to open it."""

    def __init__(self) -> None:
        self.conn: Any = None
        self._lock = asyncio.Lock()
        self._attempts = 0
        self._last_error: BackendError | None = None

    async def get(self, connect: Callable[[], Awaitable[Any]]) -> Any:
        """The open connection, opened with ``connect`` when there is none."""
        if is_open(self.conn):
            return self.conn
        attempts = self._attempts
        async with self._lock:
            if is_open(self.conn):
                return self.conn
            if self._attempts != attempts and self._last_error is not None:
                raise self._last_error  # an attempt made while we queued just failed
            try:
                self.conn = await connect()
            except BackendError as exc:
                self._last_error = exc
                raise
            finally:
                self._attempts += 1  # counted after the attempt: callers queued during it see it
            self._last_error = None
            return self.conn

"""Run one operation on every host at once; collect each host's value or typed error.

One slow or dead host never delays the others beyond its own timeout, and no exception
escapes: unexpected ones become a :class:`~backends.errors.BackendError` for that host.
Handshake concurrency is bounded by the transports (``SSHSettings.handshake_limit``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from backends.errors import BackendError, CommandTimeout

T = TypeVar("T")


class Named(Protocol):
    """Anything with a host name (HostSpec, K0sHost, Transport wrappers…)."""

    @property
    def name(self) -> str: ...


ItemT = TypeVar("ItemT", bound=Named)


@dataclass
class HostOutcome(Generic[T]):
    """What one host gave back: a value, or the typed error saying why not."""

    host: str
    value: T | None = None
    error: BackendError | None = None
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the operation succeeded on this host."""
        return self.error is None


async def run_one(
    item: ItemT, op: Callable[[ItemT], Awaitable[T]], *, timeout: float | None
) -> HostOutcome[T]:
    """Run ``op(item)`` under ``timeout``; never raises (except when itself cancelled)."""
    name = str(getattr(item, "name", item))
    started = time.monotonic()
    try:
        async with asyncio.timeout(timeout):
            value = await op(item)
    except TimeoutError:
        # Our own deadline, or a timeout the operation let escape: both mean "took too long".
        return HostOutcome(name, None, CommandTimeout(name, f"no answer within {timeout:g}s"
                                                      if timeout is not None else "timed out"),
                           time.monotonic() - started)
    except BackendError as exc:
        return HostOutcome(name, None, exc, time.monotonic() - started)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug on one host must not take the fleet down
        err = BackendError(name, f"unexpected {type(exc).__name__}: {exc}")
        err.__cause__ = exc
        return HostOutcome(name, None, err, time.monotonic() - started)
    return HostOutcome(name, value, None, time.monotonic() - started)


async def stream_fleet(
    items: Iterable[ItemT],
    op: Callable[[ItemT], Awaitable[T]],
    *,
    timeout: float | None,
    limit: int | None = None,
) -> AsyncIterator[HostOutcome[T]]:
    """Yield each host's :class:`HostOutcome` as soon as it is known (completion order).

    ``limit`` optionally bounds how many hosts run at once. Leaving the loop early cancels
    the hosts still running.
    """
    guarded = _runner(op, timeout, limit)
    tasks = [asyncio.ensure_future(guarded(item)) for item in items]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


async def run_on_fleet(
    items: Iterable[ItemT],
    op: Callable[[ItemT], Awaitable[T]],
    *,
    timeout: float | None,
    limit: int | None = None,
) -> list[HostOutcome[T]]:
    """Run ``op`` on every item concurrently; outcomes in the order of ``items``."""
    guarded = _runner(op, timeout, limit)
    return list(await asyncio.gather(*(guarded(item) for item in items)))


def _runner(
    op: Callable[[ItemT], Awaitable[T]], timeout: float | None, limit: int | None
) -> Callable[[ItemT], Awaitable[HostOutcome[T]]]:
    """``run_one`` bound to ``op``/``timeout``, behind a semaphore of ``limit`` when given.

    The host's timeout starts once it got its turn, not while it queues.
    """
    gate = asyncio.Semaphore(limit) if limit else None

    async def guarded(item: ItemT) -> HostOutcome[T]:
        if gate is None:
            return await run_one(item, op, timeout=timeout)
        async with gate:
            return await run_one(item, op, timeout=timeout)

    return guarded

"""The session core: inventory, hosts, the read-only switch, the audit log and the mutation gate.

Feature services (:mod:`backends.session.nodes`, ``images``, ``sysinfo``…) are built on one
:class:`SessionCore` and reach hosts only through it. Every change to a cluster or to the app's
own files goes through :meth:`SessionCore.mutation`: it refuses in read-only mode before any
I/O, writes the audit record of the *intent* before the action runs and its result afterwards,
and refuses the action when the audit log cannot be written.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from backends.errors import AuditUnavailable, BackendError, ReadOnlyRefused
from backends.fleet import HostOutcome, run_on_fleet, stream_fleet
from backends.hosts.spec import HostSpec, Inventory
from backends.k0s.host import K0sHost
from backends.safetext import clean
from backends.session.audit import AuditLog

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the default clock)."""
    return datetime.now(timezone.utc)


def error_text(exc: BaseException) -> str:
    """What an operator reads for a failure: the typed message, else the exception's words
    (controls made visible: errors quote host output)."""
    if isinstance(exc, BackendError):
        return clean(exc.message)
    text = clean(str(exc).strip())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class HostResult:
    """How one host's part of an action ended."""

    host: str
    ok: bool
    value: Any = None
    error: str = ""
    kind: str = ""


@dataclass
class Mutation:
    """One gated action in progress: what the audit's result record will say.

    The action's code adds ``details`` and reports per-host failures with :meth:`results`
    (or :meth:`fail`); an exception escaping the ``async with`` block is recorded as the error.
    """

    operation: str
    hosts: list[str]
    details: dict[str, object] = field(default_factory=dict)
    error: str = ""

    def fail(self, error: str) -> None:
        """Record the action as failed with ``error`` (the block itself need not raise)."""
        self.error = error

    def results(self, results: Sequence[HostResult]) -> list[HostResult]:
        """Record per-host outcomes: the action failed where any host failed. Returns them."""
        failed = [r for r in results if not r.ok]
        self.error = "; ".join(f"{r.host}: {r.error}" for r in failed)
        return list(results)


class SessionCore:
    """Inventory + one :class:`K0sHost` per host + read-only switch + audit log + clock."""

    def __init__(self, inventory: Inventory, hosts: Sequence[K0sHost], *, readonly: bool = False,
                 audit: AuditLog | None = None, clock: Clock = utcnow) -> None:
        self.inventory = inventory
        self.hosts: dict[str, K0sHost] = {h.name: h for h in hosts}
        self.readonly = readonly
        self.audit = audit if audit is not None else AuditLog()
        self.clock = clock
        #: Hosts handled at once by fleet-wide streams. Opening every host's channels in one
        #: event-loop step stalls key handling for ~1 s at 100 hosts (bench/fanout.py --tui);
        #: 16 keeps it near 0.1 s and brings the first rows sooner, for ~10% more total time.
        self.fleet_limit: int | None = 16
        #: Per-host deadline of an action (None: the backend's own timeouts apply).
        self.action_timeout: float | None = None

    # ------------------------------------------------------------------ hosts

    @property
    def name(self) -> str:
        """The cluster's name."""
        return self.inventory.name

    @property
    def host_names(self) -> list[str]:
        """Host names in inventory order."""
        return list(self.hosts)

    def host(self, name: str) -> K0sHost:
        """The K0sHost called ``name`` (KeyError when unknown)."""
        return self.hosts[name]

    def spec(self, name: str) -> HostSpec:
        """The inventory entry of host ``name``."""
        return self.hosts[name].spec

    def controllers(self) -> list[str]:
        """Controller host names in inventory order."""
        return [n for n, h in self.hosts.items() if h.spec.is_controller]

    async def close(self) -> None:
        """Close every transport (errors ignored: we are leaving)."""
        for h in self.hosts.values():
            try:
                await h.close()
            except Exception:  # noqa: BLE001 - closing must not stop the others
                pass

    # ------------------------------------------------------------------ the mutation gate

    @asynccontextmanager
    async def mutation(self, operation: str, hosts: Iterable[str],
                       details: dict[str, object] | None = None, *,
                       allow_readonly: bool = False) -> AsyncIterator[Mutation]:
        """Gate one change: refuse when read-only (before any I/O, the refusal itself audited
        as far as the log allows), audit the intent, run the block, audit the result.
        ``allow_readonly``: a change to the console's own files only (trusting a host key),
        allowed in read-only mode but audited like any other.

        Raises :class:`~backends.errors.ReadOnlyRefused`, or
        :class:`~backends.errors.AuditUnavailable` when the intent cannot be recorded (nothing
        was done then)."""
        m = Mutation(operation, [str(h) for h in hosts], dict(details or {}))
        who = ", ".join(m.hosts)
        if self.readonly and not allow_readonly:
            exc = ReadOnlyRefused(who, operation)
            try:
                self.audit.record(operation, m.hosts, ok=False, error=f"refused: {exc.message}",
                                  details=m.details, when=self.clock())
            except OSError:
                pass  # refused either way
            raise exc
        try:
            self.audit.record(operation, m.hosts, intent=True, details=m.details, when=self.clock())
        except OSError as exc:
            raise AuditUnavailable(who, f"refused `{operation}`: the audit log {self.audit.path} "
                                        f"cannot be written ({exc.strerror or exc})") from exc
        try:
            yield m
        except BaseException as exc:
            self._record_result(m, error_text(exc) or "cancelled")
            raise
        self._record_result(m, m.error)

    def _record_result(self, m: Mutation, error: str) -> None:
        try:
            self.audit.record(m.operation, m.hosts, ok=not error, error=error or None,
                              details=m.details, when=self.clock())
        except OSError as exc:
            raise AuditUnavailable(", ".join(m.hosts), f"`{m.operation}` ran, but its result could "
                                   f"not be written to {self.audit.path} ({exc.strerror or exc})") from exc

    # ------------------------------------------------------------------ fan-out helpers

    async def on_hosts(self, names: Sequence[str], fn: Callable[[K0sHost], Any]) -> list[HostResult]:
        """``fn`` on each named host at once (``action_timeout`` each); results in order."""
        outcomes = await run_on_fleet([self.hosts[n] for n in names], fn, timeout=self.action_timeout)
        return [HostResult(o.host, o.ok, o.value, error=o.error.message if o.error else "",
                           kind=o.error.kind if o.error else "") for o in outcomes]

    async def stream_idle(self, busy: set[str], names: Iterable[str] | None,
                          op: Callable[[K0sHost], Any], *,
                          timeout: float | None = None) -> AsyncIterator[HostOutcome[Any]]:
        """``op`` on each named host not in ``busy`` (marked busy until it answers), outcomes as
        they come, at most ``fleet_limit`` at a time. Skipping busy hosts is what keeps a slow
        host from making refreshes pile up."""
        wanted = [n for n in (names if names is not None else self.hosts) if n not in busy]
        if not wanted:
            return
        busy.update(wanted)
        try:
            loop = asyncio.get_running_loop()
            turn = loop.time()
            async for outcome in stream_fleet([self.hosts[n] for n in wanted], op,
                                              timeout=timeout, limit=self.fleet_limit):
                busy.discard(outcome.host)
                yield outcome
                # Hosts that answer without suspending (in-process demo, cached results) must
                # not starve the UI's event loop: give it a turn every ~20 ms of work.
                if loop.time() - turn > 0.02:
                    await asyncio.sleep(0)
                    turn = loop.time()
        finally:
            busy.difference_update(wanted)

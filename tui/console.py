"""What panes and screens depend on: the :class:`Console` protocol (the app implements it),
typed worker keys, and the message a pane posts when the data it changed concerns others."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from rich.text import Text
from textual.message import Message
from textual.worker import Worker

from backends.session.session import ClusterSession
from widgets.activity import Operation


@dataclass(frozen=True)
class WorkerKey:
    """Names one background job: what it does (``kind``), for which host, for which operation.

    ``kind`` also says where an error shows in place: a pane whose ``ERROR_KINDS`` holds it puts
    the message on that host's row. At most one worker per key runs (:meth:`Console.start_once`).
    """

    kind: str
    host: str = ""
    op: int | None = None

    def __str__(self) -> str:
        return "|".join((self.kind, self.host, "" if self.op is None else str(self.op)))


#: Kinds of background refreshes: they repeat every tick, so their errors show in place (the
#: host's row, a status line) and never as a toast.
REFRESH_KINDS = frozenset({"nodes", "images", "sysinfo", "certs", "versions", "config"})


class DataChanged(Message):
    """Posted by a pane (or screen) after it changed data other panes show: ``topic`` is
    "nodes", "images", "certs" or "backups"; ``hosts`` the hosts concerned (empty: all)."""

    def __init__(self, topic: str, hosts: Sequence[str] = ()) -> None:
        super().__init__()
        self.topic = topic
        self.hosts = tuple(hosts)


class Console(Protocol):
    """The app as panes see it."""

    session: ClusterSession
    #: What "keep newest N" offers first.
    retention_default: int
    #: Scan every controller's certificates at start.
    scan_certs: bool

    @property
    def readonly(self) -> bool: ...

    def now(self) -> datetime: ...

    def key_for(self, binding_id: str, default: str) -> str: ...

    def spawn(self, key: WorkerKey, coro: Awaitable[Any], *, exclusive: bool = False) -> Worker: ...

    def start_once(self, key: WorkerKey, coro: Awaitable[Any]) -> Worker | None: ...

    def worker_running(self, key: WorkerKey) -> bool: ...

    def start_operation(self, what: str, hosts: Sequence[str],
                        job: Callable[[Operation], Awaitable[Any]], *, show: bool = False) -> Operation: ...

    def progress(self, op: Operation, host: str, done: float, total: float | None, note: str = "") -> None: ...

    def report_error(self, key: WorkerKey, exc: BaseException | None, *, host: str = "") -> None: ...

    def header_soon(self) -> None: ...

    def show_text(self, title: str, body: Text | str) -> None: ...

"""Headless mode for scripts: ``k0s-tui status|sysinfo|images|certs [--json]``.

Runs one read-only operation on every host (``certs``: on the controllers) through the same
fleet runner as the TUI and prints the results, in inventory order: as JSON (a list with one
object per host holding its result or its typed error) or as a plain-text table. Exit status:
3 when a check failed (k0s not running on a host, sysinfo rejected, a certificate expired or
within 7 days of expiry), else 1 when a host could not be asked, else 0; 2 for an unknown
command. Nothing here imports Textual, so scripts start fast.

JSON shape (one object per host)::

    {"host": "node-1", "address": "10.0.0.11", "ok": true, "result": {...}}
    {"host": "node-2", "address": "10.0.0.12", "ok": false,
     "error": {"kind": "unreachable", "message": "connection refused"}}
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TextIO

from humanize import naturalsize

from backends.k0s.certs import ERROR_DAYS, CertInfo, scan_host
from backends.errors import BackendError
from backends.fleet import HostOutcome, run_on_fleet
from backends.images.select import list_host_images
from backends.k0s.host import K0sHost
from backends.models import K0sStatus, SysinfoReport
from backends.safetext import clean_line, dumps_json

COMMANDS = ("status", "sysinfo", "images", "certs")

EXIT_OK = 0
EXIT_HOST_FAILED = 1
EXIT_USAGE = 2
EXIT_CHECK = 3

#: Per-host deadline of one headless command (a hung host is reported, not waited for).
HOST_TIMEOUT = 60.0


#: The operation each headless command runs on one host.
OPERATIONS: dict[str, Callable[[K0sHost], Awaitable[Any]]] = {
    "status": lambda h: h.status(),
    "sysinfo": lambda h: h.sysinfo(),
    "images": list_host_images,
    "certs": scan_host,
}


async def run_headless(command: str, hosts: list[K0sHost], *, as_json: bool, out: TextIO,
                       close: bool = True, timeout: float | None = HOST_TIMEOUT) -> int:
    """Run ``command`` on every host and print the fleet's results to ``out``.

    Returns the process exit status: 0 when every host succeeded, 1 when any host failed
    (its error is printed in its place), 2 for a command other than those in :data:`COMMANDS`.
    With ``close`` (the default) every host's transport is closed before returning.
    ``timeout`` bounds each host's operation (the fleet runner reports it as that host's error).
    """
    if command not in OPERATIONS:
        out.write(f"k0s-tui: unknown headless command {clean_line(command)!r}; "
                  f"expected one of {', '.join(COMMANDS)}\n")
        return EXIT_USAGE
    try:
        if command == "certs":
            hosts = await controllers_only(hosts, timeout=timeout)
        outcomes = await run_on_fleet(hosts, OPERATIONS[command], timeout=timeout)
    finally:
        if close:
            await asyncio.gather(*(h.transport.close() for h in hosts), return_exceptions=True)
    records = [host_record(h, o) for h, o in zip(hosts, outcomes)]  # inventory order
    if as_json:
        # ensure_ascii: C1 controls and bidi marks become \uXXXX (json escapes C0 itself), DEL too.
        out.write(dumps_json(records, indent=2))
        out.write("\n")
    else:
        out.write(render_table(command, records))
    return exit_status(command, records)


async def controllers_only(hosts: list[K0sHost], *, timeout: float | None = HOST_TIMEOUT) -> list[K0sHost]:
    """The controllers among ``hosts``; a host whose role is unknown (``--ssh``, local) is
    asked `k0s status` first (which records its role), and kept when it cannot say."""
    unknown = [h for h in hosts if h.spec.role == "unknown"]
    if unknown:
        await run_on_fleet(unknown, lambda h: h.status(), timeout=timeout)
    return [h for h in hosts if h.spec.is_controller or h.spec.role == "unknown"]


def failed_check(command: str, record: dict[str, Any]) -> bool:
    """True when the host answered and the answer is a problem: k0s not running (status),
    a rejected probe (sysinfo), a certificate expired or within 7 days of expiry (certs)."""
    if not record["ok"]:
        return command == "status" and record["error"]["kind"] == "not-running"
    r = record["result"]
    if command == "sysinfo":
        return r.get("status") == "rejected"
    if command == "certs":
        return any(c.get("days_left") is not None and c["days_left"] < ERROR_DAYS for c in r)
    return False


def exit_status(command: str, records: list[dict[str, Any]]) -> int:
    """3 when a check failed on some host, else 1 when a host failed, else 0."""
    if any(failed_check(command, r) for r in records):
        return EXIT_CHECK
    return EXIT_OK if all(r["ok"] for r in records) else EXIT_HOST_FAILED


def host_record(host: K0sHost, outcome: HostOutcome) -> dict[str, Any]:
    """The JSON object of one host: its result, or its error as ``{"kind", "message"}``."""
    record: dict[str, Any] = {"host": host.name, "address": host.spec.address}
    if outcome.ok:
        record.update(ok=True, result=to_jsonable(outcome.value))
    else:
        record.update(ok=False, error=error_object(outcome.error))
    return record


def error_object(error: BackendError | None) -> dict[str, str]:
    """``{"kind", "message"}`` of a host's typed error (the fleet runner wraps any other)."""
    if error is None:
        return {"kind": "error", "message": "unknown failure"}
    return {"kind": error.kind, "message": error.message}


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes, tuples -> plain JSON values (recursively)."""
    if isinstance(value, CertInfo):
        return _cert_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, SysinfoReport):
            data["counts"] = value.counts()
        if isinstance(value, K0sStatus):
            data.pop("raw", None)  # the parsed fields say it all; raw text is for the TUI's detail view
        return data
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    return value


def _cert_json(cert: CertInfo) -> dict[str, Any]:
    data = {f.name: to_jsonable(getattr(cert, f.name)) for f in dataclasses.fields(cert)}
    data["name"] = cert.name
    data["severity"] = cert.severity()
    return data


# ---------------------------------------------------------------- plain text

def _clean(value: Any) -> str:
    """Untrusted text for a terminal: one line, controls shown visibly (``\\x1b``), never emitted."""
    return clean_line("" if value is None else str(value))


def _rows(command: str, record: dict[str, Any]) -> list[list[str]]:
    host = record["host"]
    if not record["ok"]:
        err = record["error"]
        return [[host, "ERROR", f"{err['kind']}: {err['message']}"]]
    r = record["result"]
    if command == "status":
        return [[host, "ok", f"{r['version']} {r['role']} pid={r['pid']} workloads={r['workloads']}"
                 + ("" if r.get("kube_api_ok") is None else f" kube-api={r['kube_api_ok']}")]]
    if command == "sysinfo":
        c = r["counts"]
        return [[host, r["status"], f"pass={c['pass']} warning={c['warning']} "
                 f"rejected={c['rejected']} error={c['error']}"]]
    if command == "images":
        if not r:
            return [[host, "ok", "(no images)"]]
        return [[host, "ok", f"{i['ref']} {naturalsize(i['size_bytes'], binary=True)} {i['digest'][:19]}"]
                for i in r]
    # certs
    if not r:
        return [[host, "ok", "(no certificates)"]]
    rows = []
    for c in r:
        if c["error"]:
            rows.append([host, "error", f"{c['name']}: {c['error']}"])
        else:
            rows.append([host, c["severity"], f"{c['name']} expires {c['not_after']} "
                         f"({c['days_left']:.0f} days)"])
    return rows


def render_table(command: str, records: list[dict[str, Any]]) -> str:
    """A plain-text table (HOST, STATE, DETAIL) of the records, control characters removed."""
    rows = [["HOST", "STATE", "DETAIL"]]
    for rec in records:
        rows.extend([_clean(cell) for cell in row] for row in _rows(command, rec))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return "".join(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip() + "\n"
                   for row in rows)

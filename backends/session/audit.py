"""The audit log: one JSON line per mutating action (who, when, where, what, how it ended)."""

from __future__ import annotations

import getpass
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from backends.safeyaml import load_json
from backends.privatefile import open_private_append
from backends.safetext import dumps_json
from backends.paths import xdg_state_dir

#: Keys whose values are never written, whatever the caller passes in ``details``.
_SECRET_KEY = re.compile(r"pass|secret|token|key|credential|auth", re.IGNORECASE)
#: Values that look like secrets (PEM blocks, bearer tokens) are redacted too.
_SECRET_VALUE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bBearer\s+\S+", re.IGNORECASE)
_REDACTED = "<redacted>"


def default_audit_path() -> Path:
    """$XDG_STATE_HOME/k0s-tui/audit.log."""
    return xdg_state_dir() / "audit.log"


def _local_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no LOGNAME: still log the action
        return str(os.getuid())


def _scrub(text: str) -> str:
    return _REDACTED if _SECRET_VALUE.search(text) else text


@dataclass
class AuditRecord:
    """One line of the audit log."""

    time: str
    user: str
    hosts: list[str]
    operation: str
    result: str  # "intent" (before the action), then "ok" or "error"
    error: str = ""
    details: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The record as one JSON line (no trailing newline)."""
        data = {
            "time": self.time,
            "user": self.user,
            "hosts": self.hosts,
            "operation": self.operation,
            "result": self.result,
        }
        if self.error:
            data["error"] = self.error
        if self.details:
            data["details"] = self.details
        # ASCII only: host-derived text (errors, names) never puts a control into `cat audit.log`.
        return dumps_json(data, sort_keys=False)

    @classmethod
    def from_json(cls, line: str) -> "AuditRecord":
        """Parse one line written by :meth:`to_json`."""
        data = load_json(line)
        return cls(
            time=str(data["time"]),
            user=str(data.get("user", "")),
            hosts=[str(h) for h in data.get("hosts", [])],
            operation=str(data["operation"]),
            result=str(data["result"]),
            error=str(data.get("error", "")),
            details={str(k): str(v) for k, v in (data.get("details") or {}).items()},
        )


class AuditLog:
    """Append-only JSON-lines log of mutating actions.

    Each :meth:`record` call opens the file in append mode and writes one whole line with a
    single ``write`` so concurrent writers never interleave inside a line.
    """

    def __init__(self, path: Path | str | None = None, *, user: str | None = None) -> None:
        self.path = Path(path) if path is not None else default_audit_path()
        self.user = user or _local_user()

    def record(
        self,
        operation: str,
        hosts: Iterable[str],
        *,
        ok: bool = True,
        intent: bool = False,
        error: str | BaseException | None = None,
        details: dict[str, object] | None = None,
        when: datetime | None = None,
    ) -> AuditRecord:
        """Append one record and return it. ``details`` values under secret-like keys are dropped.

        ``intent`` marks the record written before an action runs (``result`` "intent"); the
        action's own record follows with "ok" or "error". Raises OSError when the file cannot
        be written (the mutation gate then refuses the action)."""
        when = when or datetime.now(timezone.utc)
        clean: dict[str, str] = {}
        for k, v in (details or {}).items():
            clean[str(k)] = _REDACTED if _SECRET_KEY.search(str(k)) else _scrub(str(v))
        err = "" if error is None else _scrub(str(error))
        rec = AuditRecord(
            time=when.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            user=self.user,
            hosts=[str(h) for h in hosts],
            operation=operation,
            result="intent" if intent else ("ok" if ok and not err else "error"),
            error=err,
            details=clean,
        )
        line = (rec.to_json() + "\n").encode("utf-8")
        # No symlink, no file others can write (UnsafeFile, a PermissionError); 0600 in 0700.
        fd = open_private_append(self.path, "audit log")
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        return rec


    def records(self) -> Iterator[AuditRecord]:
        """Every record in the file, oldest first (unreadable lines skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                yield AuditRecord.from_json(line)
            except (ValueError, KeyError, TypeError):
                continue

"""k0sctl's host lock: a host k0sctl is working on must not be touched.

k0sctl writes ``/run/lock/k0sctl`` (``/tmp/k0sctl.lock`` where ``/run/lock`` is missing) holding
its instance id, touches it every 10 s while it works and removes it when done; a lock file
older than 30 s is stale (k0sctl itself then takes it over). We read the file's age against the
host's own clock (``stat`` and ``date`` on the host: no clock skew between us and it).
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.transport.base import Transport

#: Where k0sctl puts its lock, in the order it prefers them.
K0SCTL_LOCK_PATHS = ("/run/lock/k0sctl", "/tmp/k0sctl.lock")
#: A lock file not touched for this long is stale (k0sctl's own threshold).
STALE_AFTER_SECONDS = 30


@dataclass(frozen=True)
class HostLock:
    """A live k0sctl lock on a host."""

    path: str
    age_seconds: int

    def reason(self, host: str) -> str:
        """Why the host is left alone, in an operator's words."""
        return (f"{host}: k0sctl is working on this host (lock {self.path} touched "
                f"{self.age_seconds}s ago); not touched")


async def k0sctl_lock(transport: Transport, *, paths: tuple[str, ...] = K0SCTL_LOCK_PATHS,
                      sudo: bool = False) -> HostLock | None:
    """The live k0sctl lock on the host behind ``transport``, or None (absent or stale).

    Best effort: a host without ``stat``/``date`` (or one that cannot be read) counts as
    unlocked — the action's own errors say what is wrong with that host."""
    stat = await transport.run(["stat", "-L", "-c", "%Y %n", "--", *paths], timeout=15.0, sudo=sudo)
    if not stat.stdout.strip():
        return None
    now = await transport.run(["date", "+%s"], timeout=15.0)
    try:
        host_now = int(now.stdout_text.split()[0])
    except (IndexError, ValueError):
        return None
    for line in stat.stdout_text.splitlines()[:len(paths)]:
        mtime, _, path = line.partition(" ")
        if path not in paths or not mtime.isdigit():
            continue
        age = max(0, host_now - int(mtime))
        if age < STALE_AFTER_SECONDS:
            return HostLock(path, age)
    return None

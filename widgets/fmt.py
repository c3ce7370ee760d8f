"""Compact human formats for table cells (sizes, durations, ages)."""

from __future__ import annotations

from datetime import datetime


def human_size(n: int | None) -> str:
    """Bytes as B/KiB/MiB/GiB with one decimal (``-`` for unknown)."""
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def human_duration(seconds: float | None) -> str:
    """Seconds as ``45s``, ``12m``, ``3h4m``, ``5d2h`` (``-`` for unknown)."""
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m}m" if m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d{h}h" if h else f"{d}d"


def human_age(when: datetime | None, now: datetime) -> str:
    """``when`` relative to ``now``: ``5m ago`` / ``in 3d``."""
    if when is None:
        return "-"
    delta = (now - when).total_seconds()
    return f"{human_duration(delta)} ago" if delta >= 0 else f"in {human_duration(-delta)}"

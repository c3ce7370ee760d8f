"""Status colours from the active theme's variables ($success, $warning, $error), never hard-coded."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.color import Color

from widgets.safe import safe_str
from widgets.tablemodel import Cell

#: What each status word maps to among the theme variables.
LEVELS: dict[str, str] = {
    "pass": "success", "ok": "success", "running": "success", "ready": "success", "verified": "success",
    "done": "success", "success": "success",
    "warning": "warning", "stopped": "warning", "connecting": "warning", "pending": "warning",
    "unknown": "warning", "not-ready": "warning", "running-op": "accent",
    "rejected": "error", "error": "error", "unreachable": "error", "not installed": "error",
    "failed": "error", "refused": "error",
    "muted": "text-muted",
}


def theme_color(app: Any, variable: str) -> str | None:
    """The active theme's value of ``$variable`` (None when the app has none)."""
    try:
        value = app.theme_variables.get(variable)
    except AttributeError:
        return None
    if not value:
        return None
    try:
        return Color.parse(value).hex  # "auto 60%"-style values are not colours: fall back
    except Exception:  # noqa: BLE001 - ColorParseError and friends
        return None


def level_style(app: Any, level: str, *, bold: bool = False) -> Style:
    """A Rich style for a status word or theme variable name."""
    variable = LEVELS.get(level, level)
    if variable == "text-muted":
        return Style(dim=True, bold=bold)
    color = theme_color(app, variable)
    return Style(color=color, bold=bold) if color else Style(bold=bold)


def status_text(app: Any, text: str, level: str | None = None, *, bold: bool = False) -> Text:
    """``text`` (taken literally, never markup) coloured by ``level`` (default: the text itself)."""
    return Text(safe_str(text), style=level_style(app, level or str(text).lower(), bold=bold),
                end="", no_wrap=True)


def status_cell(text: str, level: str | None = None, *, bold: bool = False) -> Cell:
    """A table cell like :func:`status_text`, coloured when drawn (follows theme changes, and a
    big table stores two strings instead of a Rich Text and its spans)."""
    return Cell(safe_str(text), level or str(text).lower(), bold)

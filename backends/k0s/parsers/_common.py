"""Shared pieces of the parsers: the error type, ANSI stripping, a safety net."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from backends.pool import Pool


P = ParamSpec("P")
R = TypeVar("R")

# CSI sequences (colours, cursor moves, line clears) and the rarer OSC ones.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")

EXCERPT_LIMIT = 120
#: Longest text :func:`shared` interns; longer values are rarely repeated across hosts.
SHARED_MAX = 256
_SHARED_TUPLES: Pool[tuple, tuple] = Pool()
_SHARED_MAPPINGS: Pool[tuple, dict[str, str]] = Pool()


def shared(text: str) -> str:
    """One string object for every equal ``text`` (``sys.intern``): a fleet's hosts print the
    same refs, digests, label keys and probe names thousands of times."""
    return sys.intern(text) if len(text) <= SHARED_MAX else text


def shared_tuple(items: tuple[str, ...]) -> tuple[str, ...]:
    """One tuple object for every equal tuple of strings (a bounded pool)."""
    return _SHARED_TUPLES.share(items, lambda: tuple(shared(t) for t in items))


def shared_mapping(items: dict[str, str]) -> dict[str, str]:
    """One dict object for every equal mapping of strings (a bounded table, emptied when full):
    the labels of an image are the same on every host. The dict is shared: never mutate it."""
    key = tuple(items.items())
    return _SHARED_MAPPINGS.share(key, lambda: {shared(k): shared(v) for k, v in key})


def excerpt(text: object, limit: int = EXCERPT_LIMIT) -> str:
    """A short, single-line excerpt of ``text`` for error messages."""
    s = text if isinstance(text, str) else repr(text)
    s = strip_ansi(s).strip().replace("\r", "\\r").replace("\n", "\\n")
    return s if len(s) <= limit else s[:limit] + "…"


class ParseError(ValueError):
    """Output that a parser cannot read. ``excerpt`` holds a short excerpt of the offending input."""

    def __init__(self, message: str, text: object = "") -> None:
        self.excerpt = excerpt(text)
        super().__init__(f"{message}: {self.excerpt!r}" if self.excerpt else message)
        self.message = message


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape sequences."""
    return _ANSI.sub("", text)


_CAUGHT = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError)


def _is_yaml_error(exc: Exception) -> bool:
    """Whether ``exc`` is pyyaml's YAMLError. Only a parser that loaded pyyaml can raise one,
    so pyyaml is not imported here: parsers of plain text (status, sysinfo) keep it unloaded
    (~10 ms at start)."""
    yaml = sys.modules.get("yaml")
    return yaml is not None and isinstance(exc, yaml.YAMLError)


def guarded(what: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Make a parser raise ParseError and nothing else.

    The parsers check shapes explicitly; this is the safety net that keeps the contract
    ("ParseError or a result") even when an unforeseen input slips past those checks.
    """
    def deco(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except ParseError:
                raise
            except Exception as exc:
                if not isinstance(exc, _CAUGHT) and not _is_yaml_error(exc):
                    raise
                text = args[0] if args else ""
                raise ParseError(f"cannot read {what} ({type(exc).__name__}: {exc})", text) from exc
        return wrapper
    return deco


def require_str(text: object, what: str) -> str:
    """``text`` when it is a str, else ParseError."""
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    if not isinstance(text, str):
        raise ParseError(f"{what}: expected text, got {type(text).__name__}", "")
    return text

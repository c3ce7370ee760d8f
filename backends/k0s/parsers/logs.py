"""Parsers of k0s log lines: logrus text, journal JSON / short prefixes, CRI container logs.

Pure functions from one line of text to a :class:`LogEntry`. Input is untrusted: every line is
cut at :data:`MAX_LINE` characters before it is looked at, the patterns cannot backtrack
badly, and the only exception raised is :class:`ParseError`. A line that is not in the
expected format is still kept (message = the line) rather than dropped: an operator reading a
failing node wants the odd line too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from backends.k0s.parsers._common import ParseError, strip_ansi

#: Characters of a line looked at; the rest is dropped (a runaway line cannot eat memory).
MAX_LINE = 16 * 1024

LEVELS = ("trace", "debug", "info", "warning", "error", "fatal", "panic")
_LEVEL_ALIASES = {"warn": "warning", "err": "error", "crit": "fatal", "critical": "fatal"}
#: klog's severity letter (kubelet, apiserver… inside k0s's msg) -> logrus level.
_KLOG = {"I": "info", "W": "warning", "E": "error", "F": "fatal"}
_KLOG_PREFIX = re.compile(r"([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s")

# key=value or key="go quoted"; possessive quantifiers (Python 3.11+): no backtracking blow-up.
_LOGRUS_FIELD = re.compile(r'(?<!\S)([A-Za-z_][\w.-]{0,63})=("(?:[^"\\]++|\\.)*+"|[^\s"]*)')
_GO_ESCAPE = re.compile(r'\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[0-7]{3}|.)')
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b",
                   "f": "\f", "v": "\v", "'": "'"}
# "2026-09-01T10:15:42.123456+0000 host k0s[1766]: rest" (journalctl -o short-iso-precise)
_SHORT_ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:[+-]\d\d:?\d\d|Z)?) "
                        r"(\S{1,255}) ([^\s:\[]{1,64})(?:\[(\d{1,10})\])?: ?(.*)", re.S)
# "Jul 08 08:46:25 host k0s[1766]: rest" (journalctl's default short format; no year)
_SHORT = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S{1,255}) ([^\s:\[]{1,64})"
                    r"(?:\[(\d{1,10})\])?: ?(.*)", re.S)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_CRI = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) "
                  r"(stdout|stderr) ([FP])(?: (.*))?", re.S)
_FRACTION = re.compile(r"\.(\d{1,9})")


@dataclass(slots=True)
class LogEntry:
    """One log line, parsed. ``time`` is seconds since the epoch (None when the line had none).

    ``kind`` is "line" for what the host logged, "error" for a typed problem the console
    reports in the view itself (a host that dropped mid-follow), "partial" for a CRI ``P`` line.
    """

    time: float | None
    host: str
    level: str
    component: str
    message: str
    stream: str = ""
    kind: str = "line"


_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x20), *range(0x7F, 0xA0))}
_CONTROL[0x09] = "    "  # a tab: spaces, so columns stay put


def visible(text: str) -> str:
    """``text`` with control characters (ESC, CR, BEL, C1…) shown as ``\\xNN``: safe for a terminal."""
    return text.translate(_CONTROL)


def _cap(line: str) -> str:
    if not isinstance(line, str):
        raise ParseError("a log line must be text", line)
    line = line[:MAX_LINE]
    return line.rstrip("\r\n")


def normalise_level(level: str) -> str:
    """``warn`` -> ``warning``…; unknown levels are kept lower-cased (bounded)."""
    level = level.strip().lower()[:16]
    return _LEVEL_ALIASES.get(level, level)


def go_unquote(text: str) -> str:
    """The value of a Go-quoted string (``"a \\"b\\"\\n"``), tolerant of bad escapes."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        if "\\" not in text:
            return text[1:-1]
        try:  # Go's quoting is JSON's for the common escapes: the C decoder is much faster
            value = json.loads(text)
            if isinstance(value, str):
                return value
        except ValueError:
            pass
        text = text[1:-1]
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        esc = m.group(0)[1:]
        if esc[0] in "uU":
            code = int(esc[1:], 16)
            return chr(code) if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
        if esc[0] == "x":
            return chr(int(esc[1:], 16))
        if esc[0] in "01234567" and len(esc) == 3:
            return chr(int(esc, 8) & 0xFF)
        return _SIMPLE_ESCAPES.get(esc, m.group(0))

    return _GO_ESCAPE.sub(one, text)


def parse_time(text: str, *, default_utc: bool = True) -> float | None:
    """Seconds since the epoch of an ISO-like timestamp (``2026-09-01 10:15:42``,
    ``…T10:15:42.123456789Z``, ``…+0000``); None when unreadable. No zone means UTC."""
    text = text.strip()[:64]
    if not text:
        return None
    frac = 0.0
    m = _FRACTION.search(text)
    if m:
        frac = int(m.group(1)) / 10 ** len(m.group(1))
        text = text[:m.start()] + text[m.end():]
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    elif len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit() and text[-3] != ":":
        text = text[:-2] + ":" + text[-2:]
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        if not default_utc:
            return None
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp() + frac


def parse_logrus(line: str, host: str = "", *, time: float | None = None) -> LogEntry:
    """A k0s logrus text line: ``time="…" level=info msg="…" component=kubelet stream=stderr``.

    ``time`` (e.g. the journal's exact timestamp) wins over the line's own second-precision
    one. A line that is not logrus becomes an entry whose message is the whole line.
    """
    line = _cap(line)
    fields: dict[str, str] = {}
    if "level=" in line or "msg=" in line:
        for key, value in _LOGRUS_FIELD.findall(line):
            if key not in fields:
                fields[key] = go_unquote(value) if value.startswith('"') else value
    if "msg" not in fields and "level" not in fields:
        return LogEntry(time, host, _klog_level(line) or "", "", strip_ansi(line))
    msg = fields.get("msg", "")
    level = normalise_level(fields.get("level", ""))
    if level in ("info", ""):
        level = _klog_level(msg) or level
    when = time if time is not None else parse_time(fields.get("time", ""))
    return LogEntry(when, host, level, fields.get("component", "")[:64], msg,
                    fields.get("stream", "")[:16])


def _klog_level(msg: str) -> str | None:
    m = _KLOG_PREFIX.match(msg)
    return _KLOG[m.group(1)] if m else None


def parse_journal_json(line: str, host: str = "") -> LogEntry:
    """One line of ``journalctl -o json``: ``__REALTIME_TIMESTAMP`` (µs) and ``MESSAGE``.

    ``MESSAGE`` may be a byte array (journald's form for non-UTF-8 text). Raises ParseError
    when the line is not a JSON object.
    """
    line = _cap(line)
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ParseError("not a journal JSON line", line) from exc
    if not isinstance(doc, dict):
        raise ParseError("journal JSON line is not an object", line)
    msg = doc.get("MESSAGE", "")
    if isinstance(msg, list):
        msg = bytes(b & 0xFF for b in msg[:MAX_LINE] if isinstance(b, int)).decode("utf-8", "replace")
    elif not isinstance(msg, str):
        msg = "" if msg is None else str(msg)
    when: float | None = None
    stamp = doc.get("__REALTIME_TIMESTAMP")
    if isinstance(stamp, (str, int)) and str(stamp).isdigit() and len(str(stamp)) <= 20:
        when = int(stamp) / 1e6
    return parse_logrus(msg, host, time=when)


def parse_journal_short(line: str, host: str = "", *, year: int | None = None) -> LogEntry:
    """A ``journalctl -o short-iso-precise`` line (or the default ``short`` one, whose year is
    ``year``, default this year): the prefix gives the exact time, the rest is parsed as logrus."""
    line = _cap(line)
    m = _SHORT_ISO.match(line)
    if m:
        return parse_logrus(m.group(5), host, time=parse_time(m.group(1)))
    m = _SHORT.match(line)
    if m and m.group(1) in _MONTHS:
        y = year or datetime.now(timezone.utc).year
        when = parse_time(f"{y:04d}-{_MONTHS[m.group(1)]:02d}-{int(m.group(2)):02d} {m.group(3)}")
        return parse_logrus(m.group(7), host, time=when)
    if line.startswith("-- "):  # "-- No entries --", "-- Boot …": journalctl's own remarks
        return LogEntry(None, host, "", "journal", line[3:].rstrip(" -"))
    return parse_logrus(line, host)


def parse_cri(line: str, host: str = "", component: str = "") -> LogEntry:
    """A CRI container log line: ``2026-09-01T10:15:42.123456789Z stdout F message``.

    ``P`` marks a partial line (the container wrote more than the runtime's buffer): kind
    "partial", to be joined with the following line. Raises ParseError for other lines.
    """
    line = _cap(line)
    m = _CRI.match(line)
    if not m:
        raise ParseError("not a CRI log line", line)
    when = parse_time(m.group(1))
    msg = m.group(4) or ""
    level = _klog_level(msg) or ("error" if m.group(2) == "stderr" else "info")
    return LogEntry(when, host, level, component, msg, m.group(2),
                    "partial" if m.group(3) == "P" else "line")


def parse_line(fmt: str, line: str, host: str = "", component: str = "") -> LogEntry:
    """Parse ``line`` in format ``fmt`` ("json", "short", "logrus", "cri"); never raises.

    A line the format cannot read becomes an entry with the raw (capped) text as message.
    """
    try:
        if fmt == "json":
            return parse_journal_json(line, host)
        if fmt == "short":
            return parse_journal_short(line, host)
        if fmt == "cri":
            return parse_cri(line, host, component)
        return parse_logrus(line, host)
    except ParseError:
        text = line[:MAX_LINE] if isinstance(line, str) else repr(line)[:MAX_LINE]
        return LogEntry(None, host, "", component, strip_ansi(text.rstrip("\r\n")))


class CriJoiner:
    """Joins CRI partial (``P``) lines with the ``F`` line that ends them, bounded by MAX_LINE."""

    def __init__(self) -> None:
        self._parts: dict[str, LogEntry] = {}

    def feed(self, entry: LogEntry) -> LogEntry | None:
        """The finished entry, or None while a partial line waits for its end."""
        held = self._parts.pop(entry.stream, None)
        if held is not None:
            entry.message = (held.message + entry.message)[:MAX_LINE]
            entry.time = held.time
        if entry.kind == "partial":
            entry.kind = "line"
            self._parts[entry.stream] = entry
            return None
        return entry

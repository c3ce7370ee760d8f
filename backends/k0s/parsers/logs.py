"""Parsers of k0s log lines: logrus text, journal JSON / short prefixes, CRI container logs.

Pure functions from one line of text to a :class:`LogEntry`. Input is untrusted: every line is
cut at :data:`MAX_LINE` characters before it is looked at, the patterns cannot backtrack
badly, and the only exception raised is :class:`ParseError`. A line that is not in the
expected format is still kept (message = the line) rather than dropped: an operator reading a
failing node wants the odd line too.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

from backends.k0s.parsers._common import ParseError, strip_ansi
from backends.safetext import UNSAFE_CODEPOINTS, escape

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
# "2026-09-01T10:15:42.123456+00:00 host k0s[1766]: rest" (journalctl -o short-iso-precise; systemd
# before v250 wrote the zone as +0000). The groups: whole seconds, fraction, zone; the prefix's end
# is where the logged line starts.
_SHORT_ISO = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([+-]\d\d:?\d\d|Z)? "
                        r"\S{1,255} [^\s:\[]{1,64}(?:\[\d{1,10}\])?: ?")
# "Jul 08 08:46:25 host k0s[1766]: rest" (journalctl's default short format; no year)
_SHORT = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d) (\S{1,255}) ([^\s:\[]{1,64})"
                    r"(?:\[(\d{1,10})\])?: ?(.*)", re.S)
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}
_CRI = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) "
                  r"(stdout|stderr) ([FP])(?: (.*))?", re.S)
_FRACTION = re.compile(r"\.(\d{1,9})")
_YEAR_10000 = 253402300800.0
_POW10 = [10 ** n for n in range(10)]


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

    def row(self) -> Row:
        """This entry as a :data:`Row` (what a view's buffer holds)."""
        return (self.time, self.host, self.level, self.component, self.message, self.stream, self.kind)


#: A line as a view's buffer holds it: an exact tuple (time, host, level, component, message,
#: stream, kind), indexed by the constants below. Python's collector stops tracking a tuple of
#: strings, floats and None, so 50,000 held lines cost each full collection nothing; as 50,000
#: LogEntry objects they made every one of them slower, and frequent while lines stream in.
Row = tuple[float | None, str, str, str, str, str, str]
TIME, HOST, LEVEL, COMPONENT, MESSAGE, STREAM, KIND = range(7)


# What backends.safetext escapes for every other text from a host (controls, C1, the bidi
# overrides that reorder what the operator reads), with a tab as spaces so columns stay put.
_CONTROL = {cp: escape(cp) for cp in UNSAFE_CODEPOINTS}
_CONTROL[0x09] = "    "
# A search is several times cheaper than translate, and almost every line is clean.
_UNSAFE = re.compile("[" + "".join(f"\\U{c:08x}" for c in sorted(_CONTROL)) + "]")
_UNSAFE_IN_LINES = re.compile("[" + "".join(f"\\U{c:08x}" for c in sorted(_CONTROL) if c != 0x0A) + "]")


# ASCII text can hold only the C0 controls and DEL of all that: deleting them from its bytes
# (one C loop) finds them several times faster than the search (a batch of log is ASCII).
_ASCII_UNSAFE = bytes(c for c in _CONTROL if c < 0x80)
_ASCII_UNSAFE_IN_LINES = bytes(c for c in _CONTROL if c < 0x80 and c != 0x0A)


def has_unsafe(text: str, *, lines: bool = False) -> bool:
    """True when ``text`` holds something :func:`visible` would change (a control, a bidi mark);
    ``lines``: but for newlines (``text`` is many lines)."""
    if text.isascii():
        data = text.encode("ascii")
        return len(data.translate(None, _ASCII_UNSAFE_IN_LINES if lines else _ASCII_UNSAFE)) != len(data)
    return (_UNSAFE_IN_LINES if lines else _UNSAFE).search(text) is not None


def plain_lines(block: bytes) -> bool:
    """True when ``block`` (lines joined by newlines) is ASCII with no control character but
    the newlines and no empty line: printed as it is, it shows exactly what :func:`visible`
    of each line would."""
    return (block.isascii() and len(block.translate(None, _ASCII_UNSAFE_IN_LINES)) == len(block)
            and not block.startswith(b"\n") and not block.endswith(b"\n") and b"\n\n" not in block
            and len(block) > 0)


def visible(text: str) -> str:
    """``text`` with control characters (ESC, CR, BEL, C1…) and bidi overrides shown as
    ``\\xNN``/``\\uNNNN``: safe for a terminal."""
    return text.translate(_CONTROL) if _UNSAFE.search(text) else text


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
    whole = _whole_seconds(text, default_utc)
    return None if whole is None else whole + frac


@functools.lru_cache(maxsize=4096)
def _whole_seconds(text: str, default_utc: bool = True) -> float | None:
    """:func:`parse_time` of a stamp without its fraction. Memoised: a log repeats each second
    for as many lines as it printed in it, and ``fromisoformat`` is the dear part."""
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
    try:
        return when.timestamp()
    except (OverflowError, OSError, ValueError):
        return None


# The shape k0s prints nearly every line in: time="…" level=L msg="…" [component=C] [stream=S],
# read by one regex (groups: time text, level, raw msg, klog severity letter, component, stream).
# The msg runs to the line's last quote (only those two fields may follow it); a msg holding any
# escape but \" is refused afterwards, and the general field parser reads those lines. The
# classes are ASCII ([0-9], printable) where the general parser's are Unicode (\d, \S): several
# times cheaper for the regex engine, and any other line simply takes the general way. For the
# lines the fast path takes both give the same entry (tests/backends/k0s/test_logs_parsers.py).
_K0S_FIELDS = (r'time="([^"\\]*)" level=([A-Za-z]{1,16}) '
               r'msg="((?:([IWEF])\d{4} \d\d:\d\d:\d\d\.\d+\s)?.*)"'  # _KLOG_PREFIX, as it is
               r'(?: component=([!#-~]{0,64}))?(?: stream=([!#-~]{0,16}))?')
# _SHORT_ISO's head in ASCII: stamp, host (printable), identifier (but ":" and "["), pid.
_SHORT_ISO_ASCII = (r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?"
                    r"([+-][0-9]{2}:?[0-9]{2}|Z)? [!-~]{1,255} [!-9;-Z\\-~]{1,64}(?:\[[0-9]{1,10}\])?: ?")
_K0S_LINE = re.compile(_K0S_FIELDS, re.S)
_K0S_SHORT_LINE = re.compile(_SHORT_ISO_ASCII + _K0S_FIELDS, re.S)
_KNOWN_LEVELS = {**{level: level for level in LEVELS}, **_LEVEL_ALIASES}


def _k0s_fields(level: str, klog: str | None, msg: str) -> tuple[str, str] | None:
    """(level, message) from the groups of a k0s-shaped line; None when its msg holds an
    escape other than \" (every backslash must start one, every quote end one)."""
    quotes = msg.count('"')
    if quotes or "\\" in msg:
        if msg.count("\\") != quotes or msg.count('\\"') != quotes:
            return None
        msg = msg.replace('\\"', '"')
    level = _KNOWN_LEVELS.get(level) or normalise_level(level)
    if klog and level == "info":
        level = _KLOG[klog]
    return level, msg


@functools.lru_cache(maxsize=4096)
def _stamp_time(text: str) -> float | None:
    """:func:`parse_time` memoised, for logrus's whole-second stamps (one per second of log)."""
    return parse_time(text)


def parse_logrus(line: str, host: str = "", *, time: float | None = None) -> LogEntry:
    """A k0s logrus text line: ``time="…" level=info msg="…" component=kubelet stream=stderr``.

    ``time`` (e.g. the journal's exact timestamp) wins over the line's own second-precision
    one. A line that is not logrus becomes an entry whose message is the whole line.
    """
    line = _cap(line)
    m = _K0S_LINE.fullmatch(line)
    if m is not None:
        stamp, level, msg, klog, component, stream = m.groups()
        fields = _k0s_fields(level, klog, msg)
        if fields is not None:
            when = time if time is not None else _stamp_time(stamp)
            return LogEntry(when, host, fields[0], component or "", fields[1], stream or "")
    return _parse_logrus_fields(line, host, time)


def _parse_logrus_fields(line: str, host: str, time: float | None) -> LogEntry:
    """The general logrus parser: every ``key=value`` / ``key="quoted"`` field (the first of
    each key wins), for any field order and any escapes. ``line`` is already capped."""
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
        if when >= _YEAR_10000:  # no calendar shows it (and datetime raises on it)
            when = None
    return parse_logrus(msg, host, time=when)


def parse_journal_short(line: str, host: str = "", *, year: int | None = None) -> LogEntry:
    """A ``journalctl -o short-iso-precise`` line (or the default ``short`` one, whose year is
    ``year``, default this year): the prefix gives the exact time, the rest is parsed as logrus."""
    line = _cap(line)
    m = _SHORT_ISO.match(line)
    if m:
        whole, frac, zone = m.groups()
        when = _whole_seconds(whole + zone if zone else whole, True)  # parse_time, minus its searches
        if when is not None and frac:
            when += int(frac) / 10 ** len(frac)
        return parse_logrus(line[m.end():], host, time=when)
    m = _SHORT.match(line)
    if m and m.group(1) in _MONTHS:
        y = year or datetime.now(timezone.utc).year
        when = parse_time(f"{y:04d}-{_MONTHS[m.group(1)]:02d}-{int(m.group(2)):02d} {m.group(3)}")
        return parse_logrus(m.group(7), host, time=when)
    if line.startswith("-- "):  # "-- No entries --", "-- Boot …": journalctl's own remarks
        return LogEntry(None, host, "", "journal", line[3:].rstrip(" -"))
    return parse_logrus(line, host)


# The fixed-width stamp a short-iso-precise line starts with, and a logrus line's time field.
_LINE_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?([+-]\d\d:?\d\d|Z)?(?= )")
_LOGRUS_TIME = re.compile(r'time=(?:"([^"\\]{1,64})"|([^\s"]{1,64}))')


def line_times(fmt: str, lines: list[str], last: float | None = None) -> list[float | None]:
    """The time of each line ("short": its leading stamp; "logrus": its ``time=`` field),
    without parsing the rest: enough to merge hosts by time. A line without one keeps the
    previous line's (``last`` before the first). Other formats: every line gets ``last``.
    Never raises."""
    times: list[float | None] = []
    append = times.append
    if fmt == "short":
        match, pow10 = _LINE_STAMP.match, _POW10
        last_whole, last_zone, base = None, None, None
        for line in lines:
            m = match(line)
            if m is not None:
                whole, frac, zone = m.groups()
                if whole != last_whole or zone != last_zone:  # parsed once per second of log
                    last_whole, last_zone = whole, zone
                    base = _whole_seconds(whole + zone if zone else whole, True)
                if base is not None:
                    last = base + int(frac) / pow10[len(frac)] if frac else base
            append(last)
    elif fmt == "logrus":
        search = _LOGRUS_TIME.search
        for line in lines:
            m = search(line, 0, 256)  # k0s's logrus lines start with it
            if m is not None:
                when = _stamp_time(m.group(1) or m.group(2))
                if when is not None:
                    last = when
            append(last)
    else:
        times = [last] * len(lines)
    return times


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


def parse_rows(fmt: str, lines: list[str], host: str = "", component: str = "") -> list[Row]:
    """:func:`parse_line` of each non-blank line, as rows: the same results, for about one
    regex a line when the lines are in k0s's usual shape (a ``short`` or ``logrus`` stream of
    thousands of lines a second). Other lines and formats go through :func:`parse_line`.
    Never raises."""
    if fmt == "short":
        pattern = _K0S_SHORT_LINE
    elif fmt == "logrus":
        pattern = _K0S_LINE
    else:
        return _rows_one_by_one(fmt, lines, host, component)
    if lines and max(map(len, lines)) > MAX_LINE:
        return _rows_one_by_one(fmt, lines, host, component)
    short = pattern is _K0S_SHORT_LINE
    known_levels, klog_levels, pow10 = _KNOWN_LEVELS, _KLOG, _POW10
    rows: list[Row] = []
    append = rows.append
    raw: list[str | None] = []  # each row's msg as logged (None: the general parser's row)
    keep = raw.append
    last_whole, last_zone, base = None, None, None
    for line, m in zip(lines, map(pattern.fullmatch, lines)):
        if m is None:
            if line and not line.isspace():
                append(parse_line(fmt, line, host, component).row())
                keep(None)
            continue
        if short:
            whole, frac, zone, stamp, level, msg, klog, comp, stream = m.groups()
            if whole != last_whole or zone != last_zone:  # parsed once per second of log
                last_whole, last_zone = whole, zone
                base = _whole_seconds(whole + zone if zone else whole, True)
            if base is None:  # no such date: the line's own (logrus) time, as parse_logrus does
                when = _stamp_time(stamp)
            elif frac:
                when = base + int(frac) / (1_000_000 if len(frac) == 6 else pow10[len(frac)])
            else:
                when = base
        else:
            stamp, level, msg, klog, comp, stream = m.groups()
            when = _stamp_time(stamp)
        keep(msg)
        if "\\" in msg:
            msg = msg.replace('\\"', '"')
        level = known_levels.get(level) or normalise_level(level)
        if klog and level == "info":
            level = klog_levels[klog]
        append((when, host, level, comp or "", msg, stream or "", "line"))
    # A msg may hold no escape but \" (every backslash starts one, every quote ends one), else
    # the line is the general parser's. One check for all: the counts of ", \ and \" agree in
    # total only if they agree in every msg (each \" holds one of each; the newlines between
    # them keep a \ ending one msg and a " starting the next from counting as a \").
    text = "\n".join(msg for msg in raw if msg is not None)
    if not text.count('"') == text.count("\\") == text.count('\\"'):
        _reparse_escaped(rows, raw, fmt, lines, host, component)
    return rows


def _reparse_escaped(rows: list[Row], raw: list[str | None], fmt: str, lines: list[str], host: str,
                     component: str) -> None:
    """Give the general parser the rows whose msg holds more than \" escapes (in place)."""
    kept = [line for line in lines if line and not line.isspace()]  # rows[i] came from kept[i]
    for i, msg in enumerate(raw):
        if msg is not None:
            quoted = msg.count('\\"')
            if msg.count('"') != quoted or msg.count("\\") != quoted:
                rows[i] = parse_line(fmt, kept[i], host, component).row()


def _rows_one_by_one(fmt: str, lines: list[str], host: str, component: str) -> list[Row]:
    return [parse_line(fmt, line, host, component).row() for line in lines if line and not line.isspace()]


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

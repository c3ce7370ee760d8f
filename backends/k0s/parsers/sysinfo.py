"""`k0s sysinfo`: the probe tree (text, v1.24+), its JSON form, and the legacy v1.21–1.23 form."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from backends.models import STATUS_RANK, ProbeStatus, SysinfoProbe, SysinfoReport
from backends.k0s.parsers._common import ParseError, guarded, require_str, shared, shared_tuple, strip_ansi
from backends.pool import Pool
from backends.safeyaml import load_json

# The verdict at the end of a probe line. The message may continue on later lines, so the
# closing parenthesis is optional here. It is always preceded by a space (after the value,
# or after the ": " when the value is empty).
_VERDICT = re.compile(r" \((pass|warning|rejected)(?:: (.*?))?(\))?$")
# Names that themselves contain ": " (split at the second separator).
_TWO_PART_NAMES = ("Name resolution: ", "Executable in PATH: ", "Executable in path: ",
                   "Containerd config snippet: ")
_SEP = ": "
# Legacy (kubeadm validators): `ESC[0;37mKEY ESC[0m: ESC[0;3Xm VALUE ESC[0m`.
_LEGACY = re.compile(
    r"^(?:\x1b\[[0-9;]*m)?(?P<key>[A-Za-z0-9_.\-]+)(?:\x1b\[0?m)?: "
    r"\x1b\[(?:0;)?(?P<colour>3[0-9])m(?P<value>.*?)(?:\x1b\[0?m)?\s*$"
)
_LEGACY_COLOURS: dict[str, ProbeStatus] = {"32": "pass", "33": "warning", "31": "rejected"}
_CATEGORIES = ("pass", "warning", "rejected", "error")
_CATEGORY = {c: c for c in _CATEGORIES}  # the module's own string for each (not the host's copy)
#: Probes by value: hosts with the same result share one (frozen) probe.
_PROBES: Pool[SysinfoProbe, SysinfoProbe] = Pool()
_TRAILER = re.compile(r"^Error: sysinfo failed\s*$")


def _split_name(head: str) -> tuple[str, str] | None:
    """Split ``name: value`` following the recipe that holds for k0s 1.24–1.36.

    ``head`` ends with ": " when the value is empty. Returns None when there is no separator.
    """
    positions = [m.start() for m in re.finditer(re.escape(_SEP), head)]
    if not positions:
        return None
    if head.startswith("CONFIG_"):
        cut = positions[-1]
    elif head.startswith(_TWO_PART_NAMES):
        if len(positions) < 2:
            return None
        cut = positions[1]
    else:
        cut = positions[0]
    return head[:cut], head[cut + len(_SEP):]


def _split_error(head: str) -> tuple[str, str] | None:
    """``name: error[: text]`` -> (name, text), or None when ``head`` is no errored probe."""
    if head.startswith("CONFIG_"):
        min_cut = head.find(_SEP) + 1  # the description belongs to the name
    elif head.startswith(_TWO_PART_NAMES):
        min_cut = head.find(_SEP) + len(_SEP)
    else:
        min_cut = 0
    for m in re.finditer(r": error(?=: |$)", head):
        if m.start() >= min_cut and m.start() > 0:
            rest = head[m.end():]
            return head[:m.start()], rest[len(_SEP):] if rest else ""
    return None


class _Tree:
    """Builds ``path`` tuples from depths, tolerating a jump deeper than one level."""

    def __init__(self) -> None:
        self.stack: list[str] = []

    def place(self, depth: int, name: str) -> tuple[str, ...]:
        depth = min(max(depth, 0), len(self.stack))
        del self.stack[depth:]
        self.stack.append(name)
        return tuple(self.stack)


def _report(probes: list[SysinfoProbe], fmt: str) -> SysinfoReport:
    worst: ProbeStatus = "pass"
    # Every host of a fleet prints the same probes: equal ones become one shared object, and
    # the names, values and messages of a new one are stored once.
    probes = [_PROBES.share(p, lambda p=p: SysinfoProbe(
                path=shared_tuple(p.path), name=shared(p.name), value=shared(p.value),
                status=_CATEGORY.get(p.status, p.status), message=shared(p.message)))
              for p in probes]
    for p in probes:
        if STATUS_RANK[p.status] > STATUS_RANK[worst]:
            worst = p.status
    return SysinfoReport(probes=probes, status=worst, format=fmt)


def _parse_text(text: str) -> SysinfoReport:
    probes: list[SysinfoProbe] = []
    tree = _Tree()
    open_message = False  # the last probe's "(category: …" still awaits its ")"
    for raw_line in strip_ansi(text).splitlines():
        line = raw_line.rstrip("\r")
        if not line.strip() or _TRAILER.match(line):
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        body = stripped.rstrip()
        probe: SysinfoProbe | None = None
        depth = indent // 2
        verdict = _VERDICT.search(body)
        if verdict and not indent % 2:
            split = _split_name(body[:verdict.start()] + " ")
            if split is not None and split[0]:
                name, value = split
                status: ProbeStatus = verdict.group(1)  # type: ignore[assignment]
                probe = SysinfoProbe(path=tree.place(depth, name), name=name, value=value.strip(),
                                     status=status, message=(verdict.group(2) or ""))
                is_open = verdict.group(3) is None
        # Inside an unclosed "(category: …" only a full verdict line starts a new probe: a
        # joined error's next line may well read like "<something>: error: <text>".
        if probe is None and not indent % 2 and not open_message:
            err = _split_error(body)
            if err is not None and err[0]:
                name, message = err
                probe = SysinfoProbe(path=tree.place(depth, name), name=name, value="",
                                     status="error", message=message)
                is_open = False
        if probe is not None:
            probes.append(probe)
            open_message = is_open
            continue
        # Not the grammar: the previous probe's message continues (joined errors).
        if not probes:
            raise ParseError("k0s sysinfo: first line is not a probe", line)
        last = probes[-1]
        piece = line.strip()
        if open_message and piece.endswith(")"):
            piece = piece[:-1]
            open_message = False
        probes[-1] = dataclasses.replace(last, message=f"{last.message}\n{piece}" if last.message else piece)
    if not probes:
        raise ParseError("k0s sysinfo: no probes", text)
    return _report(probes, "text")


def _parse_legacy(text: str) -> SysinfoReport:
    probes: list[SysinfoProbe] = []
    for raw_line in text.splitlines():
        line = raw_line.rstrip("\r")
        if not strip_ansi(line).strip():
            continue
        m = _LEGACY.match(line)
        if not m:
            raise ParseError("k0s sysinfo (legacy): line is not `KEY: VALUE` with a colour verdict", line)
        status = _LEGACY_COLOURS.get(m.group("colour"))
        if status is None:
            raise ParseError(f"k0s sysinfo (legacy): unknown verdict colour {m.group('colour')}", line)
        key = m.group("key")
        probes.append(SysinfoProbe(path=(key,), name=key, value=strip_ansi(m.group("value")).strip(),
                                   status=status))
    if not probes:
        raise ParseError("k0s sysinfo (legacy): no probes", text)
    return _report(probes, "legacy")


def _parse_json(text: str) -> SysinfoReport:
    try:
        data: Any = load_json(text)
    except ValueError as exc:
        raise ParseError(f"k0s sysinfo: invalid JSON ({exc})", text) from exc
    if not isinstance(data, list):
        raise ParseError("k0s sysinfo: JSON is not an array of probes", text)
    probes: list[SysinfoProbe] = []
    ancestry_ids: list[str] = []  # ids and display names of the current ancestry, by depth
    names: list[str] = []
    for entry in data:
        if not isinstance(entry, dict):
            raise ParseError("k0s sysinfo: JSON probe is not an object", text)
        path = entry.get("path")
        if not isinstance(path, list) or not path or not all(isinstance(p, str) for p in path):
            raise ParseError("k0s sysinfo: JSON probe without a path", json.dumps(entry)[:200])
        name = entry.get("displayName")
        if name is None or name == "":
            name = path[-1]
        if not isinstance(name, str):
            raise ParseError("k0s sysinfo: displayName is not a string", json.dumps(entry)[:200])
        category = entry.get("category")
        if category is None and entry.get("error") is not None:
            category = "error"
        if category not in _CATEGORIES:
            raise ParseError(f"k0s sysinfo: unknown category {category!r}", json.dumps(entry)[:200])
        depth = len(path) - 1
        # Ancestors by depth from preceding entries (checked by id); ids stand in where
        # no preceding entry names that ancestor.
        names = [names[i] if i < len(names) and ancestry_ids[i] == path[i] else path[i]
                 for i in range(depth)] + [name]
        ancestry_ids = list(path)
        prop = entry.get("prop")
        message = entry.get("message")
        probes.append(SysinfoProbe(
            path=tuple(names), name=name,
            value="" if prop is None else (prop if isinstance(prop, str) else json.dumps(prop)),
            status=category,
            message="" if message is None else (message if isinstance(message, str) else json.dumps(message)),
        ))
    return _report(probes, "json")


def _looks_legacy(text: str) -> bool:
    for line in text.splitlines():
        if strip_ansi(line).strip():
            return bool(_LEGACY.match(line.rstrip("\r")))
    return False


@guarded("k0s sysinfo")
def parse_sysinfo(text: str) -> SysinfoReport:
    """Parse `k0s sysinfo` output: probe-tree text, JSON (`-o json`) or the legacy v1.21–1.23 form.

    ``report.format`` is "text", "json" or "legacy"; ``report.status`` is the worst probe status.
    Legacy verdicts come from the ANSI colour only (32 pass, 33 warning, 31 rejected).
    """
    text = require_str(text, "k0s sysinfo")
    stripped = text.strip()
    if not stripped:
        raise ParseError("k0s sysinfo: empty output", text)
    if stripped.startswith("["):
        return _parse_json(stripped)
    if _looks_legacy(text):
        return _parse_legacy(text)
    return _parse_text(text)

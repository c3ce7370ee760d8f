"""`k0s kubectl get plans -o json`: autopilot Plan objects (``autopilot.k0sproject.io/v1beta2``).

Shapes follow the CRD: ``spec.commands[]`` hold a ``k0supdate`` {version, targets{controllers,
workers}} or an ``airgapupdate`` {version, workers}; ``status.commands[]`` hold {id, state,
description, k0supdate{controllers[], workers[]} | airgapupdate{workers[]}} with each target
{name, state, lastUpdatedTimestamp, description}. Unknown fields are ignored; missing optional
ones are empty. Bounded: at most :data:`MAX_BYTES` of text, :data:`MAX_PLANS` plans and
:data:`MAX_TARGETS` targets per command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from backends.k0s.parsers._common import ParseError, guarded, require_str, strip_ansi

API_GROUP = "autopilot.k0sproject.io"
MAX_BYTES = 16 << 20
MAX_PLANS = 100
MAX_COMMANDS = 50
MAX_TARGETS = 10_000
#: Longest state, name or description kept (longer text is cut).
MAX_TEXT = 300
#: kubectl's words when the Plan CRD is not installed (a cluster without autopilot).
NO_PLANS_RESOURCE = "the server doesn't have a resource type"


@dataclass
class PlanTarget:
    """One signal node of a command: its role in the plan, state and last change."""

    name: str
    role: str  # "controller" or "worker"
    state: str
    updated: str = ""  # lastUpdatedTimestamp as kubectl printed it (RFC 3339)
    description: str = ""


@dataclass
class PlanCommand:
    """One command of a plan with its status (``kind``: k0supdate or airgapupdate)."""

    index: int
    kind: str
    version: str
    state: str = ""
    description: str = ""
    force: bool = False
    targets: list[PlanTarget] = field(default_factory=list)


@dataclass
class Plan:
    """One autopilot Plan: its id, overall state and commands."""

    name: str
    id: str
    state: str
    timestamp: str = ""
    created: str = ""
    commands: list[PlanCommand] = field(default_factory=list)

    @property
    def versions(self) -> list[str]:
        """The target versions of its commands (in order, no repeats)."""
        return list(dict.fromkeys(c.version for c in self.commands if c.version))


def _text(value: Any, what: str, raw: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float, bool)):
        raise ParseError(f"plans: {what} is not a scalar", raw)
    return str(value)[:MAX_TEXT]


def _obj(value: Any, what: str, raw: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"plans: {what} is not an object", raw)
    return value


def _list(value: Any, what: str, raw: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ParseError(f"plans: {what} is not a list", raw)
    if len(value) > limit:
        raise ParseError(f"plans: {what} has more than {limit} entries", raw[:200])
    return value


def _targets(status: dict[str, Any], role_lists: tuple[str, ...], where: str, raw: str) -> list[PlanTarget]:
    out: list[PlanTarget] = []
    for key in role_lists:
        for i, t in enumerate(_list(status.get(key), f"{where}.{key}", raw, MAX_TARGETS)):
            t = _obj(t, f"{where}.{key}[{i}]", raw)
            out.append(PlanTarget(
                name=_text(t.get("name"), f"{where}.{key}[{i}].name", raw),
                role=key.rstrip("s"),
                state=_text(t.get("state"), f"{where}.{key}[{i}].state", raw),
                updated=_text(t.get("lastUpdatedTimestamp"), "lastUpdatedTimestamp", raw),
                description=_text(t.get("description"), "description", raw)))
    return out


def _plan(item: Any, n: int, raw: str) -> Plan:
    item = _obj(item, f"items[{n}]", raw)
    api = _text(item.get("apiVersion"), "apiVersion", raw)
    if api and not api.startswith(API_GROUP + "/"):
        raise ParseError(f"plans: items[{n}] is a {api}, not an autopilot Plan", raw[:200])
    meta = _obj(item.get("metadata"), "metadata", raw)
    spec = _obj(item.get("spec"), "spec", raw)
    status = _obj(item.get("status"), "status", raw)
    spec_cmds = _list(spec.get("commands"), "spec.commands", raw, MAX_COMMANDS)
    status_cmds = _list(status.get("commands"), "status.commands", raw, MAX_COMMANDS)
    by_id: dict[int, dict[str, Any]] = {}
    for j, sc in enumerate(status_cmds):
        sc = _obj(sc, f"status.commands[{j}]", raw)
        ident = sc.get("id", j)
        by_id[ident if isinstance(ident, int) and not isinstance(ident, bool) else j] = sc
    commands: list[PlanCommand] = []
    for j, cmd in enumerate(spec_cmds):
        cmd = _obj(cmd, f"spec.commands[{j}]", raw)
        kind = "k0supdate" if "k0supdate" in cmd else ("airgapupdate" if "airgapupdate" in cmd else "")
        body = _obj(cmd.get(kind), f"spec.commands[{j}].{kind}", raw) if kind else {}
        st = by_id.get(j, {})
        st_body = _obj(st.get(kind), f"status.commands[{j}].{kind}", raw) if kind else {}
        roles = ("controllers", "workers") if kind == "k0supdate" else ("workers",)
        commands.append(PlanCommand(
            index=j, kind=kind or "unknown",
            version=_text(body.get("version"), f"spec.commands[{j}].version", raw),
            state=_text(st.get("state"), f"status.commands[{j}].state", raw),
            description=_text(st.get("description"), "description", raw),
            force=body.get("forceupdate") is True,
            targets=_targets(st_body, roles, f"status.commands[{j}].{kind}", raw) if kind else []))
    return Plan(name=_text(meta.get("name"), "metadata.name", raw),
                id=_text(spec.get("id"), "spec.id", raw),
                state=_text(status.get("state"), "status.state", raw),
                timestamp=_text(spec.get("timestamp"), "spec.timestamp", raw),
                created=_text(meta.get("creationTimestamp"), "metadata.creationTimestamp", raw),
                commands=commands)


@guarded("kubectl get plans")
def parse_plans(text: str) -> list[Plan]:
    """Plans from `kubectl get plans -o json` (a ``List``, or a single ``Plan`` object)."""
    text = require_str(text, "kubectl get plans")
    if len(text) > MAX_BYTES:
        raise ParseError(f"plans: output larger than {MAX_BYTES} bytes", "")
    raw = strip_ansi(text).strip()
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ParseError(f"plans: invalid JSON ({exc})", raw) from exc
    doc = _obj(doc, "the document", raw)
    if doc.get("kind") == "Plan":
        return [_plan(doc, 0, raw)]
    items = _list(doc.get("items"), "items", raw, MAX_PLANS)
    if "items" not in doc:
        raise ParseError("plans: neither a List nor a Plan", raw)
    return [_plan(item, n, raw) for n, item in enumerate(items)]


def is_plans_absent(stderr: str) -> bool:
    """True when kubectl says the cluster has no Plan resource type (autopilot absent)."""
    return isinstance(stderr, str) and NO_PLANS_RESOURCE in stderr and "plans" in stderr

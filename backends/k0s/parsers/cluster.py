"""`k0s etcd member-list` and `kubectl get nodes -o json`."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from backends.models import EtcdMember, KubeNode, NodeCondition
from backends.k0s.parsers._common import ParseError, guarded, require_str, shared, strip_ansi
from backends.safeyaml import load_json

_ROLE_PREFIX = "node-role.kubernetes.io/"


def _members_from(obj: dict[str, Any], text: str) -> list[EtcdMember]:
    members = obj["members"]
    if not isinstance(members, dict):
        raise ParseError("etcd member-list: `members` is not an object", text)
    out: list[EtcdMember] = []
    for name, url in members.items():
        if isinstance(url, list):  # tolerate a list of peer URLs: the first is the one to show
            url = url[0] if url else ""
        if not isinstance(url, str):
            raise ParseError(f"etcd member-list: peer URL of {name!r} is not a string", text)
        out.append(EtcdMember(name=str(name), peer_url=url))
    return out


@guarded("etcd member-list")
def parse_member_list(text: str) -> list[EtcdMember]:
    """Members from `k0s etcd member-list`.

    Accepts the current one-line JSON on stdout (``{"members":{name: url}}``) and the v1.21
    JSON log line on stderr (``{"level":"info","members":{…},"msg":"done",…}``), possibly
    among other log lines.
    """
    text = require_str(text, "etcd member-list")
    seen_json = False
    for line in strip_ansi(text).splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = load_json(line)
        except ValueError:
            continue
        seen_json = True
        if isinstance(obj, dict) and "members" in obj:
            return _members_from(obj, text)
    # A pretty-printed (multi-line) object, just in case.
    stripped = strip_ansi(text).strip()
    if stripped.startswith("{") and not seen_json:
        try:
            obj = load_json(stripped)
        except ValueError as exc:
            raise ParseError(f"etcd member-list: invalid JSON ({exc})", text) from exc
        if isinstance(obj, dict) and "members" in obj:
            return _members_from(obj, text)
    raise ParseError("etcd member-list: no JSON object with `members`", text)


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp (``2024-05-01T10:00:00Z``) as an aware datetime; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError("timestamp is not a string", value)
    return _timestamp(value)


@functools.lru_cache(maxsize=4096)
def _timestamp(value: str) -> datetime:
    # Cached: a fleet's nodes share heartbeat and transition times, and a datetime is
    # immutable, so equal stamps can be one object.
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ParseError("not an RFC 3339 timestamp", value) from exc


#: Conditions kept per node (a node has a handful; a hostile answer could have millions).
_MAX_CONDITIONS = 32


def _timestamp_or_none(value: object) -> datetime | None:
    """A condition's time; an unreadable one is dropped (the condition itself stays useful)."""
    try:
        return parse_timestamp(value)
    except ParseError:
        return None


def _obj(value: Any, what: str, text: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(f"kubectl get nodes: {what} is not an object", text)
    return value


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _node(item: Any, text: str) -> KubeNode:
    item = _obj(item, "item", text)
    meta = _obj(item.get("metadata"), "metadata", text)
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ParseError("kubectl get nodes: a node without metadata.name", text)
    labels = _obj(meta.get("labels"), "metadata.labels", text)
    roles = sorted({str(k)[len(_ROLE_PREFIX):] for k in labels
                    if str(k).startswith(_ROLE_PREFIX) and len(str(k)) > len(_ROLE_PREFIX)})
    legacy_role = labels.get("kubernetes.io/role")
    if isinstance(legacy_role, str) and legacy_role and legacy_role not in roles:
        roles.append(legacy_role)
    status = _obj(item.get("status"), "status", text)
    conditions = status.get("conditions") or []
    if not isinstance(conditions, list):
        raise ParseError("kubectl get nodes: status.conditions is not a list", text)
    ready = False
    parsed: list[NodeCondition] = []
    for cond in conditions[:_MAX_CONDITIONS]:
        cond = _obj(cond, "condition", text)
        if cond.get("type") == "Ready":
            ready = cond.get("status") == "True"
        if _str(cond.get("type")):
            parsed.append(NodeCondition(  # the same words on every node: stored once (shared)
                type=shared(_str(cond.get("type"))[:100]), status=shared(_str(cond.get("status"))[:20]),
                reason=shared(_str(cond.get("reason"))[:200]), message=shared(_str(cond.get("message"))[:1000]),
                last_transition=_timestamp_or_none(cond.get("lastTransitionTime")),
                last_heartbeat=_timestamp_or_none(cond.get("lastHeartbeatTime"))))
    addresses = status.get("addresses") or []
    if not isinstance(addresses, list):
        raise ParseError("kubectl get nodes: status.addresses is not a list", text)
    internal_ip = ""
    for addr in addresses:
        addr = _obj(addr, "address", text)
        if addr.get("type") == "InternalIP" and isinstance(addr.get("address"), str):
            internal_ip = addr["address"]
            break
    info = _obj(status.get("nodeInfo"), "status.nodeInfo", text)
    return KubeNode(
        name=name,
        ready=ready,
        roles=roles,
        kubelet_version=shared(_str(info.get("kubeletVersion"))),
        internal_ip=internal_ip,
        os_image=shared(_str(info.get("osImage"))),
        kernel_version=shared(_str(info.get("kernelVersion"))),
        container_runtime=shared(_str(info.get("containerRuntimeVersion"))),
        created=parse_timestamp(meta.get("creationTimestamp")),
        conditions=parsed,
    )


@guarded("kubectl get nodes")
def parse_kube_nodes(text: str) -> list[KubeNode]:
    """Nodes from `kubectl get nodes -o json` (a List; a single Node object is accepted too)."""
    text = require_str(text, "kubectl get nodes")
    try:
        data = load_json(strip_ansi(text))
    except ValueError as exc:
        raise ParseError(f"kubectl get nodes: invalid JSON ({exc})", text) from exc
    if not isinstance(data, dict):
        raise ParseError("kubectl get nodes: JSON is not an object", text)
    if data.get("kind") == "Node":
        return [_node(data, text)]
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError("kubectl get nodes: no `items` list", text)
    return [_node(item, text) for item in items]

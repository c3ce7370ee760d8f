"""`ctr containers info ID`: containerd's container record (JSON) as ContainerDetails."""

from __future__ import annotations

import json
from typing import Any

from backends.k0s.parsers._common import ParseError, guarded, require_str, strip_ansi
from backends.k0s.parsers.cluster import parse_timestamp
from backends.models import ContainerDetails, Mount

#: Labels the CRI plugin puts on the containers it creates.
POD_LABEL = "io.kubernetes.pod.name"
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
NAME_LABEL = "io.kubernetes.container.name"
KIND_LABEL = "io.cri-containerd.kind"  # "sandbox" or "container"
#: Mounts kept (an OCI spec has a few dozen; a hostile one could have millions).
MAX_MOUNTS = 200


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _time(value: Any):
    try:
        return parse_timestamp(value)
    except ParseError:
        return None


@guarded("ctr containers info")
def parse_ctr_container_info(text: str, state: str = "unknown") -> ContainerDetails:
    """The container record `ctr containers info` prints; ``state`` comes from `ctr tasks ls`
    (the record itself has none)."""
    text = require_str(text, "ctr containers info")
    try:
        data = json.loads(strip_ansi(text))
    except ValueError as exc:
        raise ParseError(f"ctr containers info: invalid JSON ({exc})", text) from exc
    if not isinstance(data, dict) or not isinstance(data.get("ID"), str):
        raise ParseError("ctr containers info: not a container record (no ID)", text)
    raw_labels = data.get("Labels") or {}
    if not isinstance(raw_labels, dict):
        raise ParseError("ctr containers info: Labels is not an object", text)
    labels = {str(k): str(v) for k, v in list(raw_labels.items())[:500]}
    spec = data.get("Spec") if isinstance(data.get("Spec"), dict) else {}
    mounts: list[Mount] = []
    raw_mounts = spec.get("mounts") if isinstance(spec.get("mounts"), list) else []
    for m in raw_mounts[:MAX_MOUNTS]:
        if isinstance(m, dict) and _str(m.get("destination")):
            options = m.get("options") if isinstance(m.get("options"), list) else []
            mounts.append(Mount(_str(m.get("destination")), _str(m.get("source")), "ro" in options))
    cid = data["ID"]
    return ContainerDetails(
        id=cid, name=labels.get(NAME_LABEL) or (labels.get(POD_LABEL, "") if labels.get(KIND_LABEL) == "sandbox"
                                                  else "") or cid[:13],
        image=_str(data.get("Image")), state=state, source="ctr containers info",
        created=_time(data.get("CreatedAt")), pod=labels.get(POD_LABEL, ""), namespace=labels.get(NAMESPACE_LABEL, ""),
        kind="sandbox" if labels.get(KIND_LABEL) == "sandbox" else "container", labels=labels, mounts=mounts)

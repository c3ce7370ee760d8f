"""`ctr containers info ID`: containerd's container record (JSON) as ContainerDetails."""

from __future__ import annotations

import json
from typing import Any

from backends.k0s.parsers._common import ParseError, guarded, require_str, shared, strip_ansi
from backends.k0s.parsers.cluster import parse_timestamp
from backends.models import ContainerDetails, Mount

#: Labels the CRI plugin puts on the containers it creates.
POD_LABEL = "io.kubernetes.pod.name"
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
NAME_LABEL = "io.kubernetes.container.name"
KIND_LABEL = "io.cri-containerd.kind"  # "sandbox" or "container"
#: OCI spec annotations the CRI plugin writes (also on containers no kubelet labelled).
CRI_NAME = "io.kubernetes.cri.container-name"
CRI_POD = "io.kubernetes.cri.sandbox-name"
CRI_NAMESPACE = "io.kubernetes.cri.sandbox-namespace"
CRI_TYPE = "io.kubernetes.cri.container-type"  # "sandbox" or "container"
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
    raw_labels = data.get("Labels")
    raw_labels = {} if raw_labels is None else raw_labels
    if not isinstance(raw_labels, dict):
        raise ParseError("ctr containers info: Labels is not an object", text)
    labels = {shared(str(k)): shared(str(v)) for k, v in list(raw_labels.items())[:500]}
    spec = data.get("Spec") if isinstance(data.get("Spec"), dict) else {}
    mounts: list[Mount] = []
    raw_mounts = spec.get("mounts") if isinstance(spec.get("mounts"), list) else []
    for m in raw_mounts[:MAX_MOUNTS]:
        if isinstance(m, dict) and _str(m.get("destination")):
            options = m.get("options") if isinstance(m.get("options"), list) else []
            mounts.append(Mount(_str(m.get("destination")), _str(m.get("source")), "ro" in options))
    raw_notes = spec.get("annotations") if isinstance(spec.get("annotations"), dict) else {}
    notes = {str(k): _str(v) for k, v in list(raw_notes.items())[:500]}
    cid = data["ID"]
    sandbox = (labels.get(KIND_LABEL) or notes.get(CRI_TYPE)) == "sandbox"
    pod = labels.get(POD_LABEL) or notes.get(CRI_POD, "")
    name = labels.get(NAME_LABEL) or notes.get(CRI_NAME) or (pod if sandbox else "") or cid[:13]
    return ContainerDetails(
        id=cid, name=name, image=shared(_str(data.get("Image"))), state=state, source="ctr containers info",
        created=_time(data.get("CreatedAt")), pod=pod,
        namespace=labels.get(NAMESPACE_LABEL) or notes.get(CRI_NAMESPACE, ""),
        kind="sandbox" if sandbox else "container", labels=labels, mounts=mounts)

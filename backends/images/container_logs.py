"""Where a container's CRI log file is: CRI ContainerStatus's ``log_path`` when the host's image
backend speaks gRPC, else the kubelet's layout rebuilt from the container's Kubernetes labels."""

from __future__ import annotations

import posixpath
import re

from backends.errors import BackendError
from backends.images.base import ImageBackend
from backends.images.containerd.backend import GrpcImageBackend
from backends.models import Container

#: The kubelet's pod log root (``/var/log/pods/<ns>_<pod>_<uid>/<container>/<restarts>.log``).
POD_LOG_ROOT = "/var/log/pods"
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}")


def kubelet_log_path(labels: dict[str, str], annotations_restart: str = "0") -> str | None:
    """The kubelet's log path for a container from its ``io.kubernetes.*`` labels (None when
    a label is missing or not a plain name: the path must stay under :data:`POD_LOG_ROOT`)."""
    parts = [labels.get(k, "") for k in ("io.kubernetes.pod.namespace", "io.kubernetes.pod.name",
                                          "io.kubernetes.pod.uid", "io.kubernetes.container.name")]
    if not all(_SAFE.fullmatch(p) for p in parts) or not annotations_restart.isdigit():
        return None
    ns, pod, uid, name = parts
    return posixpath.join(POD_LOG_ROOT, f"{ns}_{pod}_{uid}", name, f"{int(annotations_restart)}.log")


async def container_log_path(host: str, backend: ImageBackend, container: Container) -> str:
    """The CRI log file of ``container`` on ``host`` (CRI ContainerStatus on the gRPC path, else
    the kubelet's layout from the container's labels); BackendError when it cannot be known."""
    if isinstance(backend, GrpcImageBackend):
        status = await backend.client.container_status(container.id)
        if status.log_path:
            return status.log_path
    path = kubelet_log_path(container.labels)
    if path is None:
        raise BackendError(host, f"container {container.name}: the runtime reports no log file")
    return path

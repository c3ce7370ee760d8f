"""Pick a node's image backend: containerd's gRPC socket first, `k0s ctr` as fallback."""

from __future__ import annotations

from backends.images.base import ImageBackend
from backends.images.ctr import CtrImageBackend
from backends.k0s.host import K0sHost
from backends.models import Image


async def select_image_backend(host: K0sHost) -> ImageBackend:
    """The image backend for ``host``: containerd's gRPC socket when reachable, else `k0s ctr`.

    The socket (``HostSpec.extra["containerd_socket"]``, default /run/k0s/containerd.sock) is
    reached via ``transport.forward_unix_socket`` and probed with one Version call. On failure
    the returned CtrImageBackend carries ``fallback_reason`` (see :func:`backend_path_label`).
    """
    # Imported on first use: grpc and protobuf cost start-up time a first frame does not need.
    from backends.images.containerd.backend import connect_grpc_backend

    grpc_backend, reason = await connect_grpc_backend(host)
    if grpc_backend is not None:
        return grpc_backend
    ctr = CtrImageBackend(host)
    ctr.fallback_reason = reason  # type: ignore[attr-defined]
    return ctr


def backend_path_label(backend: ImageBackend) -> str:
    """``grpc``, or ``ctr (fallback: <why>)`` when the gRPC path was tried and refused."""
    reason = getattr(backend, "fallback_reason", "")
    return f"{backend.path} (fallback: {reason})" if reason else backend.path


async def list_host_images(host: K0sHost) -> list[Image]:
    """Every image reference on ``host`` through a backend selected for this one call (closed
    after): for one-shot callers such as the headless ``images`` verb."""
    backend = await select_image_backend(host)
    try:
        return await backend.list_images()
    finally:
        await backend.close()

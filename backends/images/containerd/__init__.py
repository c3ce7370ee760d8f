"""containerd through its gRPC API: images, pull progress, labels, CRI containers and sandboxes.

- :mod:`.client` — :class:`ContainerdClient`, async (``grpc.aio``) over a unix socket; every
  call sends ``containerd-namespace: k8s.io``. containerd services: Version, Images, Content;
  CRI (``runtime.v1``, falling back to ``runtime.v1alpha2``): PullImage, ImageFsInfo,
  ListContainers, ListPodSandbox (+ the sandbox/container lifecycle calls tests use).
- :mod:`.backend` — :class:`GrpcImageBackend` (the ``ImageBackend`` protocol, ``path = "grpc"``)
  and :func:`connect_grpc_backend`, used by ``backends.images.select_image_backend``.
- :mod:`.progress` — pull progress from the content store's in-progress ingests.

Protocol definitions: ``protos/*.proto`` are our own minimal subsets (only the services,
messages and fields used; field numbers and package names as upstream, so the wire format and
RPC paths match). The generated ``gen/*_pb2.py`` modules are **committed**, so installing needs
neither protoc nor network. They embed protobuf's runtime version check (the runtime must be
>= the generator's protobuf, same major), hence the ``protobuf`` floor in pyproject.toml equals
the version the pinned ``grpcio-tools`` bundles. Regenerate with ``scripts/gen_protos.sh``.
No ``*_pb2_grpc.py`` stubs are generated: the client binds the RPC paths itself.
"""

from backends.images.containerd.backend import GrpcImageBackend, connect_grpc_backend
from backends.images.containerd.client import K0S_SOCKET, K8S_NAMESPACE, ContainerdClient, FsUsage, VersionInfo
from backends.images.containerd.errors import ContainerdError, ContainerdNotFound, ContainerdUnavailable

__all__ = [
    "K0S_SOCKET",
    "K8S_NAMESPACE",
    "ContainerdClient",
    "ContainerdError",
    "ContainerdNotFound",
    "ContainerdUnavailable",
    "FsUsage",
    "GrpcImageBackend",
    "VersionInfo",
    "connect_grpc_backend",
]

"""Async containerd + CRI client on ``grpc.aio`` over a unix socket.

One channel per socket, opened lazily and reused; every call carries the
``containerd-namespace`` header (k0s: ``k8s.io``). The RPC paths are bound here from the
generated message classes (no generated ``*_pb2_grpc`` stubs). CRI calls go to ``runtime.v1``;
when a runtime answers UNIMPLEMENTED there (containerd < 1.6), the same messages are sent to
``runtime.v1alpha2``, whose wire format is identical for the fields used.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

import grpc
from google.protobuf import empty_pb2, field_mask_pb2

from backends.images.containerd.errors import ContainerdError, ContainerdNotFound, ContainerdUnavailable
from backends.images.containerd.gen import containerd_content_pb2 as content_pb2
from backends.images.containerd.gen import containerd_images_pb2 as images_pb2
from backends.images.containerd.gen import containerd_version_pb2 as version_pb2
from backends.images.containerd.gen import cri_v1_pb2 as cri_pb2

#: k0s's containerd socket and namespace.
K0S_SOCKET = "/run/k0s/containerd.sock"
K8S_NAMESPACE = "k8s.io"

_IMAGES = "/containerd.services.images.v1.Images/"
_CONTENT = "/containerd.services.content.v1.Content/"
_VERSION = "/containerd.services.version.v1.Version/Version"
CRI_VERSIONS = ("runtime.v1", "runtime.v1alpha2")

_CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", 64 << 20),
    ("grpc.enable_http_proxy", 0),  # a unix socket never goes through $http_proxy
)


@dataclass(frozen=True)
class VersionInfo:
    """containerd's own version."""

    version: str
    revision: str


@dataclass(frozen=True)
class CriVersion:
    """What the CRI RuntimeService reports, plus the API package that answered."""

    runtime_name: str
    runtime_version: str
    runtime_api_version: str
    api: str


@dataclass(frozen=True)
class FsUsage:
    """One filesystem of CRI ImageFsInfo."""

    mountpoint: str
    used_bytes: int
    inodes_used: int
    timestamp_ns: int


def _status_name(code: grpc.StatusCode | None) -> str:
    return code.name if code is not None else "UNKNOWN"


class ContainerdClient:
    """containerd's Version/Images/Content services and CRI on one socket.

    ``host`` only names the node in errors. Use as ``async with`` or call :meth:`close`.
    """

    def __init__(self, socket_path: str, *, namespace: str = K8S_NAMESPACE, host: str = "",
                 timeout: float = 15.0) -> None:
        self.socket_path = socket_path
        self.namespace = namespace
        self.host = host or "containerd"
        self.timeout = timeout
        self._channel: grpc.aio.Channel | None = None
        self._metadata = (("containerd-namespace", namespace),)
        self._cri_api: str | None = None  # learnt on first CRI call

    # ------------------------------------------------------------------ plumbing

    @property
    def channel(self) -> grpc.aio.Channel:
        """The (lazily opened) channel; bound to the running event loop."""
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(f"unix:{self.socket_path}", options=_CHANNEL_OPTIONS)
        return self._channel

    async def close(self) -> None:
        """Close the channel (safe to call twice)."""
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()

    async def __aenter__(self) -> "ContainerdClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _error(self, exc: grpc.aio.AioRpcError, what: str) -> ContainerdError:
        code = exc.code()
        detail = (exc.details() or "").strip() or _status_name(code)
        if len(detail) > 600:
            detail = detail[:600] + "…"
        if code == grpc.StatusCode.UNAVAILABLE:
            return ContainerdUnavailable(self.host, f"containerd at {self.socket_path} unavailable ({what}): {detail}",
                                         _status_name(code))
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return ContainerdUnavailable(self.host, f"containerd did not answer {what} in time", _status_name(code))
        if code == grpc.StatusCode.NOT_FOUND:
            return ContainerdNotFound(self.host, f"{what}: {detail}", _status_name(code))
        return ContainerdError(self.host, f"{what} failed: {detail}", _status_name(code))

    async def _unary(self, path: str, request, response_cls, what: str, timeout: float | None = None):
        call = self.channel.unary_unary(path, request_serializer=type(request).SerializeToString,
                                        response_deserializer=response_cls.FromString)
        try:
            return await call(request, metadata=self._metadata,
                              timeout=self.timeout if timeout is None else timeout)
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc, what) from None

    async def _cri(self, service: str, method: str, request, response_cls, what: str,
                   timeout: float | None = None):
        """A CRI call on runtime.v1, falling back once to runtime.v1alpha2 when unimplemented."""
        apis = (self._cri_api,) if self._cri_api else CRI_VERSIONS
        last: ContainerdError | None = None
        for api in apis:
            try:
                resp = await self._unary(f"/{api}.{service}/{method}", request, response_cls, what, timeout)
            except ContainerdError as exc:
                if exc.code == "UNIMPLEMENTED":
                    last = exc
                    continue
                raise
            self._cri_api = api
            return resp
        assert last is not None
        raise ContainerdError(self.host, f"{what}: this containerd serves no known CRI API version "
                                         f"({', '.join(CRI_VERSIONS)})", last.code)

    @property
    def cri_api(self) -> str | None:
        """The CRI API package in use (``runtime.v1`` or ``runtime.v1alpha2``), once known."""
        return self._cri_api

    # ------------------------------------------------------------------ containerd services

    async def version(self, timeout: float | None = None) -> VersionInfo:
        """containerd's version and revision."""
        resp = await self._unary(_VERSION, empty_pb2.Empty(), version_pb2.VersionResponse, "version", timeout)
        return VersionInfo(resp.version, resp.revision)

    async def images_list(self, filters: Iterable[str] = ()) -> list[images_pb2.Image]:
        """All images of the namespace (optionally filtered, containerd filter syntax)."""
        resp = await self._unary(_IMAGES + "List", images_pb2.ListImagesRequest(filters=list(filters)),
                                 images_pb2.ListImagesResponse, "images list")
        return list(resp.images)

    async def image_get(self, name: str) -> images_pb2.Image:
        """One image by its stored name; ContainerdNotFound if absent."""
        resp = await self._unary(_IMAGES + "Get", images_pb2.GetImageRequest(name=name),
                                 images_pb2.GetImageResponse, f"image {name}")
        return resp.image

    async def image_create(self, name: str, target: images_pb2.Descriptor,
                           labels: dict[str, str] | None = None) -> images_pb2.Image:
        """Register ``name`` pointing at ``target`` (a tag, in `ctr images tag` terms)."""
        image = images_pb2.Image(name=name, target=target, labels=labels or {})
        resp = await self._unary(_IMAGES + "Create", images_pb2.CreateImageRequest(image=image),
                                 images_pb2.CreateImageResponse, f"create image {name}")
        return resp.image

    async def image_update_labels(self, name: str, labels: dict[str, str]) -> dict[str, str]:
        """Set ``labels`` on image ``name`` (an empty value removes that label); returns all labels after.

        Only the named label paths are in the field mask, so other labels stay untouched.
        Callers validate keys and values first (backends.images.validate_label).
        """
        image = images_pb2.Image(name=name, labels={k: v for k, v in labels.items() if v})
        mask = field_mask_pb2.FieldMask(paths=[f"labels.{k}" for k in labels])
        resp = await self._unary(_IMAGES + "Update", images_pb2.UpdateImageRequest(image=image, update_mask=mask),
                                 images_pb2.UpdateImageResponse, f"label image {name}")
        return dict(resp.image.labels)

    async def image_delete(self, name: str, *, sync: bool = False) -> None:
        """Delete image ``name`` (``sync``: garbage-collect its content before returning)."""
        await self._unary(_IMAGES + "Delete", images_pb2.DeleteImageRequest(name=name, sync=sync),
                          empty_pb2.Empty, f"remove image {name}")

    async def content_read(self, digest: str, *, max_bytes: int = 4 << 20) -> bytes:
        """The bytes of a (small) committed blob: manifests, indexes, configs."""
        call = self.channel.unary_stream(_CONTENT + "Read",
                                         request_serializer=content_pb2.ReadContentRequest.SerializeToString,
                                         response_deserializer=content_pb2.ReadContentResponse.FromString)
        chunks: list[bytes] = []
        size = 0
        try:
            async for part in call(content_pb2.ReadContentRequest(digest=digest), metadata=self._metadata,
                                   timeout=self.timeout):
                chunks.append(part.data)
                size += len(part.data)
                if size > max_bytes:
                    raise ContainerdError(self.host, f"blob {digest} is larger than {max_bytes} bytes")
        except grpc.aio.AioRpcError as exc:
            raise self._error(exc, f"read {digest}") from None
        return b"".join(chunks)

    async def content_statuses(self) -> list[content_pb2.Status]:
        """In-progress ingests (downloads being written into the content store)."""
        resp = await self._unary(_CONTENT + "ListStatuses", content_pb2.ListStatusesRequest(),
                                 content_pb2.ListStatusesResponse, "content statuses")
        return list(resp.statuses)

    # ------------------------------------------------------------------ CRI

    async def cri_version(self) -> CriVersion:
        """CRI RuntimeService.Version (also tells which CRI API package answers)."""
        resp = await self._cri("RuntimeService", "Version", cri_pb2.VersionRequest(version="v1"),
                               cri_pb2.VersionResponse, "CRI version")
        return CriVersion(resp.runtime_name, resp.runtime_version, resp.runtime_api_version, self._cri_api or "")

    async def pull_image(self, ref: str, *, timeout: float | None = 900.0) -> str:
        """CRI ImageService.PullImage; returns the image id containerd reports."""
        req = cri_pb2.PullImageRequest(image=cri_pb2.ImageSpec(image=ref))
        resp = await self._cri("ImageService", "PullImage", req, cri_pb2.PullImageResponse, f"pull {ref}",
                               timeout=timeout)
        return resp.image_ref

    async def list_containers(self) -> list[cri_pb2.Container]:
        """CRI ListContainers (all states)."""
        resp = await self._cri("RuntimeService", "ListContainers", cri_pb2.ListContainersRequest(),
                               cri_pb2.ListContainersResponse, "list containers")
        return list(resp.containers)

    async def container_status(self, container_id: str) -> cri_pb2.ContainerStatus:
        """CRI ContainerStatus of one container (NotFound for an unknown id or a sandbox)."""
        resp = await self._cri("RuntimeService", "ContainerStatus",
                               cri_pb2.ContainerStatusRequest(container_id=container_id),
                               cri_pb2.ContainerStatusResponse, f"container status {container_id[:13]}")
        return resp.status

    async def list_sandboxes(self) -> list[cri_pb2.PodSandbox]:
        """CRI ListPodSandbox (all states)."""
        resp = await self._cri("RuntimeService", "ListPodSandbox", cri_pb2.ListPodSandboxRequest(),
                               cri_pb2.ListPodSandboxResponse, "list pod sandboxes")
        return list(resp.items)

    async def image_fs_info(self) -> list[FsUsage]:
        """CRI ImageFsInfo: the filesystems holding images and their usage."""
        resp = await self._cri("ImageService", "ImageFsInfo", cri_pb2.ImageFsInfoRequest(),
                               cri_pb2.ImageFsInfoResponse, "image filesystem info")
        return [FsUsage(fs.fs_id.mountpoint, fs.used_bytes.value, fs.inodes_used.value, fs.timestamp)
                for fs in resp.image_filesystems]

    async def run_pod_sandbox(self, config: cri_pb2.PodSandboxConfig, *, timeout: float = 120.0) -> str:
        """CRI RunPodSandbox; returns the sandbox id."""
        resp = await self._cri("RuntimeService", "RunPodSandbox", cri_pb2.RunPodSandboxRequest(config=config),
                               cri_pb2.RunPodSandboxResponse, "run pod sandbox", timeout)
        return resp.pod_sandbox_id

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """CRI StopPodSandbox."""
        await self._cri("RuntimeService", "StopPodSandbox", cri_pb2.StopPodSandboxRequest(pod_sandbox_id=sandbox_id),
                        cri_pb2.StopPodSandboxResponse, "stop pod sandbox", 60.0)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        """CRI RemovePodSandbox."""
        await self._cri("RuntimeService", "RemovePodSandbox",
                        cri_pb2.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id),
                        cri_pb2.RemovePodSandboxResponse, "remove pod sandbox", 60.0)

    async def create_container(self, sandbox_id: str, config: cri_pb2.ContainerConfig,
                               sandbox_config: cri_pb2.PodSandboxConfig) -> str:
        """CRI CreateContainer; returns the container id."""
        req = cri_pb2.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=config, sandbox_config=sandbox_config)
        resp = await self._cri("RuntimeService", "CreateContainer", req, cri_pb2.CreateContainerResponse,
                               "create container", 60.0)
        return resp.container_id

    async def start_container(self, container_id: str) -> None:
        """CRI StartContainer."""
        await self._cri("RuntimeService", "StartContainer", cri_pb2.StartContainerRequest(container_id=container_id),
                        cri_pb2.StartContainerResponse, "start container", 60.0)

    async def stop_container(self, container_id: str, timeout: int = 0) -> None:
        """CRI StopContainer (``timeout`` seconds of grace, 0 = kill)."""
        await self._cri("RuntimeService", "StopContainer",
                        cri_pb2.StopContainerRequest(container_id=container_id, timeout=timeout),
                        cri_pb2.StopContainerResponse, "stop container", 60.0)

    async def remove_container(self, container_id: str) -> None:
        """CRI RemoveContainer."""
        await self._cri("RuntimeService", "RemoveContainer",
                        cri_pb2.RemoveContainerRequest(container_id=container_id),
                        cri_pb2.RemoveContainerResponse, "remove container", 60.0)


async def probe(socket_path: str, *, host: str = "", timeout: float = 3.0) -> VersionInfo:
    """One quick Version call on a fresh channel (closed afterwards); raises ContainerdError."""
    client = ContainerdClient(socket_path, host=host)
    try:
        return await asyncio.wait_for(client.version(timeout=timeout), timeout + 1)
    except TimeoutError:
        raise ContainerdUnavailable(client.host, f"containerd at {socket_path} did not answer in {timeout:g}s") from None
    finally:
        await client.close()

"""The gRPC image backend (``path = "grpc"``) and the probe that decides whether a host can use it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from backends.images.containerd import manifests
from backends.images.containerd.client import K0S_SOCKET, ContainerdClient, FsUsage, probe
from backends.images.containerd.errors import ContainerdError, ContainerdNotFound, ContainerdUnavailable
from backends.images.containerd.progress import IngestTracker
from backends.images.containerd.refs import normalize_ref
from backends.errors import BackendError, ValidationError
from backends.images.refs import validate_image_ref, validate_label
from backends.models import Container, ContainerDetails, Image, Mount, PullProgress
from backends.k0s.host import K0sHost


#: HostSpec.extra key overriding the containerd socket path on the host.
SOCKET_KEY = "containerd_socket"
#: Platform whose manifest counts for an image's size (as `ctr images ls` on amd64 nodes).
DEFAULT_PLATFORM = "linux/amd64"
_CRI_STATES = {0: "created", 1: "running", 2: "exited", 3: "unknown"}
_SANDBOX_STATES = {0: "ready", 1: "notready"}


def _ts(ts) -> datetime | None:
    if not ts.seconds and not ts.nanos:
        return None
    return datetime.fromtimestamp(ts.seconds + ts.nanos / 1e9, tz=timezone.utc)


def _ns(value: int) -> datetime | None:
    return datetime.fromtimestamp(value / 1e9, tz=timezone.utc) if value > 0 else None


class GrpcImageBackend:
    """Images and containers through containerd's socket (the ImageBackend protocol).

    ``socket`` is the local path (a forwarded socket over SSH), ``remote_socket`` the path on
    the host, for display.
    """

    path = "grpc"

    def __init__(self, client: ContainerdClient, *, host: str = "",
                 remote_socket: str = "", poll_interval: float = 0.1,
                 reforward: Callable[[], Awaitable[str]] | None = None) -> None:
        self.client = client
        # over SSH a reconnect gives a new forwarded socket: re-ask for it once on UNAVAILABLE
        self._reforward = reforward
        self.host = host or client.host
        self.remote_socket = remote_socket or client.socket_path
        self.poll_interval = poll_interval
        self.fallback_reason = ""
        # digest -> (size, platforms): blobs are immutable, so this never goes stale
        self._sizes: dict[str, tuple[int, list[str]]] = {}

    @property
    def socket(self) -> str:
        return self.client.socket_path

    async def close(self) -> None:
        """Close the gRPC channel."""
        await self.client.close()

    async def _call(self, op: Callable[[ContainerdClient], Awaitable]):
        """Run ``op(client)``; when the socket went away and a re-forward yields a new one, retry once."""
        try:
            return await op(self.client)
        except ContainerdUnavailable:
            if self._reforward is None:
                raise
            try:
                path = await self._reforward()
            except (BackendError, OSError):
                raise ContainerdUnavailable(self.host, f"containerd socket {self.remote_socket} is gone "
                                                       "and could not be forwarded again") from None
            if path == self.client.socket_path:
                raise
            old = self.client
            self.client = ContainerdClient(path, namespace=old.namespace, host=old.host, timeout=old.timeout)
            await old.close()
            return await op(self.client)

    # ------------------------------------------------------------------ reads

    async def version(self) -> str:
        """containerd's version (``1.6.20~ds1``, ``v2.0.5`` …)."""
        return (await self._call(lambda c: c.version())).version

    async def _json_blob(self, digest: str) -> bytes | None:
        try:
            return await self.client.content_read(digest, max_bytes=4 << 20)
        except ContainerdNotFound:
            return None

    async def _size_and_platforms(self, target) -> tuple[int, list[str]]:
        """Bytes of the image for DEFAULT_PLATFORM (index + manifest + config + layers) and its platforms."""
        cached = self._sizes.get(target.digest)
        if cached is not None:
            return cached
        size, platforms, complete = target.size, [], False
        try:
            manifest_desc, manifest_size = target.digest, 0
            if target.media_type in manifests.INDEX_TYPES:
                data = await self._json_blob(target.digest)
                if data is not None:
                    entries = manifests.parse_index(data)
                    platforms = sorted({e.platform for e in entries if e.platform})
                    chosen = manifests.pick_platform(entries, DEFAULT_PLATFORM)
                    manifest_desc = chosen.digest if chosen else ""
                    manifest_size = chosen.size if chosen else 0
                    size += manifest_size
            if target.media_type in manifests.MANIFEST_TYPES or manifest_size:
                data = await self._json_blob(manifest_desc) if manifest_desc else None
                if data is not None:
                    info = manifests.parse_manifest(data)
                    size += sum(b.size for b in info.layers) + (info.config.size if info.config else 0)
                    complete = True
                    if not platforms and info.config is not None:
                        cfg = await self._json_blob(info.config.digest)
                        if cfg is not None:
                            plat = manifests.parse_config_platform(cfg)
                            platforms = [plat] if plat else []
        except ValueError:
            complete = False  # unreadable JSON: show the target's own size
        if complete:
            self._sizes[target.digest] = (size, platforms)
        return size, platforms

    async def list_images(self) -> list[Image]:
        """Every image of the k8s.io namespace, with size and platforms from its manifests."""
        records = await self._call(lambda c: c.images_list())
        # one content read per digest not seen before (many names share a digest)
        missing = {r.target.digest: r.target for r in records if r.target.digest not in self._sizes}
        found: dict[str, tuple[int, list[str]]] = {}
        if missing:
            sem = asyncio.Semaphore(16)

            async def measure(target) -> None:
                async with sem:
                    found[target.digest] = await self._size_and_platforms(target)

            await asyncio.gather(*(measure(t) for t in missing.values()))
        out = []
        for rec in records:
            target = rec.target
            size, platforms = self._sizes.get(target.digest) or found.get(target.digest) or (target.size, [])
            out.append(Image(ref=rec.name, media_type=target.media_type, digest=target.digest, size_bytes=size,
                             platforms=tuple(platforms), labels=dict(rec.labels), created=_ts(rec.created_at)))
        return out

    async def containers(self) -> list[Container]:
        """CRI containers and pod sandboxes (``kind`` tells them apart), sandboxes first."""
        sandboxes, containers = await self._call(
            lambda c: asyncio.gather(c.list_sandboxes(), c.list_containers()))
        pods = {s.id: s for s in sandboxes}
        out = [Container(id=s.id, name=s.metadata.name, image="", state=_SANDBOX_STATES.get(s.state, "unknown"),
                         pod=s.metadata.name, namespace=s.metadata.namespace, created=_ns(s.created_at),
                         labels=dict(s.labels), kind="sandbox")
               for s in sandboxes]
        for c in containers:
            pod = pods.get(c.pod_sandbox_id)
            image = c.image.image
            if image.startswith("sha256:") and c.image_ref:
                image = c.image_ref
            out.append(Container(id=c.id, name=c.metadata.name, image=image,
                                 state=_CRI_STATES.get(c.state, "unknown"),
                                 pod=pod.metadata.name if pod else "", namespace=pod.metadata.namespace if pod else "",
                                 created=_ns(c.created_at), labels=dict(c.labels), kind="container"))
        return out

    async def container_details(self, container_id: str) -> ContainerDetails:
        """CRI ContainerStatus of a container; a pod sandbox (which has no container status)
        is described from the sandbox list."""
        try:
            st = await self._call(lambda c: c.container_status(container_id))
        except ContainerdNotFound:
            sandbox = next((c for c in await self.containers() if c.id == container_id), None)
            if sandbox is None:
                raise
            return ContainerDetails(id=sandbox.id, name=sandbox.name, image=sandbox.image, state=sandbox.state,
                                    source="CRI ListPodSandbox", created=sandbox.created, pod=sandbox.pod,
                                    namespace=sandbox.namespace, kind=sandbox.kind, labels=dict(sandbox.labels))
        labels = dict(st.labels)
        pod, namespace = labels.get("io.kubernetes.pod.name", ""), labels.get("io.kubernetes.pod.namespace", "")
        if not pod:  # not created by a kubelet: the sandbox list knows the pod
            row = next((c for c in await self.containers() if c.id == container_id), None)
            if row is not None:
                pod, namespace = row.pod, row.namespace
        restarts = dict(st.annotations).get("io.kubernetes.container.restartCount")
        state = _CRI_STATES.get(st.state, "unknown")
        return ContainerDetails(
            id=st.id, name=st.metadata.name, image=st.image.image, image_ref=st.image_ref, state=state,
            source="CRI ContainerStatus", created=_ns(st.created_at), started=_ns(st.started_at),
            finished=_ns(st.finished_at), exit_code=st.exit_code if state == "exited" else None,
            restart_count=int(restarts) if restarts and restarts.isdigit() else st.metadata.attempt,
            pod=pod, namespace=namespace, reason=st.reason, message=st.message, labels=labels,
            mounts=[Mount(m.container_path, m.host_path, m.readonly) for m in st.mounts])

    async def image_fs_usage(self) -> list[FsUsage]:
        """CRI ImageFsInfo: where images live and how much they use."""
        return await self._call(lambda c: c.image_fs_info())

    # ------------------------------------------------------------------ mutations

    async def pull(self, ref: str, progress: Callable[[PullProgress], None] | None = None) -> None:
        """Pull through CRI PullImage, reporting per-blob progress from the content store's ingests."""
        validate_image_ref(ref)
        # also re-forwards a stale socket before the long call
        before = await self._call(lambda c: c.content_statuses())
        # ingests already running belong to other pulls (refs, not clocks: the host's may differ)
        tracker = IngestTracker(ref, ignore={st.ref for st in before})
        task = asyncio.ensure_future(self.client.pull_image(ref))
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.poll_interval)
                if progress is not None:
                    try:
                        update = tracker.update(await self.client.content_statuses())
                    except ContainerdError:
                        update = None  # progress is a hint; the pull's own result decides
                    if update is not None:
                        progress(update)
                if done:
                    break
            task.result()
        finally:
            if not task.done():
                task.cancel()
        if progress is not None:
            progress(tracker.finish(await self._blob_sizes(ref)))

    async def _blob_sizes(self, ref: str) -> dict[str, int]:
        """digest -> size of the pulled image's manifest, config and layers (best effort)."""
        try:
            image = await self.client.image_get(normalize_ref(ref))
        except ContainerdError:
            return {}
        target = image.target
        blobs = {target.digest: target.size}
        try:
            digest = target.digest
            if target.media_type in manifests.INDEX_TYPES:
                data = await self._json_blob(digest)
                chosen = manifests.pick_platform(manifests.parse_index(data or b"{}"), DEFAULT_PLATFORM)
                if chosen is None:
                    return blobs
                blobs[chosen.digest] = chosen.size
                digest = chosen.digest
            data = await self._json_blob(digest)
            if data is not None:
                info = manifests.parse_manifest(data)
                for blob in ([info.config] if info.config else []) + info.layers:
                    blobs[blob.digest] = blob.size
        except (ValueError, ContainerdError):
            pass
        return blobs

    async def label(self, ref: str, labels: dict[str, str]) -> dict[str, str]:
        """Set labels (empty value removes one); every key/value validated before anything is sent."""
        validate_image_ref(ref)
        if not labels:
            raise ValidationError("no labels given")
        for key, value in labels.items():
            validate_label(key, value)
        return await self._call(lambda c: c.image_update_labels(ref, labels))

    async def remove(self, ref: str) -> None:
        """Delete the image record ``ref`` (content is garbage-collected by containerd)."""
        validate_image_ref(ref)
        await self._call(lambda c: c.image_delete(ref))


async def connect_grpc_backend(host: K0sHost, *, timeout: float = 3.0) -> tuple[GrpcImageBackend | None, str]:
    """Try containerd's socket on ``host``: (backend, "") when a Version call answers, else (None, why).

    The socket (``HostSpec.extra["containerd_socket"]`` or k0s's default) is reached through
    ``transport.forward_unix_socket`` — the path itself locally, a forwarded socket over SSH.
    """
    remote = host.spec.extra.get(SOCKET_KEY) or K0S_SOCKET
    if not host.transport.info.sockets:
        return None, ""  # no sockets on such a host (the demo): plain ctr, not a "fallback"
    try:
        local = await host.transport.forward_unix_socket(remote)
    except BackendError as exc:
        return None, f"forwarding {remote} refused: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - any transport failure means: use ctr
        return None, f"cannot reach {remote}: {exc}"
    if not local:
        return None, f"no socket forwarding to {remote}"
    if not os.path.exists(local):
        return None, f"no containerd socket at {remote}"
    if not os.access(local, os.R_OK | os.W_OK):
        return None, f"permission denied on {remote}"
    try:
        await probe(local, host=host.name, timeout=timeout)
    except ContainerdError as exc:
        if local != remote and exc.code == "UNAVAILABLE":
            # over SSH a refused remote open shows up as a channel closed at once
            return None, f"{remote} not reachable through SSH (the login user may lack access to it)"
        return None, exc.message
    client = ContainerdClient(local, host=host.name)
    reforward = None
    if local != remote:
        async def reforward() -> str:
            return await host.transport.forward_unix_socket(remote)
    return GrpcImageBackend(client, host=host.name, remote_socket=remote,
                            reforward=reforward), ""

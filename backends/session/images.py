"""Images and containers per host: one image backend per host (gRPC first, `k0s ctr` as
fallback), fleet-wide listing as hosts answer, and pull / label / remove through the gate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from backends.errors import BackendError
from backends.images.base import ImageBackend
from backends.images.refs import validate_image_ref, validate_label
from backends.images.usage import RemovalPlan, plan_removal
from backends.images.select import backend_path_label, select_image_backend
from backends.k0s.parsers import group_images
from backends.models import Container, ContainerDetails, Image, ImageGroup, PullProgress
from backends.session.core import HostResult, SessionCore


@dataclass
class HostImages:
    """The Containers pane's data for one host."""

    host: str
    path: str  # "grpc", "ctr", or "ctr (fallback: <why gRPC was refused>)"
    groups: list[ImageGroup]
    containers: list[Container]
    at: datetime
    containers_error: str = ""


class ImagesService:
    """Image backends per host (selected once), listings and gated image changes."""

    def __init__(self, core: SessionCore) -> None:
        self.core = core
        self._backends: dict[str, ImageBackend] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._busy: set[str] = set()
        self._latest: dict[str, HostImages] = {}

    async def backend(self, name: str) -> ImageBackend:
        """The image backend of host ``name`` (selected on first use, then kept)."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name not in self._backends:
                self._backends[name] = await select_image_backend(self.core.hosts[name])
            return self._backends[name]

    async def list_images(self, name: str) -> list[Image]:
        """Every image reference in k0s's containerd on ``name`` (namespace k8s.io)."""
        return await (await self.backend(name)).list_images()

    async def containers(self, name: str) -> list[Container]:
        """Containers and pod sandboxes on ``name``."""
        return await (await self.backend(name)).containers()

    async def container_details(self, name: str, container_id: str) -> ContainerDetails:
        """One container's runtime status on ``name`` (CRI ContainerStatus, or `ctr containers info`)."""
        return await (await self.backend(name)).container_details(container_id)

    def latest(self, name: str) -> HostImages | None:
        """What the last listing of ``name`` returned (None before one)."""
        return self._latest.get(name)

    async def host_images(self, name: str) -> HostImages:
        """Images (grouped by digest) and containers of one host, with the image path in use."""
        backend = await self.backend(name)
        images = await backend.list_images()
        containers: list[Container] = []
        cerr = ""
        try:
            containers = await backend.containers()
        except BackendError as exc:
            cerr = exc.message
        data = HostImages(host=name, path=backend_path_label(backend), groups=list(group_images(images)),
                          containers=containers, at=self.core.clock(), containers_error=cerr)
        self._latest[name] = data
        return data

    async def stream(self, names: Iterable[str] | None = None
                     ) -> AsyncIterator[tuple[str, HostImages | BackendError]]:
        """(host, images or typed error) as hosts answer, at most ``fleet_limit`` at a time.
        Hosts whose previous listing is still running are skipped."""
        async for outcome in self.core.stream_idle(self._busy, names, lambda h: self.host_images(h.name)):
            if outcome.ok and outcome.value is not None:
                yield outcome.host, outcome.value
            else:
                yield outcome.host, outcome.error or BackendError(outcome.host, "no answer")

    # ------------------------------------------------------------------ changes (gated)

    async def pull(self, names: Sequence[str], ref: str,
                   progress: Callable[[str, PullProgress], None] | None = None) -> list[HostResult]:
        """Pull ``ref`` on every host of ``names`` at once; ``progress(host, update)`` as it goes."""
        validate_image_ref(ref)

        def cb(name: str) -> Callable[[PullProgress], None] | None:
            return None if progress is None else (lambda p: progress(name, p))

        async with self.core.mutation("pull image", names, {"image": ref}) as m:
            return m.results(await self.core.on_hosts(
                list(names), lambda h: self._pull_one(h.name, ref, cb(h.name))))

    async def _pull_one(self, name: str, ref: str, progress: Callable[[PullProgress], None] | None) -> None:
        await (await self.backend(name)).pull(ref, progress)

    async def label(self, name: str, ref: str, labels: dict[str, str]) -> dict[str, str]:
        """Set labels on ``ref`` on one host (validated first; an empty value removes a label);
        returns the image's labels after."""
        validate_image_ref(ref)
        for k, v in labels.items():
            validate_label(k, v)
        details: dict[str, object] = {"image": ref, **{f"label:{k}": v for k, v in labels.items()}}
        async with self.core.mutation("label image", [name], details):
            return await (await self.backend(name)).label(ref, labels)

    async def remove(self, names: Sequence[str], ref: str) -> list[HostResult]:
        """Remove ``ref`` from every host of ``names``."""
        validate_image_ref(ref)
        async with self.core.mutation("remove image", names, {"image": ref}) as m:
            return m.results(await self.core.on_hosts(
                list(names), lambda h: self._remove_one(h.name, ref)))

    async def _remove_one(self, name: str, ref: str) -> None:
        await (await self.backend(name)).remove(ref)

    async def removal_plan(self, name: str, digest: str) -> RemovalPlan:
        """What removing image ``digest`` from ``name`` would remove (every ref) and touch
        (containers using it; live pod sandboxes when it is the pause image); read only."""
        backend = await self.backend(name)
        images = await backend.list_images()
        try:
            containers = await backend.containers()
        except BackendError:
            containers = []  # no container listing: nothing known to warn about
        return plan_removal(name, digest, images, containers)

    async def remove_digest(self, name: str, digest: str, *, confirm_pause: str = "") -> RemovalPlan:
        """Remove every ref of image ``digest`` from ``name`` through the gate (audited with the
        refs and the containers using it). The pause image of live pod sandboxes is refused
        unless ``confirm_pause`` is its name (what the user typed). Returns the plan carried out."""
        if self.core.readonly:  # refused (and the refusal audited) before any I/O
            async with self.core.mutation("remove image", [name], {"digest": digest}):
                pass
        plan = await self.removal_plan(name, digest)
        if not plan.refs:
            raise BackendError(name, f"no image with digest {digest} on {name}")
        if plan.sandboxes and confirm_pause != plan.pause_name:
            raise BackendError(name, f"{plan.pause_name} is the pause image of {len(plan.sandboxes)} running pod "
                                     f"sandbox(es) on {name}: refused (type its name to confirm)")
        details: dict[str, object] = {"digest": digest, "refs": ", ".join(plan.refs),
                                      "in_use_by": ", ".join(c.name for c in plan.users)}
        if plan.sandboxes:
            details["pause_sandboxes"] = len(plan.sandboxes)
            details["confirmed_pause"] = confirm_pause
        async with self.core.mutation("remove image", [name], details):
            backend = await self.backend(name)
            for ref in plan.refs:
                await backend.remove(ref)
        return plan

    async def close(self) -> None:
        """Close the backends' channels (gRPC); errors ignored: we are leaving."""
        backends, self._backends = list(self._backends.values()), {}
        for backend in backends:
            try:
                await backend.close()
            except Exception:  # noqa: BLE001 - closing must not stop the others
                pass

"""The image backend protocol: what the Containers pane needs from one node's containerd."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from backends.models import Container, Image, PullProgress


@runtime_checkable
class ImageBackend(Protocol):
    """Image and container operations on one node."""

    #: "grpc" or "ctr".
    path: str

    async def list_images(self) -> list[Image]: ...
    async def pull(self, ref: str, progress: Callable[[PullProgress], None] | None = None) -> None: ...
    async def label(self, ref: str, labels: dict[str, str]) -> dict[str, str]: ...
    async def remove(self, ref: str) -> None: ...
    async def containers(self) -> list[Container]: ...
    async def version(self) -> str: ...
    async def close(self) -> None: ...

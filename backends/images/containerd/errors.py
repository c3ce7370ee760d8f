"""Errors of the containerd gRPC client (all :class:`~backends.errors.BackendError`)."""

from __future__ import annotations

from backends.errors import BackendError


class ContainerdError(BackendError):
    """A containerd/CRI call failed; ``code`` is the gRPC status name (``UNKNOWN``, …)."""

    kind = "containerd"

    def __init__(self, host: str, message: str, code: str = "") -> None:
        super().__init__(host, message)
        self.code = code


class ContainerdUnavailable(ContainerdError):
    """The socket is missing, refused, or containerd did not answer in time."""

    kind = "containerd-unavailable"


class ContainerdNotFound(ContainerdError):
    """The named image (or content) does not exist."""

    kind = "not-found"

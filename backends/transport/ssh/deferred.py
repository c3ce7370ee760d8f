"""An SSH transport that builds its :class:`~backends.transport.ssh.transport.SSHTransport` on
first use.

Importing asyncssh (and cryptography under it) takes ~0.2 s, and a session is built before the
console's first frame: with this stand-in the import happens when a host is first contacted
(the first refresh, just after that frame), not when the inventory is read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backends.hosts.spec import HostSpec
from backends.transport.base import (
    DEFAULT_TIMEOUT,
    CommandResult,
    ProgressCallback,
    StreamResult,
    Transport,
    TransportInfo,
)
from backends.transport.ssh.settings import SSHSettings

if TYPE_CHECKING:  # the annotation only: the module is imported on first use (the point)
    from backends.transport.ssh.transport import SSHTransport


class DeferredSSHTransport(Transport):
    """The SSH transport of one host, created (asyncssh imported) by the first command.

    Everything else of the real transport (``connect``, ``connect_count``, ``idle`` …) is
    reached through it as well; ``connected`` and ``close`` do not build it.
    """

    def __init__(self, spec: HostSpec, settings: SSHSettings) -> None:
        if spec.ssh is None:
            raise ValueError(f"{spec.name}: HostSpec has no ssh target")
        self.spec = spec
        self.host = spec.name
        self.settings = settings
        self._real: SSHTransport | None = None

    @property
    def real(self) -> "SSHTransport":
        """The SSH transport (built now if this is its first use)."""
        if self._real is None:
            from backends.transport.ssh.transport import SSHTransport

            self._real = SSHTransport(self.spec, self.settings)
        return self._real

    def __getattr__(self, name: str) -> Any:
        # Only for names this class lacks; private ones are not forwarded.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real, name)

    @property
    def info(self) -> TransportInfo:
        return self.real.info

    @property
    def connected(self) -> bool:
        """True while a connection is open (never before the first command)."""
        return self._real is not None and self._real.connected

    async def run(self, argv: Sequence[str], *, input: bytes | None = None,
                  timeout: float | None = DEFAULT_TIMEOUT, sudo: bool = False) -> CommandResult:
        return await self.real.run(argv, input=input, timeout=timeout, sudo=sudo)

    async def run_streaming(self, argv: Sequence[str], on_line: Callable[[str], None], *,
                            timeout: float | None = None, sudo: bool = False) -> CommandResult:
        return await self.real.run_streaming(argv, on_line, timeout=timeout, sudo=sudo)

    async def stream_chunks(self, argv: Sequence[str], on_block: Callable[[bytes], None], *,
                            sudo: bool = False) -> CommandResult:
        return await self.real.stream_chunks(argv, on_block, sudo=sudo)

    async def stream_stdout_to_file(self, argv: Sequence[str], dest: Path, *, timeout: float | None = None,
                                    sudo: bool = False, progress: ProgressCallback | None = None) -> StreamResult:
        return await self.real.stream_stdout_to_file(argv, dest, timeout=timeout, sudo=sudo, progress=progress)

    async def stream_stdin_from_file(self, argv: Sequence[str], src: Path, *, timeout: float | None = None,
                                     sudo: bool = False, progress: ProgressCallback | None = None) -> StreamResult:
        return await self.real.stream_stdin_from_file(argv, src, timeout=timeout, sudo=sudo, progress=progress)

    async def read_file(self, path: str, *, sudo: bool = False, max_bytes: int = 4 << 20) -> bytes:
        return await self.real.read_file(path, sudo=sudo, max_bytes=max_bytes)

    async def write_file_atomic(self, path: str, data: bytes, *, sudo: bool = False,
                                mode: int | None = None) -> None:
        await self.real.write_file_atomic(path, data, sudo=sudo, mode=mode)

    async def forward_unix_socket(self, remote_path: str) -> str:
        return await self.real.forward_unix_socket(remote_path)

    async def close(self) -> None:
        if self._real is not None:  # never used: nothing was opened (nor imported)
            await self._real.close()

"""What the local and the SSH transport share: both run a process per command and feed its
output to a sink, so the streaming methods are written once here over their ``_execute``."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from pathlib import Path

from backends.errors import BackendError
from backends.transport.base import CommandResult, ProgressCallback, StreamResult, Transport
from backends.transport.streamio import MAX_CAPTURE, BoundedBuffer, ChunkBatcher, LineSplitter, progress_sink

#: stdout kept of a command whose stdin is streamed from a file (its output is a log line or two).
STDIN_STREAM_CAPTURE = 1 << 20


class ProcessTransport(Transport):
    """A transport whose commands are processes: subclasses say how an argv becomes the
    command line (``_argv``: sudo) and how it runs (``_execute``)."""

    @abc.abstractmethod
    def _argv(self, argv: Sequence[str], sudo: bool) -> list[str]:
        """The command line that runs ``argv`` (with ``sudo -n`` when asked and needed)."""

    @abc.abstractmethod
    async def _execute(
        self,
        argv: list[str],
        on_stdout: Callable[[bytes], None],
        *,
        timeout: float | None,
        input: bytes | None = None,
        src: Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> tuple[int | None, bytes, int, int, float]:
        """Run ``argv``: stdout chunks to ``on_stdout``, stdin from ``input`` or the file ``src``.
        Returns (exit status, stderr, stdout bytes, stdin bytes, seconds)."""

    async def run_streaming(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], None],
        *,
        timeout: float | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        out = BoundedBuffer(MAX_CAPTURE)
        lines = LineSplitter(on_line)

        def sink(chunk: bytes) -> None:
            out(chunk)
            lines.feed(chunk)

        status, err, _, _, took = await self._execute(self._argv(argv, sudo), sink, timeout=timeout)
        lines.close()
        return CommandResult(self.host, tuple(argv), status, out.getvalue(), err, took)

    async def stream_chunks(
        self,
        argv: Sequence[str],
        on_block: Callable[[bytes], None],
        *,
        sudo: bool = False,
    ) -> CommandResult:
        blocks = ChunkBatcher(on_block)
        status, err, _, _, took = await self._execute(self._argv(argv, sudo), blocks.feed, timeout=None)
        blocks.close()
        return CommandResult(self.host, tuple(argv), status, b"", err, took)

    async def stream_stdout_to_file(
        self,
        argv: Sequence[str],
        dest: Path,
        *,
        timeout: float | None = None,
        sudo: bool = False,
        progress: ProgressCallback | None = None,
    ) -> StreamResult:
        with Path(dest).open("wb") as fh:
            status, err, n, _, took = await self._execute(
                self._argv(argv, sudo), progress_sink(fh, progress), timeout=timeout
            )
        return StreamResult(self.host, tuple(argv), status, n, err, took)

    async def stream_stdin_from_file(
        self,
        argv: Sequence[str],
        src: Path,
        *,
        timeout: float | None = None,
        sudo: bool = False,
        progress: ProgressCallback | None = None,
    ) -> StreamResult:
        src = Path(src)
        if not src.is_file():
            raise FileNotFoundError(str(src))
        status, err, _, n, took = await self._execute(
            self._argv(argv, sudo), BoundedBuffer(STDIN_STREAM_CAPTURE), timeout=timeout, src=src,
            progress=progress
        )
        return StreamResult(self.host, tuple(argv), status, n, err, took)

def check_cat_result(host: str, path: str, result: CommandResult, max_bytes: int) -> bytes:
    """Turn the result of ``cat -- path`` into the file's bytes or the matching exception."""
    if result.ok:
        if len(result.stdout) > max_bytes:
            raise BackendError(host, f"{path} is larger than {max_bytes} bytes; not read")
        return result.stdout
    err = result.stderr_text.strip()
    if "No such file" in err:
        raise FileNotFoundError(f"{host}: {path}")
    if "Permission denied" in err:
        raise PermissionError(f"{host}: {path}: permission denied")
    if "Is a directory" in err:
        raise IsADirectoryError(f"{host}: {path}")
    raise BackendError(host, f"cannot read {path}: {err or f'exit {result.exit_status}'}")

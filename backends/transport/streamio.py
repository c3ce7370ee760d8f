"""Byte pumps shared by the local and SSH transports.

A running command is seen through :class:`ProcessIO` (read stdout/stderr, write/close stdin,
wait for the exit status), so the chunked copy, the progress callbacks and the line splitting
are written once for asyncio subprocesses and asyncssh processes alike.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from backends.transport.base import ProgressCallback

#: Size of one read/write when copying a stream.
CHUNK = 256 * 1024
#: stdout kept in memory by ``run``/``run_streaming`` at most. A host printing more (a broken
#: k0s spewing 50 MB) is drained without holding it: callers parse the first MAX_CAPTURE
#: bytes and fail on them. Big data goes through ``stream_stdout_to_file``.
MAX_CAPTURE = 8 << 20
#: stderr kept in memory at most (the rest is dropped; stderr is for messages, not data).
STDERR_LIMIT = 1 << 20

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass
class ProcessIO:
    """The four ends of a running command, whatever runs it."""

    read_stdout: Callable[[int], Awaitable[bytes]]
    read_stderr: Callable[[int], Awaitable[bytes]]
    write_stdin: Callable[[bytes], Awaitable[None]]  # write + drain
    close_stdin: Callable[[], Awaitable[None]]
    wait: Callable[[], Awaitable[int | None]]


class LineSplitter:
    """Feed it byte chunks; it calls ``on_line`` with each non-blank line (``\\n``/``\\r`` ended)."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self._on_line = on_line
        self._buf = b""

    def feed(self, data: bytes) -> None:
        """Split ``data`` (appended to any unfinished line) and emit the complete lines."""
        parts = _LINE_BREAK.split(self._buf + data)
        self._buf = parts.pop()
        for part in parts:
            self._emit(part)

    def close(self) -> None:
        """Emit the last line even without a line break."""
        if self._buf:
            self._emit(self._buf)
            self._buf = b""

    def _emit(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        if line.strip():
            self._on_line(line)


class ChunkBatcher:
    """Feed it byte chunks; it calls ``on_block`` once per chunk with that chunk's complete
    lines as one block (see :meth:`Transport.stream_chunks`): the raw bytes, the last line's
    newline dropped, nothing split or decoded.

    For long-lived streams (``journalctl -f``): nothing is kept but the unfinished line, which
    is cut at ``max_line`` bytes so a host that never prints a newline cannot grow memory.
    """

    def __init__(self, on_block: Callable[[bytes], None], max_line: int = 64 * 1024) -> None:
        self._on_block = on_block
        self._buf = b""
        self._max = max_line

    def feed(self, data: bytes) -> None:
        """Emit the complete lines of ``data`` (after any unfinished line) as one block."""
        if self._buf:
            data = self._buf + data
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > self._max:
                self._buf = b""
                self._on_block(data[: self._max])
            else:
                self._buf = data
            return
        self._buf = data[cut + 1:]
        if len(self._buf) > self._max:
            self._buf = b""
        self._on_block(data[:cut])

    def close(self) -> None:
        """Emit the last line even without a line break."""
        if self._buf:
            block, self._buf = self._buf, b""
            self._on_block(block)


async def pump(read: Callable[[int], Awaitable[bytes]], sink: Callable[[bytes], None]) -> int:
    """Copy a reader into ``sink`` chunk by chunk until EOF; return the byte count."""
    total = 0
    while True:
        chunk = await read(CHUNK)
        if not chunk:
            return total
        total += len(chunk)
        sink(chunk)


async def feed_bytes(io: ProcessIO, data: bytes | None) -> None:
    """Write ``data`` (if any) to stdin, then close it; a command that stops reading early is fine."""
    try:
        if data:
            await io.write_stdin(data)
        await io.close_stdin()
    except (BrokenPipeError, ConnectionResetError):
        pass


async def feed_file(io: ProcessIO, src: Path, progress: ProgressCallback | None) -> int:
    """Copy local file ``src`` to stdin in chunks, reporting progress; return bytes sent."""
    total = src.stat().st_size
    done = 0
    try:
        with src.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                await io.write_stdin(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        await io.close_stdin()
    except (BrokenPipeError, ConnectionResetError):
        pass
    return done


class BoundedBuffer:
    """Collects bytes up to ``limit``; further bytes are counted but dropped."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self.size = 0

    def __call__(self, chunk: bytes) -> None:
        if self.limit is None or self.size < self.limit:
            room = len(chunk) if self.limit is None else self.limit - self.size
            self._parts.append(chunk[:room])
        self.size += len(chunk)

    @property
    def truncated(self) -> bool:
        """True when bytes beyond the limit were dropped."""
        return self.limit is not None and self.size > self.limit

    def getvalue(self) -> bytes:
        if len(self._parts) == 1:
            return self._parts[0]
        data = b"".join(self._parts)
        self._parts = [data]  # don't hold two copies
        return data


async def communicate(
    io: ProcessIO,
    on_stdout: Callable[[bytes], None],
    *,
    input: bytes | None = None,
    src: Path | None = None,
    progress: ProgressCallback | None = None,
    stderr: BoundedBuffer | None = None,
) -> tuple[int | None, bytes, int, int]:
    """Drive a command to its end: feed stdin, pump stdout into ``on_stdout``, collect stderr.

    Returns ``(exit_status, stderr, stdout_bytes, stdin_bytes)``. Cancel it (e.g. with
    ``asyncio.timeout``) to abandon the command; the caller then kills it. Pass ``stderr`` to
    keep what the command printed there even when it is abandoned.
    """
    stderr = stderr if stderr is not None else BoundedBuffer(STDERR_LIMIT)
    if src is not None:
        feeder: Awaitable[int | None] = feed_file(io, src, progress)
    else:
        feeder = feed_bytes(io, input)
    sent, out_bytes, _ = await asyncio.gather(
        feeder, pump(io.read_stdout, on_stdout), pump(io.read_stderr, stderr)
    )
    status = await io.wait()
    return status, stderr.getvalue(), out_bytes, sent or 0


def progress_sink(fh, progress: ProgressCallback | None) -> Callable[[bytes], None]:
    """A stdout sink writing to an open binary file and reporting (bytes, None) progress."""
    done = 0

    def sink(chunk: bytes) -> None:
        nonlocal done
        fh.write(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, None)

    return sink


def is_sudo_password_prompt(stderr: bytes) -> bool:
    """True when ``sudo -n`` refused because it would have asked for a password."""
    text = stderr.decode("utf-8", "replace").lower()
    return "a password is required" in text or "a terminal is required" in text


def short_command(argv: tuple[str, ...] | list[str], limit: int = 80) -> str:
    """A readable, bounded rendering of a command for error messages."""
    import shlex

    text = shlex.join(argv)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# A constant script: the target path and mode arrive as positional arguments ($1, $2), so no
# input is ever parsed by the shell. Writes a temp file next to the target, keeps the old mode
# and owner unless a mode is given (new files: 0644), syncs, then renames over the target.
_ATOMIC_WRITE_SCRIPT = r"""set -eu
target=$1; mode=$2
dir=$(dirname -- "$target"); base=$(basename -- "$target")
tmp=$(mktemp -- "$dir/.$base.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
if [ -n "$mode" ]; then chmod -- "$mode" "$tmp"
elif [ -e "$target" ]; then
  chmod -- "$(stat -c %a -- "$target")" "$tmp"
  chown -- "$(stat -c %u:%g -- "$target")" "$tmp" 2>/dev/null || true
else chmod -- 644 "$tmp"; fi
sync -- "$tmp" 2>/dev/null || sync
mv -f -- "$tmp" "$target"
trap - EXIT
"""


def atomic_write_argv(path: str, mode: int | None) -> list[str]:
    """argv writing its stdin atomically to ``path`` on a POSIX host (temp + rename, keep mode)."""
    return ["sh", "-c", _ATOMIC_WRITE_SCRIPT, "k0s-tui-write", path,
            "" if mode is None else format(mode & 0o7777, "o")]

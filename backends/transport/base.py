"""The transport interface: one async API, local (subprocess) or remote (SSH).

Every k0s operation is written once against :class:`Transport`. Commands are argv lists,
never shell strings built from input; the SSH implementation joins them with ``shlex.join``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

#: Progress callback: (bytes done, bytes total or None when unknown).
ProgressCallback = Callable[[int, int | None], None]

DEFAULT_TIMEOUT = 30.0


class _Exited:
    """What every finished command has: an exit status and stderr."""

    exit_status: int | None
    stderr: bytes

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exit_status == 0

    @property
    def stderr_text(self) -> str:
        """stderr decoded as UTF-8 (undecodable bytes replaced)."""
        return self.stderr.decode("utf-8", "replace")


@dataclass(frozen=True)
class CommandResult(_Exited):
    """What a finished command left behind."""

    host: str
    argv: tuple[str, ...]
    exit_status: int | None
    stdout: bytes = b""
    stderr: bytes = b""
    duration: float = 0.0

    @property
    def stdout_text(self) -> str:
        """stdout decoded as UTF-8 (undecodable bytes replaced)."""
        return self.stdout.decode("utf-8", "replace")


@dataclass(frozen=True)
class StreamResult(_Exited):
    """A command whose stdout went to a file, or whose stdin came from one."""

    host: str
    argv: tuple[str, ...]
    exit_status: int | None
    bytes_transferred: int
    stderr: bytes = b""
    duration: float = 0.0


@dataclass
class TransportInfo:
    """Descriptive facts about a transport, for display."""

    kind: str  # "local", "ssh", "demo"
    address: str = ""
    user: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    #: Whether :meth:`Transport.forward_unix_socket` can reach sockets on the host (a simulated
    #: host cannot: image backends then use `k0s ctr` without calling it a fallback).
    sockets: bool = True


class Transport(abc.ABC):
    """Runs commands and moves files on one host."""

    #: Display name of the host (inventory name or address).
    host: str

    @property
    @abc.abstractmethod
    def info(self) -> TransportInfo:
        """Kind and address of this transport."""

    @abc.abstractmethod
    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        sudo: bool = False,
    ) -> CommandResult:
        """Run ``argv`` and return its exit status and output.

        Non-zero exit is *not* an error here (callers decide). Raises
        :class:`~backends.errors.CommandTimeout` past ``timeout``,
        :class:`~backends.errors.SudoPasswordRequired` when ``sudo -n`` wants a password,
        and the connection errors of :mod:`backends.errors`.
        """

    async def run_streaming(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], None],
        *,
        timeout: float | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        """Run ``argv`` calling ``on_line`` with each stdout line (``\\n`` or ``\\r`` ended) as it arrives.

        The default runs the command to the end and then feeds every line; transports that
        can read incrementally (local subprocess, SSH channel) override this for live progress.
        Returns the whole result like :meth:`run` (stdout included).
        """
        result = await self.run(argv, timeout=timeout, sudo=sudo)
        for line in split_output_lines(result.stdout_text):
            on_line(line)
        return result

    async def stream_chunks(
        self,
        argv: Sequence[str],
        on_block: Callable[[bytes], None],
        *,
        sudo: bool = False,
    ) -> CommandResult:
        """Run a long-lived ``argv`` (``journalctl -f``) calling ``on_block`` with its output as
        it arrives, in blocks of whole lines: the raw bytes of one or more lines joined by
        ``\\n``, without the last line's newline (:func:`block_lines` splits one).

        Nothing of stdout is kept (the result's stdout is empty) and there is no timeout:
        cancel the awaiting task to end the command (over SSH this closes its channel). Raises
        the connection errors of :mod:`backends.errors` when the host drops. The default
        feeds :meth:`run_streaming`'s lines one block each.
        """
        result = await self.run_streaming(argv, lambda line: on_block(line.encode("utf-8")), sudo=sudo)
        return CommandResult(result.host, result.argv, result.exit_status, b"", result.stderr,
                             result.duration)

    async def stream_lines(
        self,
        argv: Sequence[str],
        on_lines: Callable[[list[str]], None],
        *,
        sudo: bool = False,
    ) -> CommandResult:
        """:meth:`stream_chunks` with each block split into lines (decoded as UTF-8, a line's
        ``\\r\\n`` ending dropped): ``on_lines`` gets a list per block."""
        return await self.stream_chunks(argv, lambda block: on_lines(block_lines(block)), sudo=sudo)

    @abc.abstractmethod
    async def stream_stdout_to_file(
        self,
        argv: Sequence[str],
        dest: Path,
        *,
        timeout: float | None = None,
        sudo: bool = False,
        progress: ProgressCallback | None = None,
    ) -> StreamResult:
        """Run ``argv`` writing its stdout into local file ``dest`` (created/truncated)."""

    @abc.abstractmethod
    async def stream_stdin_from_file(
        self,
        argv: Sequence[str],
        src: Path,
        *,
        timeout: float | None = None,
        sudo: bool = False,
        progress: ProgressCallback | None = None,
    ) -> StreamResult:
        """Run ``argv`` feeding local file ``src`` to its stdin."""

    @abc.abstractmethod
    async def read_file(self, path: str, *, sudo: bool = False, max_bytes: int = 4 << 20) -> bytes:
        """Return the bytes of a (small) file on the host; FileNotFoundError if absent."""

    @abc.abstractmethod
    async def write_file_atomic(
        self, path: str, data: bytes, *, sudo: bool = False, mode: int | None = None
    ) -> None:
        """Write ``data`` to ``path`` via a temp file + rename, keeping the old mode if any."""

    @abc.abstractmethod
    async def forward_unix_socket(self, remote_path: str) -> str:
        """Return a local path whose unix socket reaches ``remote_path`` on the host."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections and forwarded sockets. Safe to call twice."""


def block_lines(block: bytes) -> list[str]:
    """The lines of a :meth:`Transport.stream_chunks` block: one decode, one split (a per-line
    decode would cost more than the rest of reading a line). Blank lines are kept."""
    text = block.decode("utf-8", "replace")
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def split_output_lines(text: str) -> list[str]:
    """Split command output at newlines and bare carriage returns (progress redraws); drop empties."""
    return [ln for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]

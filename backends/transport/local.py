"""The local transport: commands as asyncio subprocesses on this machine."""

from __future__ import annotations

import asyncio
import getpass
import os
import signal
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from backends.errors import BackendError, CommandTimeout, SudoPasswordRequired
from backends.transport.streamio import (
    MAX_CAPTURE,
    atomic_write_argv,
    BoundedBuffer,
    LineBatcher,
    LineSplitter,
    ProcessIO,
    communicate,
    is_sudo_password_prompt,
    progress_sink,
    short_command,
)
from backends.transport.base import (
    DEFAULT_TIMEOUT,
    CommandResult,
    ProgressCallback,
    StreamResult,
    Transport,
    TransportInfo,
)


class _Missing:
    """Stands in for a process whose program could not be started (mimics a shell's 127/126)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message.encode()


class LocalTransport(Transport):
    """Runs commands on this machine. ``sudo=True`` prefixes ``sudo -n`` unless already root."""

    def __init__(self, host: str = "localhost") -> None:
        self.host = host

    @property
    def info(self) -> TransportInfo:
        return TransportInfo(kind="local", address="localhost", user=_whoami())

    def _argv(self, argv: Sequence[str], sudo: bool) -> list[str]:
        argv = list(argv)
        if not argv:
            raise BackendError(self.host, "empty command")
        if sudo and os.geteuid() != 0:
            return ["sudo", "-n", *argv]
        return argv

    async def _spawn(self, argv: list[str]) -> asyncio.subprocess.Process | _Missing:
        try:
            # Own session/process group: a timeout kills the whole tree, and terminal
            # signals meant for the console never reach the commands.
            return await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError:
            return _Missing(127, f"{argv[0]}: command not found\n")
        except PermissionError:
            return _Missing(126, f"{argv[0]}: permission denied\n")

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
        started = time.monotonic()
        proc = await self._spawn(argv)
        if isinstance(proc, _Missing):
            return proc.status, proc.message, 0, 0, time.monotonic() - started
        io = _process_io(proc)
        try:
            async with asyncio.timeout(timeout):
                status, err, out_n, in_n = await communicate(
                    io, on_stdout, input=input, src=src, progress=progress
                )
        except TimeoutError:
            await _kill_group(proc)
            raise CommandTimeout(
                self.host, f"`{short_command(argv)}` did not finish within {timeout:g}s; it was killed"
            ) from None
        except BaseException:
            await _kill_group(proc)
            raise
        if argv[:2] == ["sudo", "-n"] and status != 0 and is_sudo_password_prompt(err):
            raise SudoPasswordRequired(
                self.host, f"sudo needs a password for `{short_command(argv[2:])}`; "
                "allow it without one (NOPASSWD) or run the console as root"
            )
        return status, err, out_n, in_n, time.monotonic() - started

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        sudo: bool = False,
    ) -> CommandResult:
        full = self._argv(argv, sudo)
        out = BoundedBuffer(MAX_CAPTURE)
        status, err, _, _, took = await self._execute(full, out, timeout=timeout, input=input)
        return CommandResult(self.host, tuple(argv), status, out.getvalue(), err, took)

    async def run_streaming(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], None],
        *,
        timeout: float | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        full = self._argv(argv, sudo)
        out = BoundedBuffer(MAX_CAPTURE)
        lines = LineSplitter(on_line)

        def sink(chunk: bytes) -> None:
            out(chunk)
            lines.feed(chunk)

        status, err, _, _, took = await self._execute(full, sink, timeout=timeout)
        lines.close()
        return CommandResult(self.host, tuple(argv), status, out.getvalue(), err, took)

    async def stream_lines(
        self,
        argv: Sequence[str],
        on_lines: Callable[[list[str]], None],
        *,
        sudo: bool = False,
    ) -> CommandResult:
        lines = LineBatcher(on_lines)
        status, err, _, _, took = await self._execute(self._argv(argv, sudo), lines.feed, timeout=None)
        lines.close()
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
        full = self._argv(argv, sudo)
        with Path(dest).open("wb") as fh:
            status, err, n, _, took = await self._execute(
                full, progress_sink(fh, progress), timeout=timeout
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
        full = self._argv(argv, sudo)
        src = Path(src)
        if not src.is_file():
            raise FileNotFoundError(str(src))
        out = BoundedBuffer(1 << 20)
        status, err, _, n, took = await self._execute(
            full, out, timeout=timeout, src=src, progress=progress
        )
        return StreamResult(self.host, tuple(argv), status, n, err, took)

    async def read_file(self, path: str, *, sudo: bool = False, max_bytes: int = 4 << 20) -> bytes:
        if not sudo or os.geteuid() == 0:
            return await asyncio.to_thread(_read_bounded, self.host, path, max_bytes)
        result = await self.run(["cat", "--", path], sudo=True)
        return check_cat_result(self.host, path, result, max_bytes)

    async def write_file_atomic(
        self, path: str, data: bytes, *, sudo: bool = False, mode: int | None = None
    ) -> None:
        if sudo and os.geteuid() != 0:
            # Writing as root from an unprivileged console: same shell-free recipe as over SSH.
            result = await self.run(atomic_write_argv(path, mode), input=data, sudo=True)
            if not result.ok:
                raise BackendError(self.host, f"cannot write {path}: {result.stderr_text.strip()}")
            return
        await asyncio.to_thread(write_local_atomic, path, data, mode)

    async def forward_unix_socket(self, remote_path: str) -> str:
        return remote_path

    async def close(self) -> None:
        return None


def _process_io(proc: asyncio.subprocess.Process) -> ProcessIO:
    assert proc.stdin and proc.stdout and proc.stderr
    stdin = proc.stdin

    async def write(data: bytes) -> None:
        stdin.write(data)
        await stdin.drain()

    async def close() -> None:
        stdin.close()

    return ProcessIO(proc.stdout.read, proc.stderr.read, write, close, proc.wait)


async def _kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the command's process group (it leads its own session) and reap it."""
    if proc.returncode is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            try:
                proc.kill()
            except ProcessLookupError:
                pass
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except (TimeoutError, asyncio.CancelledError):
        pass


def _whoami() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry, no env: show the uid
        return str(os.geteuid())


def _read_bounded(host: str, path: str, max_bytes: int) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BackendError(host, f"{path} is larger than {max_bytes} bytes; not read")
    return data


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


def write_local_atomic(path: str, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temp file in the same directory + fsync + rename.

    The old file's mode (and owner, when permitted) is kept unless ``mode`` is given; a new
    file gets 0644. Readers see either the old or the new content, never a half-written file.
    """
    target = Path(path)
    try:
        st: os.stat_result | None = target.stat()
    except FileNotFoundError:
        st = None
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode if mode is not None else (st.st_mode & 0o7777 if st else 0o644))
        if st is not None:
            try:
                os.chown(tmp, st.st_uid, st.st_gid)
            except PermissionError:
                pass
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    # Make the rename itself durable.
    dfd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)

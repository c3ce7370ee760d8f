"""Several commands in one remote session: the script that runs them and the demultiplexer.

A fleet refresh asks each host for a few things at once (``k0s status`` and ``k0s sysinfo``, for
example). Over SSH every command costs the host a session: sshd forks a child and starts the
user's shell. Sending the commands that arrive together as one POSIX ``sh`` script costs one
session and one shell instead of N, which is most of a cold refresh's time on a busy host.

The script runs each argv (quoted with :func:`shlex.join`, never interpolated) in turn with stdin
from /dev/null and, after each, prints a marker line carrying a per-batch random token, the
command's index and its exit status to stdout, and the same marker without status to stderr.
:class:`StdoutDemux` splits stdout back into per-command outputs as it streams (each bounded, so
a command printing 50 MB costs no more memory than it would alone); :func:`split_stderr` splits
the (already bounded) stderr. Command output cannot forge a marker: the token is 128 random
bits chosen after the commands are fixed.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence

from backends.transport.streamio import BoundedBuffer


def new_token() -> str:
    """A fresh marker token (hex only, so it needs no quoting in the script)."""
    return "k0s-tui-batch-" + secrets.token_hex(16)


def batch_script(argvs: Sequence[Sequence[str]], token: str) -> str:
    """The ``sh -c`` script that runs ``argvs`` one after the other, with markers after each."""
    if not re.fullmatch(r"[A-Za-z0-9-]+", token):
        raise ValueError("batch token must be alphanumeric")
    parts = []
    for i, argv in enumerate(argvs):
        if not argv:
            raise ValueError("empty command in batch")
        parts.append(
            f"{shlex.join(argv)} </dev/null; s=$?; "
            f"printf '\\n{token}:{i}:%d\\n' \"$s\"; printf '\\n{token}:{i}\\n' >&2"
        )
    return "; ".join(parts)


class StdoutDemux:
    """Splits a batch's stdout stream into one bounded buffer and exit status per command."""

    def __init__(self, count: int, token: str, limit: int | None) -> None:
        self.outputs = [BoundedBuffer(limit) for _ in range(count)]
        self.statuses: list[int | None] = [None] * count
        self._marker = b"\n" + token.encode() + b":"
        self._pending = b""
        self._index = 0

    @property
    def finished(self) -> int:
        """How many commands have finished (their markers seen); the next one is running."""
        return self._index

    @property
    def complete(self) -> bool:
        """True once every command's marker was seen."""
        return self._index >= len(self.outputs)

    def __call__(self, chunk: bytes) -> None:
        data = self._pending + chunk
        while not self.complete:
            at = data.find(self._marker)
            if at < 0:
                break
            end = data.find(b"\n", at + len(self._marker))
            if end < 0:
                break  # the marker line is not whole yet
            fields = data[at + len(self._marker):end].split(b":")
            if len(fields) != 2 or fields[0] != str(self._index).encode():
                # Not our marker after all (cannot happen without the token): keep it as output.
                self.outputs[self._index](data[:end])
                data = data[end:]
                continue
            self.outputs[self._index](data[:at])
            self.statuses[self._index] = int(fields[1]) if fields[1].isdigit() else None
            self._index += 1
            data = data[end + 1:]
        if self.complete:
            self._pending = b""  # nothing is printed after the last marker
            return
        # Hold back what could be the start of a marker; the rest is the command's output.
        keep = len(self._marker) + 24
        if len(data) > keep:
            self.outputs[self._index](data[:-keep])
            data = data[-keep:]
        self._pending = data

    def finish(self) -> None:
        """End of stream: whatever is held back belongs to the command that was running."""
        if self._pending and not self.complete:
            self.outputs[self._index](self._pending)
        self._pending = b""


def split_stderr(stderr: bytes, count: int, token: str) -> list[bytes]:
    """Split a batch's stderr at its markers (commands past a missing marker get nothing)."""
    out: list[bytes] = []
    rest = stderr
    for i in range(count):
        marker = f"\n{token}:{i}\n".encode()
        at = rest.find(marker)
        if at < 0:
            out.append(rest)
            rest = b""
            continue
        out.append(rest[:at])
        rest = rest[at + len(marker):]
    return out

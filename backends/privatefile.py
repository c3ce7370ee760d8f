"""Files only this user may write: the audit log, the app's known_hosts.

Appending through a symlink would write the symlink's target (another user's file, a file the
operator never meant); a file others can write can be forged (a trusted host key planted, an
audit trail rewritten). Like OpenSSH's ``StrictModes`` for key files, both are refused with a
message saying what to fix. Files are created 0600 in directories created 0700; the file is
opened with ``O_NOFOLLOW`` and checked on the open descriptor, so a swap between check and
use cannot redirect the write.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeFile(PermissionError):
    """A private file that is a symlink, not a regular file, not ours, or writable by others."""


def _problem(st: os.stat_result) -> str | None:
    if stat.S_ISLNK(st.st_mode):
        return "is a symbolic link"
    if not stat.S_ISREG(st.st_mode):
        return "is not a regular file"
    if st.st_uid not in (os.getuid(), 0):
        return f"is owned by uid {st.st_uid}, not by you"
    if st.st_mode & 0o022:
        return f"is writable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); chmod go-w it"
    return None


def check_private(path: Path, what: str) -> None:
    """Raise :class:`UnsafeFile` when an existing ``path`` is unsafe to trust; absent is fine."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    problem = _problem(st)
    if problem:
        raise UnsafeFile(f"{what} {path} {problem}; refusing to use it")


def open_private_append(path: Path, what: str) -> int:
    """An ``O_APPEND`` (read-write) descriptor on ``path`` (created 0600, parents 0700), refusing unsafe files.

    The caller closes the descriptor. Raises :class:`UnsafeFile` (a PermissionError) with a
    message naming ``what`` and the problem.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        if os.path.islink(path):
            raise UnsafeFile(f"{what} {path} is a symbolic link; refusing to write through it") from None
        raise
    try:
        problem = _problem(os.fstat(fd))
        if problem:
            raise UnsafeFile(f"{what} {path} {problem}; refusing to write to it")
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd

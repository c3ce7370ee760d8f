"""A `k0s` stand-in executable backed by a demo cluster state file.

    K0S_DEMO_STATE=/tmp/state.json K0S_DEMO_NODE=controller-1 python -m backends.demo.standin status

Answers the same commands as the in-process demo (see :mod:`backends.demo.commands`) and keeps
the cluster in the JSON file, so actions persist across invocations (stop, then status says
not running). Read-modify-write happens under an ``fcntl`` lock. :func:`write_standin` writes
an executable ``k0s`` script that runs this module, so tests can put it first on the PATH of a
real sshd session. Optional: ``K0S_DEMO_SEED`` (new state files), ``K0S_DEMO_NOW`` (ISO time,
frozen clock), ``K0S_DEMO_PULL_SECONDS`` (pull duration of a new state file).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from backends.demo.cluster import DemoCluster
from backends.demo.commands import answer
from backends.demo.formats import as_utc
from backends.demo.launcher import write_standin

__all__ = ["main", "write_standin"]

class RealIO:
    """Backups and restores of the stand-in touch the real filesystem of the host it runs on."""

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd

    def read(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def write(self, path: str, data: bytes) -> None:
        with open(path, "xb") as fh:  # never overwrite, like k0s backup
            fh.write(data)

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(path)

    def exists(self, path: str) -> bool:
        return os.path.exists(path)


@contextlib.contextmanager
def locked(state_path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside ``state_path`` (``<state>.lock``)."""
    with open(f"{state_path}.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _clock():
    frozen = os.environ.get("K0S_DEMO_NOW")
    if not frozen:
        return None
    when = as_utc(datetime.fromisoformat(frozen))
    return lambda: when


def load(state_path: Path) -> DemoCluster:
    """The cluster in ``state_path``, or a new default one when the file does not exist yet."""
    clock = _clock()
    if state_path.exists() and state_path.stat().st_size:
        return DemoCluster.from_json(state_path.read_text(), clock=clock)
    return DemoCluster(seed=int(os.environ.get("K0S_DEMO_SEED", "7")), clock=clock,
                       pull_duration=float(os.environ.get("K0S_DEMO_PULL_SECONDS", "1.6")))


def save(cluster: DemoCluster, state_path: Path) -> None:
    """Write the state atomically (temp file + rename)."""
    fd, tmp = tempfile.mkstemp(dir=str(state_path.parent), prefix=".demo-state-")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(cluster.to_json())
        os.replace(tmp, state_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run one `k0s …` invocation against the state file; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    state = os.environ.get("K0S_DEMO_STATE")
    node = os.environ.get("K0S_DEMO_NODE")
    if not state or not node:
        sys.stderr.write("k0s (demo stand-in): set K0S_DEMO_STATE and K0S_DEMO_NODE\n")
        return 2
    state_path = Path(state)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    # Only `restore -` reads stdin: never block on a terminal or an open SSH channel otherwise.
    stdin = sys.stdin.buffer.read() if "restore" in args and "-" in args else None
    io = RealIO(str(state_path.parent))
    with locked(state_path):
        cluster = load(state_path)
        if node not in cluster.nodes:
            sys.stderr.write(f"k0s (demo stand-in): no node {node!r} in {state_path}\n")
            return 2
        before = cluster.to_json() if state_path.exists() else None
        reply = answer(cluster, node, ["k0s", *args], stdin, io)
        after = cluster.to_json()
        if after != before:
            save(cluster, state_path)
    out = sys.stdout.buffer
    try:
        out.write(reply.stdout)
        out.flush()
        sys.stderr.buffer.write(reply.stderr)
        sys.stderr.buffer.flush()
        for delay, chunk in reply.chunks:
            if delay:
                time.sleep(delay)
            out.write(chunk)
            out.flush()
    except BrokenPipeError:
        # The reader went away (as SIGPIPE would end the real command): no state change.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    if reply.commit is not None:
        with locked(state_path):
            cluster = load(state_path)
            reply.commit(cluster)
            save(cluster, state_path)
    return reply.exit_status


if __name__ == "__main__":
    sys.exit(main())

"""DemoTransport: the Transport interface answered in-process by a DemoCluster node."""

from __future__ import annotations

import asyncio
import functools
import posixpath
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from backends.demo.cluster import DemoCluster
from backends.demo.commands import Reply, answer
from backends.errors import BackendError, CommandTimeout, HostUnreachable
from backends.hosts.spec import HostSpec, Inventory
from backends.transport.streamio import ChunkBatcher
from backends.transport.base import (
    DEFAULT_TIMEOUT,
    CommandResult,
    ProgressCallback,
    StreamResult,
    Transport,
    TransportInfo,
    split_output_lines,
)

_CHUNK = 64 * 1024


@functools.cache
def _demo_hosts() -> ThreadPoolExecutor:
    """The one thread every demo host's commands are answered on (made on first use)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-hosts")


class DemoTransport(Transport):
    """Runs argv lists against one node of a :class:`DemoCluster`, with a small realistic latency.

    ``latency`` is the (min, max) seconds each command takes before answering; (0, 0) for tests
    that want speed. Streaming commands (``ctr images pull``) deliver their output over time.
    """

    def __init__(self, cluster: DemoCluster, node_name: str, *, latency: tuple[float, float] = (0.005, 0.03),
                 host: str | None = None) -> None:
        self.cluster = cluster
        self.node_name = node_name
        cluster.node(node_name)  # KeyError now, not at the first command
        self.host = host or node_name
        self.latency = latency
        # A counter hashed per command instead of a random.Random per node (2.5 KB of state
        # each, 5 MiB for a fleet of 2,000): the same seeded, reproducible latencies.
        self._latency_seed = f"{cluster.seed}/{node_name}/latency/".encode()
        self._commands = 0
        self._closed = False

    @property
    def info(self) -> TransportInfo:
        node = self.cluster.node(self.node_name)
        return TransportInfo(kind="demo", address=node.address, user="root", sockets=False,
                             extra={"cluster": self.cluster.name, "node": self.node_name})

    async def _pause(self) -> None:
        lo, hi = self.latency
        if hi > 0:
            self._commands += 1
            draw = zlib.crc32(self._latency_seed + str(self._commands).encode()) / 0xFFFFFFFF
            await asyncio.sleep(lo + (hi - lo) * draw)

    def _check_open(self) -> None:
        if self._closed:
            raise HostUnreachable(self.host, "demo transport is closed")

    def _answer(self, argv: Sequence[str], stdin: bytes | None) -> Reply:
        if not argv:
            raise BackendError(self.host, "empty command")
        return answer(self.cluster, self.node_name, [str(a) for a in argv], stdin)

    async def _answer_remotely(self, argv: Sequence[str], stdin: bytes | None) -> Reply:
        """The reply, worked out on the demo's own thread: a real host does its work elsewhere,
        so a 2,000-node demo printing `kubectl get nodes` (a second of JSON encoding) must not
        hold the console's event loop either. One thread: the demo's state sees one command at
        a time; state changes still happen on the loop (``reply.commit``)."""
        return await asyncio.get_running_loop().run_in_executor(_demo_hosts(), self._answer, argv, stdin)

    async def _deliver(self, reply: Reply, on_bytes: Callable[[bytes], None] | None, deadline: float | None,
                       argv: Sequence[str]) -> None:
        """Play the reply's timed chunks (honouring the deadline), then apply its state change."""
        for delay, chunk in reply.chunks:
            if delay:
                if deadline is not None and time.monotonic() + delay > deadline:
                    raise CommandTimeout(self.host, f"`{' '.join(argv[:3])}` timed out")
                await asyncio.sleep(delay)
            if on_bytes is not None:
                on_bytes(chunk)
        if reply.commit is not None:
            reply.commit(self.cluster)

    async def run(self, argv: Sequence[str], *, input: bytes | None = None,
                  timeout: float | None = DEFAULT_TIMEOUT, sudo: bool = False) -> CommandResult:
        """Answer ``argv`` (``sudo`` is accepted and has no effect: the demo is root)."""
        self._check_open()
        start = time.monotonic()
        deadline = start + timeout if timeout is not None else None
        await self._pause()
        reply = await self._answer_remotely(argv, input)
        await self._deliver(reply, None, deadline, argv)
        return CommandResult(host=self.host, argv=tuple(argv), exit_status=reply.exit_status,
                             stdout=reply.all_stdout, stderr=reply.stderr, duration=time.monotonic() - start)

    async def run_streaming(self, argv: Sequence[str], on_line: Callable[[str], None], *,
                            timeout: float | None = None, sudo: bool = False) -> CommandResult:
        """Like :meth:`run`, calling ``on_line`` for each line as the simulated output arrives."""
        self._check_open()
        start = time.monotonic()
        deadline = start + timeout if timeout is not None else None
        await self._pause()
        reply = await self._answer_remotely(argv, None)
        pending = [""]

        def feed(data: bytes) -> None:
            text = pending[0] + data.decode("utf-8", "replace")
            cut = max(text.rfind("\n"), text.rfind("\r"))
            if cut < 0:
                pending[0] = text
                return
            pending[0] = text[cut + 1:]
            for line in split_output_lines(text[:cut + 1]):
                on_line(line)

        if reply.stdout:
            feed(reply.stdout)
        await self._deliver(reply, feed, deadline, argv)
        if pending[0].strip():
            on_line(pending[0])
        return CommandResult(host=self.host, argv=tuple(argv), exit_status=reply.exit_status,
                             stdout=reply.all_stdout, stderr=reply.stderr, duration=time.monotonic() - start)

    async def stream_chunks(self, argv: Sequence[str], on_block: Callable[[bytes], None], *,
                            sudo: bool = False) -> CommandResult:
        """Deliver the simulated output in batches as it arrives; the reply's chunks may be an
        endless generator (``journalctl -f``): cancel the task to end it. Nothing is kept."""
        self._check_open()
        start = time.monotonic()
        await self._pause()
        reply = await self._answer_remotely(argv, None)
        blocks = ChunkBatcher(on_block)
        if reply.stdout:
            blocks.feed(reply.stdout)
        for delay, chunk in reply.chunks:
            if delay:
                await asyncio.sleep(delay)
            self._check_open()
            blocks.feed(chunk)
        blocks.close()
        return CommandResult(host=self.host, argv=tuple(argv), exit_status=reply.exit_status,
                             stderr=reply.stderr, duration=time.monotonic() - start)

    async def stream_stdout_to_file(self, argv: Sequence[str], dest: Path, *, timeout: float | None = None,
                                    sudo: bool = False, progress: ProgressCallback | None = None) -> StreamResult:
        """Write the command's stdout to local ``dest`` in chunks, reporting progress."""
        self._check_open()
        start = time.monotonic()
        await self._pause()
        reply = await self._answer_remotely(argv, None)
        data = reply.all_stdout
        done = 0
        with open(dest, "wb") as fh:
            for i in range(0, len(data), _CHUNK):
                piece = data[i:i + _CHUNK]
                fh.write(piece)
                done += len(piece)
                if progress is not None:
                    progress(done, None)
                await asyncio.sleep(0)
        if reply.commit is not None:
            reply.commit(self.cluster)
        return StreamResult(host=self.host, argv=tuple(argv), exit_status=reply.exit_status,
                            bytes_transferred=done, stderr=reply.stderr, duration=time.monotonic() - start)

    async def stream_stdin_from_file(self, argv: Sequence[str], src: Path, *, timeout: float | None = None,
                                     sudo: bool = False, progress: ProgressCallback | None = None) -> StreamResult:
        """Feed local ``src`` to the command's stdin (read in chunks, reporting progress)."""
        self._check_open()
        start = time.monotonic()
        total = Path(src).stat().st_size
        parts = []
        done = 0
        with open(src, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                parts.append(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
                await asyncio.sleep(0)
        await self._pause()
        reply = await self._answer_remotely(argv, b"".join(parts))
        await self._deliver(reply, None, None, argv)
        return StreamResult(host=self.host, argv=tuple(argv), exit_status=reply.exit_status,
                            bytes_transferred=done, stderr=reply.stderr, duration=time.monotonic() - start)

    async def read_file(self, path: str, *, sudo: bool = False, max_bytes: int = 4 << 20) -> bytes:
        """A file of the node's virtual filesystem."""
        self._check_open()
        await self._pause()
        node = self.cluster.node(self.node_name)
        try:
            data = self.cluster.read(node, path)
        except FileNotFoundError:
            raise FileNotFoundError(f"{self.host}: {path}") from None
        except IsADirectoryError:
            raise IsADirectoryError(f"{self.host}: {path}") from None
        if len(data) > max_bytes:
            raise BackendError(self.host, f"{path} is larger than {max_bytes} bytes; not read")
        return data

    async def write_file_atomic(self, path: str, data: bytes, *, sudo: bool = False,
                                mode: int | None = None) -> None:
        """Replace a file of the node's virtual filesystem."""
        self._check_open()
        await self._pause()
        node = self.cluster.node(self.node_name)
        path = posixpath.normpath(path)
        if self.cluster.is_dir(node, path):
            raise BackendError(self.host, f"cannot write {path}: Is a directory")
        node.files[path] = bytes(data)

    async def forward_unix_socket(self, remote_path: str) -> str:
        """The demo has no containerd socket: callers use `k0s ctr` instead."""
        raise BackendError(self.host, f"the demo cluster has no containerd socket at {remote_path}; "
                                      "use `k0s ctr`")

    async def close(self) -> None:
        """Nothing to release; later calls fail like a closed connection."""
        self._closed = True


def make_demo_transport(cluster: DemoCluster | None, spec: HostSpec) -> Transport:
    """The transport for inventory entry ``spec`` (``spec.demo`` names the node) of ``cluster``."""
    if cluster is None:
        raise BackendError(spec.name, "no demo cluster was given for this demo host")
    return DemoTransport(cluster, spec.demo or spec.name, host=spec.name)


def demo_transports(cluster: DemoCluster) -> Callable[[HostSpec], Transport]:
    """The transport factory for ``cluster``'s hosts (``make_transport(..., simulated=…)``)."""
    return lambda spec: make_demo_transport(cluster, spec)


def demo_inventory(cluster: DemoCluster) -> Inventory:
    """An inventory listing every node of ``cluster`` (``HostSpec.demo`` = node name, no SSH)."""
    hosts = [HostSpec(name=n.name, role=n.role, ssh=None, demo=n.name, extra={"address": n.address})
             for n in cluster.nodes.values()]
    # The version the cluster is meant to run: the controllers' (one worker lags behind).
    return Inventory(name=cluster.name, hosts=hosts, k0s_version=cluster.controllers[0].version, source="demo")

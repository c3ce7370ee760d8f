"""Images list: containerd's gRPC API in one process vs `ctr images ls` as a subprocess.

Starts a private containerd 1.6 and local registry (the test fixtures' helpers), pulls the small
busybox image once through CRI, registers it under 1,000 names (Images.Create: tags of the same
image), then times N listings each way:

- gRPC: ``GrpcImageBackend.list_images()`` on one open channel (Images.List + models, the
  manifest size cache warm after the first call) — what the Containers pane does per refresh;
- ctr: ``ctr -a SOCK -n k8s.io images ls`` as a subprocess, output read whole.

usage: .venv/bin/python bench/images_list.py [N] [IMAGES]      (defaults 10, 1000; needs root)
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backends.images.containerd import ContainerdClient, GrpcImageBackend  # noqa: E402
from backends.images.containerd.gen import containerd_images_pb2 as images_pb2  # noqa: E402
from tests.fixtures.containerd import (  # noqa: E402
    CRI_MANAGED,
    build_busybox_layout,
    push_layout,
    start_containerd,
    start_registry,
)


async def fill(backend: GrpcImageBackend, source: str, count: int, prefix: str) -> None:
    """Register ``count`` names for ``source``'s content, 32 creates in flight."""
    src = await backend.client.image_get(source)
    target = images_pb2.Descriptor(media_type=src.target.media_type, digest=src.target.digest,
                                   size=src.target.size)
    existing = len(await backend.client.images_list())
    sem = asyncio.Semaphore(32)

    async def one(i: int) -> None:
        async with sem:
            await backend.client.image_create(f"{prefix}/tag{i:04d}:v{i}", target, labels=CRI_MANAGED)

    await asyncio.gather(*(one(i) for i in range(max(0, count - existing))))


async def time_grpc(call, n: int) -> tuple[list[float], int]:
    rows = len(await call())  # warm: channel open, size cache filled
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        rows = len(await call())
        times.append(time.perf_counter() - t0)
    return times, rows


def time_ctr(sock: str, n: int) -> tuple[list[float], int]:
    argv = ["ctr", "-a", sock, "-n", "k8s.io", "images", "ls"]
    subprocess.run(argv, check=True, capture_output=True)
    times, rows = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        out = subprocess.run(argv, check=True, capture_output=True).stdout
        times.append(time.perf_counter() - t0)
        rows = len(out.splitlines()) - 1
    return times, rows


def fmt(times: list[float]) -> str:
    return (f"median {statistics.median(times) * 1e3:8.2f} ms   min {min(times) * 1e3:8.2f} ms   "
            f"total {sum(times):7.3f} s")


async def main(n: int, count: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="k0bench-", dir="/tmp"))
    registry = ctd = None
    try:
        registry = start_registry(work / "reg")
        oci = build_busybox_layout(work / "img")
        push_layout(oci, "busybox", f"{registry.addr}/busybox:latest")
        push_layout(oci, "pause", f"{registry.addr}/pause:3.6")
        ctd = start_containerd(work / "ctd", registry.addr)
        backend = GrpcImageBackend(ContainerdClient(ctd.socket, host="bench"))
        source = f"{registry.addr}/busybox:latest"
        await backend.pull(source)
        t0 = time.perf_counter()
        await fill(backend, source, count, f"{registry.addr}/bench")
        print(f"containerd {await backend.version()}: {len(await backend.client.images_list())} images "
              f"(filled in {time.perf_counter() - t0:.2f} s); {n} listings each way")
        raw_times, raw_rows = await time_grpc(backend.client.images_list, n)
        grpc_times, grpc_rows = await time_grpc(backend.list_images, n)
        ctr_times, ctr_rows = time_ctr(ctd.socket, n)
        await backend.close()
        print(f"gRPC Images.List (raw)  rows {raw_rows:5d}   {fmt(raw_times)}")
        print(f"gRPC list_images()      rows {grpc_rows:5d}   {fmt(grpc_times)}")
        print(f"ctr images ls (subproc) rows {ctr_rows:5d}   {fmt(ctr_times)}")
        ratio = statistics.median(ctr_times) / statistics.median(grpc_times)
        print(f"ratio (median ctr / median gRPC): {ratio:.1f}x  (target >= 10x)")
    finally:
        if ctd is not None:
            ctd.stop()
        if registry is not None:
            registry.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [10, 1000][len(args):])))

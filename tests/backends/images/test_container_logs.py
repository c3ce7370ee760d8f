"""A real container's CRI log on the real containerd of the tests: the log path from CRI
ContainerStatus, the file followed over a transport (`tail -F`), CRI lines parsed."""

from __future__ import annotations

import asyncio
import secrets
import time
from pathlib import Path

import pytest

from backends.images.containerd import ContainerdClient
from backends.images.containerd.gen import cri_v1_pb2 as cri
from backends.k0s.logs import container_log_argv, follow_command
from backends.k0s.parsers.logs import LogEntry
from backends.transport.local import LocalTransport

pytestmark = pytest.mark.timeout(150)


async def until(cond, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_cri_log_of_a_real_container(containerd, tmp_path: Path):
    client = ContainerdClient(containerd.socket, host="test")
    await client.pull_image(containerd.busybox)
    logdir = tmp_path / "pods" / "k0s-tui-test_logs_uid"
    logdir.mkdir(parents=True)
    name = "pod" + secrets.token_hex(3)
    config = cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, uid=secrets.token_hex(8), namespace="k0s-tui-test"),
        log_directory=str(logdir),
        linux=cri.LinuxPodSandboxConfig(security_context=cri.LinuxSandboxSecurityContext(
            namespace_options=cri.NamespaceOption(network=cri.NODE))))
    sandbox_id = await client.run_pod_sandbox(config)
    container_id = ""
    got: list[LogEntry] = []
    task = None
    try:
        container_id = await client.create_container(sandbox_id, cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name="talker"), image=cri.ImageSpec(image=containerd.busybox),
            command=["/bin/sh", "-c", "echo hello one; echo oops >&2; sleep 1; echo hello two; sleep 300"],
            log_path="talker/0.log"), config)
        await client.start_container(container_id)
        status = await client.container_status(container_id)
        assert status.log_path == str(logdir / "talker" / "0.log")
        assert status.state == cri.CONTAINER_RUNNING
        transport = LocalTransport("test")
        task = asyncio.ensure_future(follow_command(transport, "test", container_log_argv(status.log_path), "cri",
                                                    lambda rows: got.extend(LogEntry(*r) for r in rows),
                                                    component="talker"))
        # stdout and stderr reach the log through two pipes: their order is not fixed
        await until(lambda: {e.message for e in got} >= {"hello one", "oops"},
                    what=f"the first lines: {[(e.message, e.stream) for e in got]}")
        await until(lambda: any(e.message == "hello two" for e in got), what="a line written later")
        by_msg = {e.message: e for e in got}
        first, err = by_msg["hello one"], by_msg["oops"]
        assert (first.host, first.component, first.stream, first.level) == ("test", "talker", "stdout", "info")
        assert (err.stream, err.level) == ("stderr", "error")
        assert abs(first.time - time.time()) < 60 and first.time <= by_msg["hello two"].time
    finally:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if container_id:
            await client.stop_container(container_id, 0)
            await client.remove_container(container_id)
        await client.stop_pod_sandbox(sandbox_id)
        await client.remove_pod_sandbox(sandbox_id)
        await client.close()

"""The gRPC image backend against a real containerd 1.6 and a real local registry."""

from __future__ import annotations

import os
import secrets
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backends.images.containerd import ContainerdClient, ContainerdError, ContainerdNotFound, GrpcImageBackend
from backends.images.containerd.gen import cri_v1_pb2 as cri
from backends.images.containerd.gen import containerd_images_pb2 as images_pb2
from backends.errors import ValidationError
from backends.hosts.spec import HostSpec
from backends.images.ctr import CtrImageBackend
from backends.images.select import backend_path_label, select_image_backend
from backends.k0s.host import K0sHost
from backends.transport.local import LocalTransport
from backends.models import PullProgress
from tests.fixtures.containerd import CRI_MANAGED, ThrottledProxy, free_port, push_random_image

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def backend(containerd):
    client = ContainerdClient(containerd.socket, host="test")
    yield GrpcImageBackend(client, host="test")
    await client.close()


async def _ensure_busybox(backend: GrpcImageBackend, containerd) -> str:
    await backend.pull(containerd.busybox)
    return containerd.busybox


async def _tag(backend: GrpcImageBackend, source: str, name: str) -> str:
    """A new image record pointing at ``source``'s content (`ctr images tag`)."""
    src = await backend.client.image_get(source)
    await backend.client.image_create(name, images_pb2.Descriptor(
        media_type=src.target.media_type, digest=src.target.digest, size=src.target.size), labels=CRI_MANAGED)
    return name


async def test_version_matches_ctr_and_cri_apis(backend, containerd):
    version = await backend.version()
    out = containerd.ctr("version").stdout
    assert f"Version:  {version}" in out.split("Server:", 1)[1]
    cri_version = await backend.client.cri_version()
    assert cri_version.runtime_name == "containerd"
    assert cri_version.api == "runtime.v1"  # containerd 1.6 serves v1 (and v1alpha2, used as fallback)


async def test_pull_reports_ingest_progress_then_lists(backend, containerd):
    # containerd 1.6 writes fetched blobs in 1 MiB chunks, so an ingest's offset only moves
    # per MiB: a 3 MiB layer at 2 MiB/s shows 1 and 2 MiB done during ~1.5 s of download.
    ref_in_registry = push_random_image(containerd, "progress" + secrets.token_hex(3), size=3 << 20)
    path = ref_in_registry.split("/", 1)[1]
    events: list[PullProgress] = []
    async with ThrottledProxy(containerd.registry.port, rate=2 << 20) as proxy:
        ref = f"127.0.0.1:{proxy.port}/{path}"
        await backend.pull(ref, events.append)
    downloading = [e for e in events if e.status == "downloading"]
    assert len(downloading) >= 2, events
    partial = [e for e in downloading if e.total and 0 < e.done < e.total]
    assert partial, "no in-progress snapshot observed"
    final = events[-1]
    assert final.status == "done" and final.done == final.total
    big = max(final.layers.items(), key=lambda kv: kv[1][1] or 0)
    assert big[1][0] == big[1][1] > 3 << 20
    # the layer's digest was seen while it was still downloading
    assert any(big[0] in e.layers and e.layers[big[0]][0] < big[1][1] for e in downloading)
    listed = {img.ref: img for img in await backend.list_images()}
    assert ref in listed
    assert listed[ref].size_bytes == final.total
    assert listed[ref].platforms == ("linux/amd64",)
    assert ref in containerd.ctr("images", "ls", "-q").stdout.split()
    await backend.remove(ref)


async def test_list_matches_ctr(backend, containerd):
    await _ensure_busybox(backend, containerd)
    ours = {img.ref: img for img in await backend.list_images()}
    theirs = containerd.ctr("images", "ls").stdout.splitlines()[1:]
    assert set(ours) == {line.split()[0] for line in theirs}
    bb = ours[containerd.busybox]
    assert bb.digest.startswith("sha256:")
    # created: when this containerd stored it (it is the store's record, not the image config's)
    assert bb.created is not None and abs(datetime.now(timezone.utc) - bb.created) < timedelta(hours=1)
    assert 900_000 < bb.size_bytes < 3_000_000


async def test_labels_set_changed_and_removed(backend, containerd):
    await _ensure_busybox(backend, containerd)
    name = await _tag(backend, containerd.busybox, f"{containerd.registry.addr}/lab:{secrets.token_hex(3)}")
    labels = await backend.label(name, {"team": "blue", "tier": "db"})
    assert labels["team"] == "blue" and labels["tier"] == "db"
    labels = await backend.label(name, {"team": "red"})
    assert labels["team"] == "red" and labels["tier"] == "db"  # untouched keys stay
    line = [ln for ln in containerd.ctr("images", "ls").stdout.splitlines() if ln.startswith(name + " ")][0]
    assert "team=red" in line and "tier=db" in line
    labels = await backend.label(name, {"tier": ""})
    assert "tier" not in labels and labels["team"] == "red"
    await backend.remove(name)


@pytest.mark.parametrize("key,value", [
    ("", "x"), ("a=b", "x"), ("bad key", "x"), ("-flag", "x"), ("k", "line\nbreak"),
    ("k", "\x1b[31mred"), ("k" * 10, "v" * 4096),
])
async def test_hostile_labels_send_nothing(backend, containerd, key, value):
    await _ensure_busybox(backend, containerd)
    before = dict((await backend.client.image_get(containerd.busybox)).labels)
    with pytest.raises(ValidationError):
        await backend.label(containerd.busybox, {key: value})
    assert dict((await backend.client.image_get(containerd.busybox)).labels) == before
    # and nothing is even attempted: a backend on a dead socket raises the same ValidationError
    dead = GrpcImageBackend(ContainerdClient("/nonexistent/c.sock"))
    with pytest.raises(ValidationError):
        await dead.label(containerd.busybox, {key: value})
    with pytest.raises(ValidationError):
        await dead.remove("Bad Ref; rm -rf /")
    await dead.close()


async def test_remove_and_missing(backend, containerd):
    await _ensure_busybox(backend, containerd)
    name = await _tag(backend, containerd.busybox, f"{containerd.registry.addr}/rm:{secrets.token_hex(3)}")
    assert name in containerd.ctr("images", "ls", "-q").stdout.split()
    await backend.remove(name)
    assert name not in {i.ref for i in await backend.list_images()}
    assert name not in containerd.ctr("images", "ls", "-q").stdout.split()
    with pytest.raises(ContainerdNotFound):
        await backend.remove(name)


async def test_registry_down_gives_clear_error(backend):
    ref = f"127.0.0.1:{free_port()}/nothing:here"
    events: list[PullProgress] = []
    with pytest.raises(ContainerdError) as info:
        await backend.pull(ref, events.append)
    msg = str(info.value)
    assert "127.0.0.1" in msg and "connection refused" in msg.lower()
    assert not [e for e in events if e.status == "done"]


async def test_image_fs_info(backend, containerd):
    usage = await backend.image_fs_usage()
    assert usage and usage[0].mountpoint.startswith(str(containerd.containerd.root))


def _sandbox_config(name: str) -> cri.PodSandboxConfig:
    return cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, uid=secrets.token_hex(8), namespace="k0s-tui-test"),
        labels={"app": name},
        linux=cri.LinuxPodSandboxConfig(security_context=cri.LinuxSandboxSecurityContext(
            namespace_options=cri.NamespaceOption(network=cri.NODE))),
    )


@pytest.mark.timeout(150)
async def test_running_sandbox_and_container_listed(backend, containerd):
    """A real pod sandbox (host network) with a busybox container, seen through CRI lists."""
    client = backend.client
    await _ensure_busybox(backend, containerd)
    name = "pod" + secrets.token_hex(3)
    config = _sandbox_config(name)
    sandbox_id = await client.run_pod_sandbox(config)
    container_id = ""
    try:
        container_id = await client.create_container(sandbox_id, cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name="sleeper"), image=cri.ImageSpec(image=containerd.busybox),
            command=["/bin/sleep", "300"], labels={"role": "test"}), config)
        await client.start_container(container_id)
        rows = {c.id: c for c in await backend.containers()}
        pod = rows[sandbox_id]
        assert (pod.kind, pod.state, pod.name, pod.namespace) == ("sandbox", "ready", name, "k0s-tui-test")
        ctr_row = rows[container_id]
        assert (ctr_row.kind, ctr_row.state, ctr_row.name, ctr_row.pod) == ("container", "running", "sleeper", name)
        assert ctr_row.labels.get("role") == "test"
        assert ctr_row.created is not None and abs(datetime.now(timezone.utc) - ctr_row.created) < timedelta(minutes=5)
        assert "busybox" in ctr_row.image
        # containerd itself agrees the task runs
        assert container_id in containerd.ctr("tasks", "ls", "-q").stdout.split()
        await client.stop_container(container_id, 0)
        rows = {c.id: c for c in await backend.containers()}
        assert rows[container_id].state == "exited"
    finally:
        if container_id:
            await client.stop_container(container_id, 0)
            await client.remove_container(container_id)
        await client.stop_pod_sandbox(sandbox_id)
        await client.remove_pod_sandbox(sandbox_id)
    assert sandbox_id not in {c.id for c in await backend.containers()}


async def containerd_pull(containerd) -> None:
    """Make sure busybox is present (through a short-lived gRPC client)."""
    client = ContainerdClient(containerd.socket)
    try:
        await client.pull_image(containerd.busybox)
    finally:
        await client.close()


def _ctr_wrapper(tmp_path: Path, sock: str) -> str:
    """A `k0s` stand-in whose `k0s ctr …` runs the real ctr against the test containerd."""
    path = tmp_path / "k0s"
    path.write_text(f'#!/bin/sh\n[ "$1" = ctr ] || exit 2\nshift\nexec ctr --address "{sock}" -n k8s.io "$@"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def test_socket_missing_falls_back_to_ctr(containerd, tmp_path):
    missing = str(tmp_path / "no.sock")
    spec = HostSpec(name="node-a", k0s_binary=_ctr_wrapper(tmp_path, containerd.socket),
                    extra={"containerd_socket": missing})
    host = K0sHost(spec, LocalTransport("node-a"))
    backend = await select_image_backend(host)
    assert isinstance(backend, CtrImageBackend)
    assert backend_path_label(backend) == f"ctr (fallback: no containerd socket at {missing})"
    # the fallback path really works: same images as containerd reports
    await containerd_pull(containerd)
    refs = {i.ref for i in await backend.list_images()}
    assert containerd.busybox in refs
    assert refs == set(containerd.ctr("images", "ls", "-q").stdout.split())


async def test_select_prefers_grpc(containerd, tmp_path):
    spec = HostSpec(name="node-b", k0s_binary=str(tmp_path / "absent-k0s"),
                    extra={"containerd_socket": containerd.socket})
    host = K0sHost(spec, LocalTransport("node-b"))
    backend = await select_image_backend(host)
    try:
        assert isinstance(backend, GrpcImageBackend) and backend_path_label(backend) == "grpc"
        assert backend.remote_socket == containerd.socket
        assert {i.ref for i in await backend.list_images()} == set(containerd.ctr("images", "ls", "-q").stdout.split())
    finally:
        await backend.close()


async def test_unanswering_socket_falls_back(tmp_path):
    """A socket file nobody serves: the Version probe fails fast and ctr is used."""
    import socket as socketlib

    path = str(tmp_path / "dead.sock")
    s = socketlib.socket(socketlib.AF_UNIX)
    s.bind(path)  # bound, never listening: connects are refused
    try:
        host = K0sHost(HostSpec(name="n", extra={"containerd_socket": path}), LocalTransport("n"))
        backend = await select_image_backend(host)
        assert isinstance(backend, CtrImageBackend)
        assert "unavailable" in backend.fallback_reason
    finally:
        s.close()
        os.unlink(path)


async def test_cri_v1alpha2_path_and_unknown_api(containerd):
    """The same messages work on containerd 1.6's runtime.v1alpha2; an API nobody serves is a clear error."""
    client = ContainerdClient(containerd.socket)
    try:
        client._cri_api = "runtime.v1alpha2"  # as learnt from a runtime without v1
        version = await client.cri_version()
        assert (version.api, version.runtime_api_version) == ("runtime.v1alpha2", "v1alpha2")
        assert isinstance(await client.list_sandboxes(), list)
        client._cri_api = None
        with pytest.raises(ContainerdError, match="no known CRI API version"):
            await client._cri("NoSuchService", "Version", cri.VersionRequest(), cri.VersionResponse, "probe")
        assert (await client.cri_version()).api == "runtime.v1"
    finally:
        await client.close()

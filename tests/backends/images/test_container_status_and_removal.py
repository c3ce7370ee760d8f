"""On a real containerd (tests/fixtures/containerd.py): CRI ContainerStatus through the gRPC
backend, and removing an image by digest — every ref, the containers using it named, the pause
image of a running sandbox refused unless its name is given — through the session's gate."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from backends.errors import BackendError
from backends.hosts.spec import HostSpec, Inventory
from backends.images.containerd import ContainerdClient, GrpcImageBackend
from backends.images.containerd.gen import containerd_images_pb2 as images_pb2
from backends.images.containerd.gen import cri_v1_pb2 as cri
from backends.images.usage import plan_removal
from backends.k0s.backups import BackupCatalog
from backends.k0s.host import K0sHost
from backends.session.audit import AuditLog
from backends.session.session import ClusterSession
from backends.transport.local import LocalTransport
from tests.fixtures.containerd import CRI_MANAGED, push_random_image

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
async def backend(containerd):
    client = ContainerdClient(containerd.socket, host="local-1")
    yield GrpcImageBackend(client, host="local-1")
    await client.close()


@pytest.fixture
def session(tmp_path: Path, backend):
    spec = HostSpec("local-1", role="controller+worker")
    s = ClusterSession(Inventory("t", [spec]), [K0sHost(spec, LocalTransport("local-1"))],
                       audit=AuditLog(tmp_path / "audit.log"), catalog=BackupCatalog(tmp_path / "b"))
    s.images._backends["local-1"] = backend  # the real containerd of the tests as this host's
    return s


@pytest.fixture
async def pod(backend, containerd):
    """A running sandbox (host network, pause image) with a busybox container sleeping in it."""
    client = backend.client
    await backend.pull(containerd.busybox)
    name = "pod" + secrets.token_hex(3)
    config = cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(name=name, uid=secrets.token_hex(8), namespace="k0s-tui-test"),
        linux=cri.LinuxPodSandboxConfig(security_context=cri.LinuxSandboxSecurityContext(
            namespace_options=cri.NamespaceOption(network=cri.NODE))))
    sandbox_id = await client.run_pod_sandbox(config)
    container_id = ""
    try:
        container_id = await client.create_container(sandbox_id, cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name="sleeper"), image=cri.ImageSpec(image=containerd.busybox),
            command=["/bin/sleep", "300"], labels={"role": "test"}), config)
        await client.start_container(container_id)
        yield name, sandbox_id, container_id
    finally:
        if container_id:
            await client.stop_container(container_id, 0)
            await client.remove_container(container_id)
        await client.stop_pod_sandbox(sandbox_id)
        await client.remove_pod_sandbox(sandbox_id)


def _refs(containerd) -> set[str]:
    return set(containerd.ctr("images", "ls", "-q").stdout.split())


async def test_container_status_through_cri(backend, pod, containerd):
    name, sandbox_id, container_id = pod
    d = await backend.container_details(container_id)
    assert (d.id, d.name, d.state, d.kind, d.source) == (container_id, "sleeper", "running", "container",
                                                         "CRI ContainerStatus")
    busybox = next(i for i in await backend.list_images() if i.ref == containerd.busybox)
    assert d.image == containerd.busybox and d.image_ref.endswith("@" + busybox.digest)  # the repo digest
    assert d.created is not None and d.started is not None and d.started >= d.created
    assert d.exit_code is None and d.restart_count == 0
    assert (d.pod, d.namespace) == (name, "k0s-tui-test")
    assert d.labels.get("role") == "test"
    # The CRI plugin mounts /etc/hosts & co. only for kubelet-made pods; mounts is a real list.
    assert isinstance(d.mounts, list)
    # A sandbox has no ContainerStatus: described from the sandbox list.
    s = await backend.container_details(sandbox_id)
    assert (s.kind, s.state, s.pod, s.source) == ("sandbox", "ready", name, "CRI ListPodSandbox")
    # Stopped: the exit code shows.
    await backend.client.stop_container(container_id, 0)
    d = await backend.container_details(container_id)
    assert d.state == "exited" and d.exit_code is not None and d.finished is not None


async def test_remove_by_digest_names_users_and_refuses_pause(session, backend, pod, containerd):
    _name, _sandbox_id, _container_id = pod
    images = await backend.list_images()
    busybox = next(i for i in images if i.ref == containerd.busybox)
    # A second tag of the same content: removal by digest must take both.
    extra = f"{containerd.registry.addr}/busybox-copy:{secrets.token_hex(3)}"
    src = await backend.client.image_get(containerd.busybox)
    await backend.client.image_create(extra, images_pb2.Descriptor(
        media_type=src.target.media_type, digest=src.target.digest, size=src.target.size), labels=CRI_MANAGED)
    try:
        plan = await session.images.removal_plan("local-1", busybox.digest)
        assert {containerd.busybox, extra} <= set(plan.refs)
        assert [c.name for c in plan.users] == ["sleeper"] and not plan.sandboxes
        # The pause image of the running sandbox.
        pause = next(i for i in await backend.list_images() if i.ref == containerd.pause)
        pplan = await session.images.removal_plan("local-1", pause.digest)
        assert len(pplan.sandboxes) >= 1 and pplan.pause_name == containerd.pause
        with pytest.raises(BackendError, match="pause image of"):
            await session.images.remove_digest("local-1", pause.digest)
        with pytest.raises(BackendError, match="refused"):
            await session.images.remove_digest("local-1", pause.digest, confirm_pause="pause")
        assert containerd.pause in _refs(containerd)  # nothing was removed
        assert not session.audit.path.exists()  # refused before the gate: nothing was attempted
    finally:
        containerd.ctr("images", "rm", extra, check=False)


async def test_remove_by_digest_removes_every_ref_audited(session, backend, containerd):
    ref = push_random_image(containerd, "rmme" + secrets.token_hex(3))
    await backend.pull(ref)
    image = next(i for i in await backend.list_images() if i.ref == ref)
    refs_before = {i.ref for i in await backend.list_images() if i.digest == image.digest}
    assert len(refs_before) >= 2  # CRI pulls add name@sha256 (and the config id) besides the tag
    done = await session.images.remove_digest("local-1", image.digest)
    assert set(done.refs) == refs_before and not done.users
    assert not refs_before & _refs(containerd)
    records = [json.loads(x) for x in session.audit.path.read_text().splitlines()]
    assert [r["result"] for r in records] == ["intent", "ok"]
    assert set(records[0]["details"]["refs"].split(", ")) == refs_before and records[0]["operation"] == "remove image"


def test_plan_on_ctr_rows_counts_pause_containers_as_sandboxes():
    """The `ctr` fallback lists sandboxes as containers running the pause image."""
    from backends.models import Container, Image

    pause = Image(ref="quay.io/k0sproject/pause:3.10.1", media_type="", digest="sha256:" + "1" * 64,
                  size_bytes=1, platforms=())
    app = Image(ref="docker.io/library/nginx:1.27", media_type="", digest="sha256:" + "2" * 64,
                size_bytes=1, platforms=())
    rows = [Container("a", "kube-proxy-x", pause.ref, "running", kind="sandbox"),
            Container("b", "kube-proxy", "quay.io/k0sproject/kube-proxy:v1.33.3", "running"),
            Container("c", "nginx", app.ref, "running")]
    plan = plan_removal("h", pause.digest, [pause, app], rows)
    assert [c.id for c in plan.sandboxes] == ["a"] and plan.pause_name == pause.ref
    plan = plan_removal("h", app.digest, [pause, app], rows)
    assert [c.name for c in plan.users] == ["nginx"] and not plan.sandboxes


def _ctr_k0s(tmp_path: Path, sock: str) -> str:
    """A `k0s` stand-in whose `k0s ctr …` runs the real ctr against the test containerd."""
    path = tmp_path / "k0s"
    path.write_text(f'#!/bin/sh\n[ "$1" = ctr ] || exit 2\nshift\nexec ctr --address "{sock}" -n k8s.io "$@"\n')
    path.chmod(0o755)
    return str(path)


async def test_ctr_fallback_reads_container_records(pod, containerd, tmp_path):
    """`ctr containers info` on the real containerd: the CRI plugin's labels give the pod."""
    from backends.images.ctr import CtrImageBackend

    name, sandbox_id, container_id = pod
    host = K0sHost(HostSpec("ctr-1", k0s_binary=_ctr_k0s(tmp_path, containerd.socket)), LocalTransport("ctr-1"))
    backend = CtrImageBackend(host)
    rows = {c.id: c for c in await backend.containers()}
    row = rows[container_id]
    assert (row.name, row.pod, row.namespace, row.kind, row.state) == ("sleeper", name, "k0s-tui-test",
                                                                        "container", "running")
    assert rows[sandbox_id].kind == "sandbox" and rows[sandbox_id].pod == name
    d = await backend.container_details(container_id)
    assert (d.source, d.name, d.pod, d.state, d.image) == ("ctr containers info", "sleeper", name, "running",
                                                           containerd.busybox)
    assert d.labels.get("role") == "test" and d.created is not None
    assert any(m.container_path == "/proc" for m in d.mounts)  # from the OCI spec
    with pytest.raises(ValueError, match="not a container id"):
        await backend.container_details("--help")

"""The gRPC image backend over SSH: a real sshd forwards the real containerd's socket."""

from __future__ import annotations

import os
import secrets
import stat

import pytest

from backends.images.containerd import GrpcImageBackend
from backends.images.containerd.gen import containerd_images_pb2 as images_pb2
from backends.images.ctr import CtrImageBackend
from backends.images.select import backend_path_label, select_image_backend
from backends.k0s.host import K0sHost
from backends.models import PullProgress
from backends.transport.ssh.transport import SSHTransport
from tests.fixtures.containerd import CRI_MANAGED, push_random_image

pytestmark = pytest.mark.timeout(120)


async def test_operations_through_forwarded_socket(containerd, sshd_server):
    spec = sshd_server.host_spec(name="ssh-node", extra={"containerd_socket": containerd.socket})
    transport = SSHTransport(spec, sshd_server.settings())
    host = K0sHost(spec, transport)
    backend = None
    try:
        backend = await select_image_backend(host)
        assert isinstance(backend, GrpcImageBackend), getattr(backend, "fallback_reason", "")
        assert backend_path_label(backend) == "grpc"
        # the client talks to a local forwarded socket in a private 0700 dir, not to the real one
        assert backend.socket != containerd.socket and backend.remote_socket == containerd.socket
        assert stat.S_IMODE(os.stat(os.path.dirname(backend.socket)).st_mode) == 0o700

        # the listing over the tunnel is what containerd itself holds in k8s.io
        assert {i.ref for i in await backend.list_images()} == set(containerd.ctr("images", "ls", "-q").stdout.split())
        assert (await backend.version()).startswith("1.6")

        ref = push_random_image(containerd, "sshpull" + secrets.token_hex(3), size=64 << 10)
        events: list[PullProgress] = []
        await backend.pull(ref, events.append)
        assert events and events[-1].status == "done" and events[-1].done == events[-1].total
        assert ref in {i.ref for i in await backend.list_images()}
        assert ref in containerd.ctr("images", "ls", "-q").stdout.split()

        labels = await backend.label(ref, {"via": "ssh"})
        assert labels["via"] == "ssh"
        labels = await backend.label(ref, {"via": "tunnel"})
        assert labels["via"] == "tunnel"
        assert "via=tunnel" in containerd.ctr("images", "ls").stdout

        tag = f"{containerd.registry.addr}/sshtag:{secrets.token_hex(3)}"
        src = await backend.client.image_get(ref)
        await backend.client.image_create(tag, images_pb2.Descriptor(
            media_type=src.target.media_type, digest=src.target.digest, size=src.target.size), labels=CRI_MANAGED)
        await backend.remove(tag)
        await backend.remove(ref)
        remaining = set(containerd.ctr("images", "ls", "-q").stdout.split())
        assert ref not in remaining and tag not in remaining

        rows = await backend.containers()
        assert all(r.kind in ("sandbox", "container") for r in rows)
        assert (await backend.image_fs_usage())[0].mountpoint

        # the SSH connection drops: the next call re-forwards (new local socket) and succeeds
        old_socket = backend.socket
        await transport.close()
        assert not os.path.exists(old_socket)
        assert {i.ref for i in await backend.list_images()} == set(containerd.ctr("images", "ls", "-q").stdout.split())
        assert backend.socket != old_socket and os.path.exists(backend.socket)
    finally:
        if backend is not None:
            await backend.close()
        await transport.close()


async def test_non_root_login_falls_back_to_ctr(containerd, sshd_server, sudo_user):
    """A login that cannot open the root-only socket: forwarding fails, ctr (sudo) is used."""
    spec = sshd_server.host_spec(name="user-node", user=sudo_user, extra={"containerd_socket": containerd.socket})
    transport = SSHTransport(spec, sshd_server.settings())
    host = K0sHost(spec, transport, sudo=True)
    try:
        backend = await select_image_backend(host)
        assert isinstance(backend, CtrImageBackend)
        label = backend_path_label(backend)
        assert label == f"ctr (fallback: {containerd.socket} not reachable through SSH (the login user may lack access to it))"
    finally:
        await transport.close()

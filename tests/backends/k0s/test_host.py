"""The k0s adapter over real transports: the in-process demo, local processes, scripted old k0s.

Over SSH: tests/demo/test_over_ssh.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from backends.errors import (
    BackendError,
    CommandFailed,
    K0sNotInstalled,
    K0sNotRunning,
    K0sRunning,
    ReadOnlyRefused,
    ValidationError,
)
from backends.hosts.spec import HostSpec
from backends.images.ctr import CtrImageBackend
from backends.images.select import select_image_backend
from backends.images.refs import validate_image_ref, validate_label
from backends.k0s.host import K0sHost, ServiceState
from backends.transport.local import LocalTransport
from tests.k0s_scripts import prepend_path, write_old_k0s

# ---------------------------------------------------------------------------- validation (pure)


@pytest.mark.parametrize("ref", [
    "busybox", "busybox:1.36", "docker.io/library/busybox:latest", "127.0.0.1:5000/demo/busybox:v1",
    "localhost:5000/a_b__c/d-e:1.0", "quay.io/k0sproject/kube-router@sha256:" + "a" * 64,
    "registry.k8s.io/pause:3.9@sha256:" + "0123456789abcdef" * 4, "sha256:" + "f" * 64,
])
def test_valid_image_refs(ref: str) -> None:
    assert validate_image_ref(ref) == ref


@pytest.mark.parametrize("ref, why", [
    ("", "empty"), ("busy box", "whitespace"), ("a\nb", "whitespace"), ("--help", "start with '-'"),
    ("Busybox:1", "lowercase"), ("docker.io/Library/x", "lowercase"), ("x:bad tag", "whitespace"),
    ("x:" + "t" * 200, "tag"), ("x@sha256:zz", "digest"), ("a//b", "not a valid repository"),
    (":tag", "no repository"), ("x" * 300, "longer than 255"),
])
def test_invalid_image_refs(ref: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        validate_image_ref(ref)


def test_label_rules() -> None:
    validate_label("team", "a")
    validate_label("io.example/owner", "")  # empty value removes a label
    validate_label("k", "[bold]x [/] with spaces")
    validate_label("k" * 100, "v" * (4096 - 100))
    for key, value, why in [
        ("", "v", "empty"), ("a=b", "v", "'='"), ("a b", "v", "whitespace"), ("a\tb", "v", "whitespace"),
        ("-x", "v", "start with '-'"), ("k", "line\nbreak", "control"), ("k" * 100, "v" * 3997, "4096"),
        ("ключ", "з" * 2045, "4096"),  # counted in bytes, not characters
    ]:
        with pytest.raises(ValidationError, match=why):
            validate_label(key, value)


# ---------------------------------------------------------------------------- local processes


def _local(name: str = "c1", role: str = "controller", binary: str = "k0s", **kw) -> K0sHost:
    return K0sHost(HostSpec(name=name, role=role, k0s_binary=binary), LocalTransport(name), **kw)


async def test_not_installed_is_a_state(tmp_path: Path) -> None:
    host = _local(binary=str(tmp_path / "no-such-k0s"))
    with pytest.raises(K0sNotInstalled, match="no k0s binary"):
        await host.status()
    snap = await host.snapshot()
    assert snap.state is ServiceState.NOT_INSTALLED and "no k0s binary" in snap.error
    assert snap.uptime_seconds and snap.uptime_seconds > 0  # the host itself answered


async def test_old_k0s_falls_back_and_remembers(tmp_path: Path, monkeypatch) -> None:
    log = write_old_k0s(tmp_path / "bin")
    prepend_path(monkeypatch, tmp_path / "bin")
    host = _local(role="controller+worker")
    st = await host.status()
    assert st.version == "v1.21.2+k0s.0" and st.pid == 4242 and st.init_system == "linux-openrc"
    rep = await host.sysinfo()
    assert rep.format == "legacy" and rep.status == "warning"
    await host.status()
    await host.sysinfo()
    calls = log.read_text().splitlines()
    # First round tries the modern forms once; the second goes straight to what worked.
    assert calls.count("status -o json") == 1 and calls.count("status") == 2
    assert sum(c.startswith("sysinfo") and "-o json" in c for c in calls) == 1
    assert calls.count("sysinfo") == 2
    snap = await host.snapshot()
    assert snap.state is ServiceState.RUNNING and snap.version == "v1.21.2+k0s.0"
    assert snap.uptime_seconds is not None and snap.uptime_seconds > 0


async def test_old_k0s_not_running_and_failed_start_shows_init_status(tmp_path: Path, monkeypatch) -> None:
    write_old_k0s(tmp_path / "bin", running=False)
    prepend_path(monkeypatch, tmp_path / "bin")
    host = _local()
    with pytest.raises(K0sNotRunning):
        await host.status()
    snap = await host.snapshot()
    assert snap.state is ServiceState.STOPPED and "not running" in snap.error.lower()
    with pytest.raises(CommandFailed) as info:
        await host.start()
    msg = str(info.value)
    # k0s's terse message and OpenRC's own words (systemctl here cannot talk to PID 1).
    assert "service in failed state" in msg and "status: crashed" in msg
    text = await host.service_status_text()
    assert "crashed" in text


async def test_restore_refused_while_running(tmp_path: Path, monkeypatch) -> None:
    log = write_old_k0s(tmp_path / "bin")
    prepend_path(monkeypatch, tmp_path / "bin")
    archive = tmp_path / "x.tar.gz"
    archive.write_bytes(b"x")
    with pytest.raises(K0sRunning, match="k0s is running on c1; stop it first"):
        await _local().restore_from(archive)
    assert not any(c.startswith("restore") for c in log.read_text().splitlines())


# ---------------------------------------------------------------------------- the in-process demo

from backends.k0s import parsers  # noqa: E402
from backends.demo import DemoCluster, DemoTransport, demo_inventory  # noqa: E402
from backends.errors import HostUnreachable, OutputParseError  # noqa: E402
from backends.k0s.host import apply_kube_readiness  # noqa: E402


def _demo(**kw) -> tuple[DemoCluster, dict[str, K0sHost]]:
    cluster = DemoCluster(pull_duration=0.05, **kw)
    hosts = {s.name: K0sHost(s, DemoTransport(cluster, s.demo, latency=(0, 0), host=s.name))
             for s in demo_inventory(cluster).hosts}
    return cluster, hosts


async def test_demo_status_version_members_nodes() -> None:
    cluster, hosts = _demo()
    c1 = hosts["controller-1"]
    st = await c1.status()
    assert st.role == "controller" and st.pid == cluster.node("controller-1").pid
    assert st.version == await c1.version() and st.version.startswith("v1.")
    assert c1._status_json is True
    members = await c1.etcd_members()
    assert [m.name for m in members] == ["controller-1", "controller-2", "controller-3"]
    nodes = await c1.kube_nodes()
    # every node kubelet registered: the workers (pure controllers run no kubelet), stopped ones too
    assert sorted(n.name for n in nodes) == [n.name for n in cluster.nodes.values() if n.role == "worker"]
    with pytest.raises(BackendError, match="worker-1: kubectl runs on controllers only"):
        await hosts["worker-1"].kube_nodes()
    snaps = await asyncio.gather(*(h.snapshot() for h in hosts.values()))
    apply_kube_readiness(list(snaps), nodes)
    by = {s.name: s for s in snaps}
    assert by["worker-1"].kube_ready is True and by["worker-1"].kubelet_version
    stopped = [s for s in snaps if s.state is ServiceState.STOPPED]
    assert [s.name for s in stopped] == [n.name for n in cluster.workers if not n.running]
    assert all(s.kube_ready is False for s in stopped)


async def test_demo_sysinfo_json_and_failing_probe_is_a_report() -> None:
    _, hosts = _demo()
    reports = {name: await h.sysinfo() for name, h in hosts.items() if hosts[name].spec.role == "worker"}
    for name, rep in reports.items():
        # `-o json` arrived in k0s 1.32: the lagging worker answers in text, and that is remembered.
        modern = parsers.version_tuple(await hosts[name].version()) >= (1, 32)
        assert rep.format == ("json" if modern else "text"), name
        assert hosts[name]._sysinfo_mode == rep.format
    assert {r.format for r in reports.values()} == {"json", "text"}
    failing = [n for n, r in reports.items() if r.status in ("rejected", "error")]
    assert len(failing) == 1  # the demo's one worker that fails a probe: a report, not an exception
    bad = reports[failing[0]]
    assert any(p.status in ("rejected", "error") and p.name for p in bad.probes)
    ctrl = await hosts["controller-1"].sysinfo()
    assert ctrl.probes and ctrl.status in ("pass", "warning")


async def test_demo_images_pull_label_remove() -> None:
    cluster, hosts = _demo()
    w = hosts["worker-1"]
    before = await CtrImageBackend(w).list_images()
    assert before and all(i.digest.startswith("sha256:") for i in before)
    assert not any("redis" in i.ref for i in before)
    seen = []
    await CtrImageBackend(w).pull("docker.io/library/redis:7", seen.append)
    assert seen[0].status in ("resolving", "resolved") and seen[-1].status == "done"
    assert seen[-1].total and seen[-1].done == seen[-1].total
    dones = [p.done for p in seen if p.total]
    assert dones == sorted(dones) and len(set(dones)) > 1  # progress moved, never backwards
    after = await CtrImageBackend(w).list_images()
    assert "docker.io/library/redis:7" in {i.ref for i in after}
    labels = await CtrImageBackend(w).label("docker.io/library/redis:7", {"team": "[bold]x", "io.example/y": "1"})
    assert labels["team"] == "[bold]x" and labels["io.example/y"] == "1"
    again = {i.ref: i for i in await CtrImageBackend(w).list_images()}
    assert again["docker.io/library/redis:7"].labels["team"] == "[bold]x"
    await CtrImageBackend(w).remove("docker.io/library/redis:7")
    assert "docker.io/library/redis:7" not in {i.ref for i in await CtrImageBackend(w).list_images()}
    assert (await select_image_backend(w)).path == "ctr"  # the demo has no sockets
    cons = await CtrImageBackend(w).containers()
    assert cons and all(c.id and c.image for c in cons) and {c.state for c in cons} == {"running"}


async def test_demo_invalid_input_refused_before_sending() -> None:
    cluster, hosts = _demo()
    w = hosts["worker-1"]
    state = cluster.to_json()
    with pytest.raises(ValidationError, match="whitespace"):
        await CtrImageBackend(w).pull("busybox latest")
    with pytest.raises(ValidationError, match="'='"):
        await CtrImageBackend(w).label("docker.io/library/redis:7", {"a=b": "c"})
    with pytest.raises(ValidationError, match="start with '-'"):
        await CtrImageBackend(w).remove("--all")
    assert cluster.to_json() == state


async def test_demo_stop_start_and_snapshot() -> None:
    cluster, hosts = _demo()
    w = hosts["worker-2"]
    old_pid = (await w.status()).pid
    await w.stop()
    snap = await w.snapshot()
    assert snap.state is ServiceState.STOPPED and "not running" in snap.error
    assert snap.version and snap.uptime_seconds and snap.uptime_seconds > 0
    with pytest.raises(K0sNotRunning):
        await CtrImageBackend(w).list_images()  # containerd is gone with k0s: a state, said so
    await w.start()
    snap = await w.snapshot()
    assert snap.state is ServiceState.RUNNING and snap.status and snap.status.pid != old_pid
    await w.restart()
    assert (await w.status()).pid not in (old_pid, snap.status.pid)


async def test_demo_readonly_session_leaves_cluster_untouched(tmp_path: Path) -> None:
    """Read-only is refused by the session's gate (the adapter has no switch of its own)."""
    from backends.k0s.backups import BackupCatalog
    from backends.session.audit import AuditLog
    from backends.session.session import ClusterSession

    cluster, hosts = _demo()
    session = ClusterSession(demo_inventory(cluster), list(hosts.values()), readonly=True,
                             audit=AuditLog(tmp_path / "audit.log"), catalog=BackupCatalog(tmp_path / "b"))
    state = cluster.to_json()
    ref = "docker.io/library/redis:7"
    for op in (session.cluster.service("stop", ["worker-1"]), session.cluster.service("restart", ["worker-1"]),
               session.images.pull(["worker-1"], ref), session.images.label("worker-1", ref, {"a": "b"}),
               session.images.remove(["worker-1"], ref), session.backups.backup_now()):
        with pytest.raises(ReadOnlyRefused):
            await op
    assert cluster.to_json() == state
    assert (await hosts["worker-1"].status()).version  # reading still works


async def test_demo_unreachable_snapshot() -> None:
    _, hosts = _demo()
    w = hosts["worker-1"]
    await w.transport.close()
    snap = await w.snapshot()
    assert snap.state is ServiceState.UNREACHABLE and "closed" in snap.error
    with pytest.raises(HostUnreachable):
        await w.status()


async def test_malformed_output_is_output_parse_error(tmp_path: Path, monkeypatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "k0s"
    script.write_text('#!/bin/sh\ncase "$1" in\n  status) echo "{ this is not json";;\n'
                      '  version) echo "garbage version";;\n  ctr) echo "REF TYPE";echo "?? ??";;\nesac\n')
    script.chmod(0o755)
    prepend_path(monkeypatch, bindir)
    host = _local()
    with pytest.raises(OutputParseError, match="c1: could not read `k0s status` output.*this is not json"):
        await host.status()
    with pytest.raises(OutputParseError, match="k0s version"):
        await host.version()
    snap = await host.snapshot()
    assert snap.state is ServiceState.UNKNOWN and "could not read" in snap.error
    assert snap.extra["error_kind"] == "parse-error"


# ---------------------------------------------------------------------------- local + stand-in

from backends.demo import write_standin  # noqa: E402


@pytest.mark.timeout(60)
async def test_local_transport_with_standin_on_path(tmp_path: Path, monkeypatch) -> None:
    state = tmp_path / "state.json"
    state.write_text(DemoCluster(pull_duration=0.1).to_json())
    write_standin(tmp_path / "bin", state, "worker-2")
    prepend_path(monkeypatch, tmp_path / "bin")
    host = _local(name="worker-2", role="worker")
    st = await host.status()
    assert st.role == "worker" and st.pid == DemoCluster.from_json(state.read_text()).node("worker-2").pid
    seen = []
    await CtrImageBackend(host).pull("docker.io/library/alpine:3.20", seen.append)
    assert seen and seen[-1].status == "done"
    assert "docker.io/library/alpine:3.20" in {i.ref for i in await CtrImageBackend(host).list_images()}
    await host.stop()
    assert not DemoCluster.from_json(state.read_text()).node("worker-2").running  # persisted
    snap = await host.snapshot()
    assert snap.state is ServiceState.STOPPED
    await host.start()
    assert (await host.status()).pid != st.pid  # a new process


@pytest.mark.parametrize("stderr, status, missing", [
    ("sudo: k0s: command not found", 1, True),          # sudo -n k0s … without k0s
    ("sh: 1: k0s: not found", 127, True),                # a remote /bin/sh
    ('ctr: failed to dial "/run/k0s/containerd.sock": connect: no such file or directory', 1, False),
    ("Error: open /var/lib/k0s/pki/ca.crt: no such file or directory", 1, False),
])
async def test_not_installed_recognised_only_for_the_binary(tmp_path: Path, monkeypatch, stderr: str,
                                                            status: int, missing: bool) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "k0s"
    (bindir / "err.txt").write_text(stderr + "\n")
    script.write_text(f"#!/bin/sh\ncat '{bindir}/err.txt' >&2\nexit {status}\n")
    script.chmod(0o755)
    prepend_path(monkeypatch, bindir)
    host = _local()
    if missing:
        with pytest.raises(K0sNotInstalled):
            await host.version()
    else:
        with pytest.raises(CommandFailed, match="no such file"):
            await host.version()


# ---------------------------------------------------------------------------- validation, fuzzed

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_image_ref_validation_total(ref: str) -> None:
    """Any text is either accepted (and then safe as one argv word) or refused with ValidationError."""
    try:
        validate_image_ref(ref)
    except ValidationError as exc:
        assert str(exc)
    else:
        assert ref and not ref.startswith("-") and not any(c.isspace() or ord(c) < 32 for c in ref)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40))
def test_label_validation_total(key: str, value: str) -> None:
    try:
        validate_label(key, value)
    except ValidationError as exc:
        assert str(exc)
    else:
        assert key and "=" not in key and not any(c.isspace() for c in key)
        assert not any(ord(c) < 32 or ord(c) == 127 for c in key + value)


async def test_restart_of_a_stopped_node_starts_it() -> None:
    """`k0s stop` answers "already stopped" on a stopped node: restart must still start it."""
    cluster, hosts = _demo()
    w = hosts["worker-5"]  # stopped in the default demo
    with pytest.raises(K0sNotRunning):
        await w.status()
    await w.restart()
    assert (await w.snapshot()).state is ServiceState.RUNNING


async def test_unknown_role_is_learned_from_status() -> None:
    """Hosts from --ssh start as role "unknown"; `k0s status` tells the adapter what they are."""
    import dataclasses
    cluster, hosts = _demo()
    c1 = hosts["controller-1"]
    c1.spec = dataclasses.replace(c1.spec, role="unknown")
    assert not c1.spec.is_controller
    await c1.status()
    assert c1.spec.role in ("controller", "controller+worker", "single") and c1.spec.is_controller

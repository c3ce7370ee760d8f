"""Node conditions from `kubectl get nodes -o json`, readiness kept per host, `ctr containers
info` records, and the ctr pull progress totals (issue 15)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.k0s.parsers import ParseError, parse_kube_nodes, parse_pull_progress
from backends.k0s.parsers.ctr_info import parse_ctr_container_info

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _not_ready_nodes() -> str:
    data = json.loads((SAMPLES / "kube_nodes.json").read_text())
    node = data["items"][0]
    for c in node["status"]["conditions"]:
        if c["type"] == "Ready":
            c.update(status="False", reason="KubeletNotReady",
                     message="container runtime network not ready: cni plugin not initialized",
                     lastTransitionTime="2024-05-02T10:00:00Z")
        if c["type"] == "DiskPressure":
            c["status"] = "True"
    return json.dumps(data)


def test_conditions_parsed_and_not_ready_reason() -> None:
    node = parse_kube_nodes(_not_ready_nodes())[0]
    assert node.ready is False
    types = [c.type for c in node.conditions]
    assert types == ["MemoryPressure", "DiskPressure", "PIDPressure", "Ready"]
    ready = node.conditions[-1]
    assert ready.last_transition == datetime(2024, 5, 2, 10, tzinfo=timezone.utc)
    assert node.not_ready_reason == ("KubeletNotReady: container runtime network not ready: cni plugin "
                                     "not initialized; DiskPressure")
    ok = parse_kube_nodes((SAMPLES / "kube_nodes.json").read_text())[0]
    assert ok.ready and ok.not_ready_reason == ""


def test_condition_count_and_text_are_bounded() -> None:
    data = json.loads((SAMPLES / "kube_nodes.json").read_text())
    data["items"][0]["status"]["conditions"] += [
        {"type": f"X{i}", "status": "True", "message": "m" * 5000, "lastTransitionTime": "not a time"}
        for i in range(1000)]
    node = parse_kube_nodes(json.dumps(data))[0]
    assert len(node.conditions) == 32 and all(len(c.message) <= 1000 for c in node.conditions)
    assert all(c.last_transition is None for c in node.conditions if c.type.startswith("X"))


def test_readiness_kept_in_the_nodes_service() -> None:
    """The service keeps a controller's answer for a host whose own snapshot comes alone."""
    import asyncio

    from backends.demo import DemoCluster, demo_inventory, demo_transports
    from backends.session.session import ClusterSession

    now = [datetime(2026, 11, 27, 12, tzinfo=timezone.utc)]
    demo = DemoCluster(clock=lambda: now[0])
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: now[0])

    async def run() -> None:
        await session.nodes.refresh()
        worker = next(s.name for s in session.nodes.snapshots() if s.kube_ready)
        first = now[0]
        now[0] += timedelta(seconds=40)
        snap = await session.nodes.refresh_one(worker)  # a worker answering before any controller
        assert snap.kube_ready is True and snap.kubelet_version and snap.kube_at == first
        assert session.nodes.readiness_of(worker).at == first
        await session.nodes.refresh()  # the controllers answer again: newer
        assert session.nodes.snapshot_of(worker).kube_at == now[0]
        await session.close()
    asyncio.run(run())


INFO = {
    "ID": "abc123", "Image": "docker.io/library/nginx:1.27",
    "Labels": {"io.cri-containerd.kind": "container", "io.kubernetes.pod.name": "web-1",
               "io.kubernetes.pod.namespace": "default", "io.kubernetes.container.name": "nginx"},
    "CreatedAt": "2026-11-01T10:00:00.123456789Z",
    "Spec": {"mounts": [{"destination": "/data", "source": "/var/lib/x", "options": ["rbind", "ro"]},
                        {"destination": "/tmp", "source": "tmpfs"}]},
}


def test_ctr_container_info() -> None:
    d = parse_ctr_container_info(json.dumps(INFO), "running")
    assert (d.id, d.name, d.pod, d.namespace, d.kind, d.state) == ("abc123", "nginx", "web-1", "default",
                                                                   "container", "running")
    assert [(m.container_path, m.host_path, m.readonly) for m in d.mounts] == [("/data", "/var/lib/x", True),
                                                                                 ("/tmp", "tmpfs", False)]
    assert d.created is not None and d.created.year == 2026


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"ID": 3}', '{"ID": "x", "Labels": []}', "{bad"])
def test_ctr_container_info_unreadable(text: str) -> None:
    with pytest.raises(ParseError):
        parse_ctr_container_info(text)


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                    max_leaves=20))
def test_ctr_container_info_raises_only_parse_error(value) -> None:
    record = {"ID": "x", "Labels": {}, "Spec": value} if isinstance(value, dict) else value
    try:
        parse_ctr_container_info(json.dumps(record))
    except ParseError:
        pass


def test_ctr_progress_line_gives_done_and_total() -> None:
    line = ("layer-sha256:" + "a" * 64 + ":    downloading    |+++++++++++++-------------------------|"
            "  1.2 MiB/3.4 MiB")
    p = parse_pull_progress(line)
    assert p is not None and p.status == "downloading"
    assert p.done == int(1.2 * 1024 * 1024) and p.total == int(3.4 * 1024 * 1024)


def test_progress_note_figures() -> None:
    from widgets.activity import progress_note

    assert progress_note("downloading", 1 << 20, 4 << 20) == "downloading  1.0 MiB/4.0 MiB  25%"
    assert progress_note("downloading", 512, None) == "downloading  512 B"
    assert progress_note("resolving", 0, None) == "resolving"


def test_header_drops_least_important_first() -> None:
    from widgets.header import HeaderInfo, fit_parts

    info = HeaderInfo(cluster="prod", reachable=8, total=8, controllers_running=3, controllers=3,
                      workers_ready=5, workers=5, sysinfo="pass", backup_age="3h ago",
                      cert_expiry="in 300d (c-1)", drift="all 8 hosts on v1.33.3+k0s.0", drift_short="all on v1.33.3")
    wide = [t for t, _ in fit_parts(info, 300)]
    assert wide[1] == "controllers 3/3 up" and "certs in 300d (c-1)" in wide
    for width in (120, 100, 80, 60, 40, 20):
        shown = [t for t, _ in fit_parts(info, width)]
        assert shown[0] == "hosts 8/8"
        assert len("prod") + sum(3 + len(t) for t in shown) <= width or len(shown) == 1
    assert not any(t.startswith(("bkp", "backup")) for t, _ in fit_parts(info, 80))


def test_remove_digest_refused_read_only_before_listing(tmp_path) -> None:
    import asyncio

    from backends.demo import DemoCluster, demo_inventory, demo_transports
    from backends.errors import ReadOnlyRefused
    from backends.session.session import ClusterSession

    demo = DemoCluster()
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), readonly=True,
                                  audit_path=tmp_path / "audit.log")

    async def run() -> None:
        with pytest.raises(ReadOnlyRefused):
            await session.images.remove_digest("worker-1", "sha256:" + "0" * 64)
        assert session.images.latest("worker-1") is None and "worker-1" not in session.images._backends
        await session.close()
    asyncio.run(run())
    [record] = (tmp_path / "audit.log").read_text().splitlines()
    assert '"remove image"' in record and "refused" in record

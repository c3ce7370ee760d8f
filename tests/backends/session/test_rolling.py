"""The rolling restart on the demo cluster: one host at a time, controllers first, each gated
before the next; a slow controller waited for; the roll stops at worker-4 (NotReady after a
restart) and leaves the rest untouched; cancel stops after the current host."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.session.session import ClusterSession

pytestmark = pytest.mark.timeout(60)


def demo_session(tmp_path: Path) -> tuple[DemoCluster, ClusterSession]:
    cluster = DemoCluster()
    session = ClusterSession.open(demo_inventory(cluster), simulated=demo_transports(cluster),
                                  audit_path=tmp_path / "audit.log")
    for host in session.hosts.values():
        host.transport.latency = (0.0, 0.0)
    session.cluster.poll = 0.05
    session.cluster.host_deadline = 5.0
    return cluster, session


class Notes:
    """Every progress note, in order: (host, note)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, host: str, index: int, total: int, note: str) -> None:
        self.seen.append((host, note))

    def index(self, host: str, note: str) -> int:
        return next(i for i, (h, n) in enumerate(self.seen) if h == host and n.startswith(note))


async def test_controllers_roll_one_at_a_time_waiting_for_the_slow_one(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    pids = {c: cluster.node(c).pid for c in session.controllers()}
    notes = Notes()
    result = await session.cluster.rolling_restart(["controller-3", "worker-1", "controller-1", "controller-2"],
                                                   progress=notes)
    assert result.ok, result.summary()
    assert result.order == ["controller-1", "controller-2", "controller-3", "worker-1"]  # controllers first
    assert [s.host for s in result.steps] == result.order and result.untouched == []
    assert all(cluster.node(c).pid != pids[c] for c in pids)  # each really restarted
    # Gated: a host is restarted only once the one before it is back.
    for before, after in zip(result.order, result.order[1:]):
        assert notes.index(before, "back") < notes.index(after, "restarting")
    # controller-2 comes back slowly: its kube-api gate was waited for; the others' not.
    waits = {h for h, n in notes.seen if n.startswith("waiting: kube-api")}
    assert waits == {"controller-2"}
    # worker-1 was drained before and uncordoned after.
    assert notes.index("worker-1", "draining") < notes.index("worker-1", "restarting") \
        < notes.index("worker-1", "uncordoning")
    assert not cluster.node("worker-1").unschedulable
    recs = [json.loads(x) for x in (tmp_path / "audit.log").read_text().splitlines()]
    roll = [r for r in recs if r["operation"] == "rolling restart" and r["result"] != "intent"]
    assert [r["hosts"] for r in roll] == [[h] for h in result.order]
    assert all(r["result"] == "ok" for r in roll)


async def test_workers_roll_stops_at_worker_4_and_leaves_the_rest(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    session.cluster.host_deadline = 1.0
    pid5 = cluster.node("worker-5").pid
    result = await session.cluster.rolling_restart([w.name for w in cluster.workers])
    assert not result.ok
    bad = result.stopped_at
    assert bad is not None and bad.host == "worker-4" and bad.failed_gate == "node Ready"
    assert "did not come back within 1s (node worker-4 is NotReady)" == bad.message
    assert [s.host for s in result.steps if s.ok] == ["worker-1", "worker-2", "worker-3"]
    assert result.untouched == ["worker-5"]
    assert cluster.node("worker-5").pid == pid5 and not cluster.node("worker-5").running  # untouched
    assert "stopped at worker-4" in result.summary() and "left untouched: worker-5" in result.summary()
    recs = [json.loads(x) for x in (tmp_path / "audit.log").read_text().splitlines()]
    last = recs[-1]
    assert last["hosts"] == ["worker-4"] and last["result"] == "error" and "node Ready" in last["error"]


async def test_cancel_stops_after_the_current_host(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    cancel = asyncio.Event()
    pid3 = cluster.node("controller-3").pid

    def progress(host: str, index: int, total: int, note: str) -> None:
        if host == "controller-1" and note == "restarting k0s":
            cancel.set()  # asked while controller-1 restarts: it finishes, nothing after
    result = await session.cluster.rolling_restart(session.controllers(), progress=progress, cancel=cancel)
    assert result.cancelled and not result.ok
    assert [s.host for s in result.steps] == ["controller-1"] and result.steps[0].ok
    assert result.untouched == ["controller-2", "controller-3"]
    assert cluster.node("controller-3").pid == pid3


async def test_roll_refused_where_one_restart_breaks_quorum(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    await session.cluster.service("stop", ["controller-3"])
    pid1 = cluster.node("controller-1").pid
    result = await session.cluster.rolling_restart(["controller-1", "controller-2"])
    bad = result.stopped_at
    assert bad is not None and bad.host == "controller-1" and bad.failed_gate == "quorum"
    assert "2 running" in bad.message and "a quorum needs 2" in bad.message
    assert result.untouched == ["controller-2"] and result.steps == [bad]
    assert cluster.node("controller-1").pid == pid1  # refused before anything was done
    # --force goes through the roll (each override audited).
    forced = await session.cluster.rolling_restart(["controller-1"], force=True)
    assert forced.ok and cluster.node("controller-1").pid != pid1


async def test_renew_roll_rescans_the_new_dates(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    old = {c: (await session.certs.scan(c)) and session.certs.expiry_of(c) for c in session.controllers()}
    candidates = await session.cluster.renew_candidates()
    assert candidates == ["controller-3"]  # up 360 days: its leaves expire within the window
    result = await session.cluster.rolling_restart(candidates, renew=True)
    assert result.ok
    new = session.certs.expiry_of("controller-3")
    assert new is not None and old["controller-3"] is not None and (new - old["controller-3"]).days > 300
    assert session.certs.expiry_of("controller-1") == old["controller-1"]  # not touched

"""Quorum and health awareness: what a stop/restart leaves running (pure assessment, then the
demo cluster through the session: refusal, audited override, drain, kine single controller)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.k0s.lock import HostLock
from backends.session.quorum import ClusterPicture, QuorumRefused, assess
from backends.session.session import ClusterSession

CTL = ["c1", "c2", "c3"]


def three(running: dict[str, bool]) -> ClusterPicture:
    return ClusterPicture(controllers=running, members=[(h, h) for h in CTL], storage="etcd",
                          workers={"w1": True, "w2": True, "w3": False})


def test_one_down_stopping_two_more_is_refused_with_the_counts() -> None:
    pic = three({"c1": True, "c2": True, "c3": False})
    a = assess(pic, "stop", ["c1", "c2"])
    assert a.refused
    assert (a.etcd_members, a.etcd_running, a.etcd_down, a.quorum) == (3, 2, 2, 2)
    assert "3 members, 2 running" in a.refusal and "takes 2 down, leaving 0" in a.refusal
    assert "a quorum needs 2" in a.refusal


def test_stopping_one_of_three_is_allowed_and_says_what_is_left() -> None:
    a = assess(three({"c1": True, "c2": True, "c3": True}), "restart", ["c1"])
    assert not a.refused
    assert a.lines() == ["etcd: 3 of 3 members running; restarting takes 1 down, leaving 2 (a quorum needs 2)"]


def test_one_down_even_one_more_is_refused_but_start_never_is() -> None:
    pic = three({"c1": True, "c2": False, "c3": False})
    assert assess(pic, "stop", ["c1"]).refused  # 1 of 3 running: already below quorum
    assert not assess(pic, "start", ["c2", "c3"]).refused
    # Stopping a controller that is already down takes nothing down.
    assert not assess(pic, "stop", ["c2"]).refused


def test_members_outside_the_inventory_count_as_not_running() -> None:
    pic = ClusterPicture(controllers={"c1": True, "c2": True}, storage="etcd",
                         members=[("c1", "c1"), ("c2", "c2"), ("far-away", None)])
    a = assess(pic, "stop", ["c1"])
    assert a.refused and "3 members, 2 running" in a.refusal
    assert "etcd: 1 member not in the inventory, counted as not running" in a.notes


def test_kine_single_controller_stop_is_a_full_outage() -> None:
    pic = ClusterPicture(controllers={"c1": True}, storage="kine")
    a = assess(pic, "stop", ["c1"])
    assert not a.refused
    assert a.notes == ["single controller with kine/SQLite: stopping c1 is a FULL OUTAGE of the Kubernetes "
                       "API (workloads keep running, nothing can be changed or scheduled)"]


def test_workers_ready_left_and_drain_offer() -> None:
    a = assess(three({"c1": True, "c2": True, "c3": True}), "stop", ["w1", "w3"])
    assert (a.workers_ready, a.workers_ready_after, a.drainable) == (2, 1, ["w1"])
    assert a.notes == ["Ready workers: 2 of 3 now, 1 while stopping lasts; drain first moves pods off w1"]


def test_a_host_k0sctl_holds_is_left_out_with_the_reason() -> None:
    pic = three({"c1": True, "c2": True, "c3": True})
    pic.locks["w1"] = HostLock("/run/lock/k0sctl", 4)
    a = assess(pic, "stop", ["w1", "w2"])
    assert a.targets == ["w2"]
    assert a.locked == {"w1": "w1: k0sctl is working on this host (lock /run/lock/k0sctl touched 4s ago); "
                              "not touched"}


# ---------------------------------------------------------------- the demo through the session


def demo_session(tmp_path: Path, **kw) -> tuple[DemoCluster, ClusterSession]:
    cluster = DemoCluster(**kw)
    session = ClusterSession.open(demo_inventory(cluster), simulated=demo_transports(cluster),
                                  audit_path=tmp_path / "audit.log", backup_dir=tmp_path / "backups")
    for host in session.hosts.values():
        host.transport.latency = (0.0, 0.0)
    return cluster, session


def records(tmp_path: Path) -> list[dict]:
    return [json.loads(x) for x in (tmp_path / "audit.log").read_text().splitlines()]


async def test_demo_three_controllers_one_down_stop_two_refused_then_override_audited(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    await session.cluster.service("stop", ["controller-3"])
    with pytest.raises(QuorumRefused) as refused:
        await session.cluster.service("stop", ["controller-1", "controller-2"])
    assert "etcd has 3 members, 2 running" in refused.value.message
    assert "takes 2 down, leaving 0 — a quorum needs 2" in refused.value.message
    assert cluster.node("controller-1").running and cluster.node("controller-2").running  # nothing done
    last = records(tmp_path)[-1]
    assert last["operation"] == "stop" and last["result"] == "error" and last["error"].startswith("refused: etcd")
    # The override goes on, and the audit says it was one (intent and result).
    results = await session.cluster.service("stop", ["controller-1", "controller-2"], force=True)
    assert [r.ok for r in results] == [True, True]
    assert not cluster.node("controller-1").running and not cluster.node("controller-2").running
    intent, outcome = records(tmp_path)[-2:]
    for rec in (intent, outcome):
        assert rec["hosts"] == ["controller-1", "controller-2"] and rec["details"]["force"] == "True"
        assert rec["details"]["override"].startswith("refused: etcd has 3 members, 2 running")
    assert intent["result"] == "intent" and outcome["result"] == "ok"


async def test_demo_dialog_assessment_needs_no_io(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    await session.nodes.refresh()
    cluster.node("controller-3").running = False  # not seen yet: the dialog goes by what is known
    a = session.cluster.assess_known("stop", ["controller-1", "controller-2"])
    assert a.refused and "3 running" in a.refusal
    fresh = await session.cluster.assess("stop", ["controller-1", "controller-2"])
    assert fresh.refused and "2 running" in fresh.refusal  # the action itself looks again


async def test_demo_drain_before_stop_and_uncordon_after_start(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    [stopped] = await session.cluster.service("stop", ["worker-1"], drain=True)
    assert stopped.ok and cluster.node("worker-1").unschedulable and not cluster.node("worker-1").running
    assert records(tmp_path)[-1]["details"]["drain"] == "True"
    [started] = await session.cluster.service("start", ["worker-1"], drain=True)
    assert started.ok and not cluster.node("worker-1").unschedulable and cluster.node("worker-1").running


async def test_demo_kine_single_controller(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path, controllers=1, workers=2, storage="kine")
    a = await session.cluster.assess("stop", ["controller-1"])
    assert not a.refused and any("FULL OUTAGE" in line for line in a.lines())


async def test_readonly_refuses_before_looking(tmp_path: Path) -> None:
    from backends.errors import ReadOnlyRefused

    cluster, session = demo_session(tmp_path)
    session.readonly = True
    before = cluster.to_json()
    with pytest.raises(ReadOnlyRefused):
        await session.cluster.service("stop", ["worker-1"], force=True)
    with pytest.raises(ReadOnlyRefused):
        await session.cluster.rolling_restart(["worker-1"])
    assert cluster.to_json() == before

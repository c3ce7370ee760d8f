"""Autopilot plans: real Plan JSON shapes (autopilot.k0sproject.io/v1beta2) parsed, bounded;
the demo's plan in progress; a cluster without the CRD says "no autopilot"; over real sshd."""

from __future__ import annotations

import json

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports, write_standin
from backends.k0s import parsers
from backends.k0s.autopilot import fetch_plans
from backends.k0s.host import K0sHost
from backends.session.autopilot import autopilot_plans
from backends.session.session import ClusterSession
from backends.transport.ssh.transport import SSHTransport
from tests.tui_support import FROZEN
from tests.files import SAMPLES



def test_parse_list_with_k0supdate_and_airgapupdate() -> None:
    [plan] = parsers.parse_plans((SAMPLES / "plans_k0supdate.json").read_text())
    assert (plan.name, plan.id, plan.state) == ("autopilot", "id123", "SchedulableWait")
    assert plan.created == "2025-06-12T08:14:03Z" and plan.versions == ["v1.33.3+k0s.0"]
    k0s, airgap = plan.commands
    assert (k0s.kind, k0s.version, k0s.state, k0s.force) == ("k0supdate", "v1.33.3+k0s.0", "SchedulableWait", True)
    assert [(t.role, t.name, t.state) for t in k0s.targets] == [
        ("controller", "ctl0", "SignalCompleted"), ("controller", "ctl1", "SignalSent"),
        ("worker", "wk0", "SignalPending"), ("worker", "wk1", "SignalMissingPlatform")]
    assert k0s.targets[3].description == "no platform linux-arm64 in the plan"
    assert k0s.targets[0].updated == "2025-06-12T08:16:40Z"
    assert airgap.kind == "airgapupdate" and [(t.role, t.name) for t in airgap.targets] == [("worker", "wk0")]


def test_parse_single_plan_object_without_target_status() -> None:
    [plan] = parsers.parse_plans((SAMPLES / "plan_incomplete_targets.json").read_text())
    assert plan.state == "IncompleteTargets" and plan.commands[0].description == "controller9"
    assert plan.commands[0].targets == [] and plan.commands[0].version == "v1.32.6+k0s.0"


def test_parse_a_fresh_plan_with_no_status_yet() -> None:
    doc = json.loads((SAMPLES / "plan_incomplete_targets.json").read_text())
    del doc["status"]
    [plan] = parsers.parse_plans(json.dumps({"apiVersion": "v1", "kind": "List", "items": [doc]}))
    assert plan.state == "" and plan.commands[0].state == "" and plan.commands[0].targets == []


@pytest.mark.parametrize("text", [
    "", "not json", "[]", '{"kind": "List"}', '{"kind": "List", "items": {}}',
    '{"kind": "List", "items": [{"apiVersion": "v1", "kind": "Node"}]}',
    '{"kind": "List", "items": [{"spec": {"commands": "k0supdate"}}]}',
    '{"kind": "List", "items": [{"spec": {"commands": [{"k0supdate": {"version": {"x": 1}}}]}}]}',
    '{"kind": "List", "items": [{"spec": {"commands": [{"k0supdate": {}}]}, '
    '"status": {"commands": [{"id": 0, "k0supdate": {"workers": [5]}}]}}]}',
    "[" * 100_000,
])
def test_parse_rejects_bad_shapes_with_parse_error(text: str) -> None:
    with pytest.raises(parsers.ParseError):
        parsers.parse_plans(text)


def test_parse_is_bounded() -> None:
    many = {"kind": "List", "items": [{"kind": "Plan"}] * (parsers.autopilot.MAX_PLANS + 1)}
    with pytest.raises(parsers.ParseError, match="more than"):
        parsers.parse_plans(json.dumps(many))
    with pytest.raises(parsers.ParseError, match="larger than"):
        parsers.parse_plans(" " * (parsers.autopilot.MAX_BYTES + 1))


def test_hostile_text_is_kept_as_text_and_cut() -> None:
    doc = json.loads((SAMPLES / "plan_incomplete_targets.json").read_text())
    doc["status"]["commands"][0]["description"] = "\x1b[31m" + "x" * 5000
    [plan] = parsers.parse_plans(json.dumps(doc))
    assert len(plan.commands[0].description) == parsers.autopilot.MAX_TEXT


def test_absent_crd_message() -> None:
    assert parsers.is_plans_absent('error: the server doesn\'t have a resource type "plans"\n')
    assert not parsers.is_plans_absent("The connection to the server localhost:6443 was refused")


def _session(**kwargs) -> ClusterSession:
    demo = DemoCluster(clock=lambda: FROZEN, **kwargs)
    return ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)


async def test_demo_has_one_plan_in_progress() -> None:
    session = _session()
    result = await autopilot_plans(session)
    assert result.available and result.host == "controller-1"
    [plan] = result.plans
    assert plan.state == "SchedulableWait" and plan.versions == ["v1.33.3+k0s.0"]
    states = {t.name: t.state for t in plan.commands[0].targets}
    assert states["controller-1"] == "SignalCompleted" and states["worker-3"] == "SignalSent"
    assert set(states) == set(session.host_names)
    await session.close()


async def test_demo_without_autopilot_and_a_stopped_first_controller() -> None:
    session = _session(autopilot=False)
    session.host("controller-1").transport.cluster.node("controller-1").running = False
    result = await autopilot_plans(session)  # controller-1 refuses; controller-2 answers
    assert not result.available and result.host == "controller-2" and result.plans == []
    await session.close()


@pytest.mark.timeout(60)
async def test_plans_over_ssh(sshd_factory, tmp_path) -> None:
    state = tmp_path / "state.json"
    state.write_text(DemoCluster(clock=lambda: FROZEN).to_json())
    write_standin(tmp_path / "bin", state, "controller-1")
    server = sshd_factory.start(env={"PATH": f"{tmp_path / 'bin'}:/usr/local/bin:/usr/bin:/bin"})
    try:
        spec = server.host_spec(name="controller-1", role="controller")
        host = K0sHost(spec, SSHTransport(spec, server.settings()))
        result = await fetch_plans(host)
        assert result.available and result.plans[0].commands[0].kind == "k0supdate"
        assert {t.state for t in result.plans[0].commands[0].targets} >= {"SignalCompleted", "SignalPending"}
        # The same host once the cluster has no autopilot: kubectl's own error, read as "absent".
        cluster = DemoCluster.from_json(state.read_text())
        cluster.settings.autopilot = False
        state.write_text(cluster.to_json())
        assert (await fetch_plans(host)).available is False
        await host.transport.close()
    finally:
        server.stop()

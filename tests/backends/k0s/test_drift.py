"""Upgrade drift: version ordering (k0s builds, -rc pre-releases) and the fleet count against
k0sctl.yaml's spec.k0s.version or, without one, the newest version in the fleet."""

from __future__ import annotations

import textwrap

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.hosts.inventory import load_inventory
from backends.k0s.drift import compare_versions, fleet_drift, version_key
from backends.session.session import ClusterSession
from tests.tui_support import FROZEN


@pytest.mark.parametrize("older,newer", [
    ("v1.31.2+k0s.0", "v1.31.2+k0s.1"),
    ("v1.31.2+k0s.1", "v1.31.10+k0s.0"),
    ("v1.30.0-rc.1+k0s.0", "v1.30.0-rc.2+k0s.0"),
    ("v1.30.0-rc.2+k0s.0", "v1.30.0+k0s.0"),
    ("v1.30.0-beta.0+k0s.0", "v1.30.0-rc.1+k0s.0"),
    ("v1.29.9+k0s.0", "v1.30.0-rc.1+k0s.0"),
    ("1.9.0", "v1.10.0+k0s.0"),
])
def test_version_order(older: str, newer: str) -> None:
    assert compare_versions(older, newer) == -1 and compare_versions(newer, older) == 1


def test_same_release_in_kubelet_form_is_equal() -> None:
    assert compare_versions("v1.33.3+k0s", "v1.33.3+k0s.0") == 0


@pytest.mark.parametrize("bad", ["", "latest", "v1", "v1.2.3+k0s.0; rm -rf /", None, "v1.2.3\n4"])
def test_not_versions(bad) -> None:
    assert version_key(bad) is None


FLEET = {"c1": "v1.33.3+k0s.0", "c2": "v1.33.3+k0s.0", "w1": "v1.33.3+k0s.0", "w2": "v1.31.9+k0s.0",
         "w3": "v1.32.6+k0s.0", "w4": "v1.33.3+k0s.0", "w5": "v1.31.9+k0s.0", "w6": None}


def test_drift_against_the_inventory_target() -> None:
    d = fleet_drift(FLEET, "v1.33.3+k0s.0")
    assert d.source == "inventory" and d.behind == ["w2", "w3", "w5"] and d.unknown == ["w6"]
    assert d.summary() == "3 of 8 hosts behind v1.33.3+k0s.0 (1 unknown)"
    assert d.level == "warning"


def test_drift_target_newer_than_every_host() -> None:
    d = fleet_drift(FLEET, "v1.34.1+k0s.0")
    assert len(d.behind) == 7 and d.summary().startswith("7 of 8 hosts behind v1.34.1+k0s.0")


def test_drift_without_a_target_takes_the_newest_running() -> None:
    fleet = dict(FLEET, w6="v1.34.0-rc.1+k0s.0")
    d = fleet_drift(fleet, None)
    assert d.source == "fleet" and d.target == "v1.34.0-rc.1+k0s.0" and len(d.behind) == 7
    d = fleet_drift({"a": "v1.33.3+k0s.0", "b": "v1.33.3+k0s.0"}, None)
    assert d.summary() == "all 2 hosts on v1.33.3+k0s.0" and d.level == "success"


def test_drift_ahead_and_nothing_known() -> None:
    d = fleet_drift({"a": "v1.33.3+k0s.0", "b": "v1.33.4+k0s.0"}, "v1.33.3+k0s.0")
    assert d.ahead == ["b"] and d.summary() == "0 of 2 hosts behind v1.33.3+k0s.0, 1 ahead"
    d = fleet_drift({"a": None}, None)
    assert d.target is None and d.summary() == "k0s versions unknown" and d.level == "muted"
    assert fleet_drift({"a": None}, "v1.33.3+k0s.0").summary() == "target v1.33.3+k0s.0, no versions yet"


def _session(demo: DemoCluster, inventory) -> ClusterSession:
    return ClusterSession.open(inventory, simulated=demo_transports(demo), clock=lambda: FROZEN)


async def test_demo_drift_with_spec_k0s_version() -> None:
    demo = DemoCluster(clock=lambda: FROZEN)
    session = _session(demo, demo_inventory(demo))
    assert session.inventory.k0s_version == "v1.33.3+k0s.0"
    await session.nodes.refresh()
    d = session.nodes.drift()
    assert d.source == "inventory" and d.behind == ["worker-3"]
    assert d.summary() == "1 of 8 hosts behind v1.33.3+k0s.0"
    await session.close()


async def test_demo_drift_without_spec_k0s_version(tmp_path) -> None:
    """A k0sctl.yaml without spec.k0s.version: the newest version running is the target."""
    path = tmp_path / "k0sctl.yaml"
    path.write_text(textwrap.dedent("""\
        apiVersion: k0sctl.k0sproject.io/v1beta1
        kind: Cluster
        metadata: {name: no-version}
        spec:
          hosts:
            - {role: controller, ssh: {address: 10.0.0.11}}
            - {role: worker, ssh: {address: 10.0.0.21}}
    """))
    inv = load_inventory(path)
    assert inv.k0s_version is None
    demo = DemoCluster(clock=lambda: FROZEN)
    demo_inv = demo_inventory(demo)
    demo_inv.k0s_version = inv.k0s_version  # the demo's hosts, this file's (absent) target
    session = _session(demo, demo_inv)
    await session.nodes.refresh()
    d = session.nodes.drift()
    assert d.source == "fleet" and d.target == "v1.33.3+k0s.0" and d.behind == ["worker-3"]
    # The cluster upgraded one node past the others: it becomes the target, the rest are behind.
    demo.node("worker-1").version = "v1.34.0-rc.1+k0s.0"
    await session.nodes.refresh()
    d = session.nodes.drift()
    assert d.target == "v1.34.0-rc.1+k0s.0" and d.summary() == "7 of 8 hosts behind v1.34.0-rc.1+k0s.0"
    await session.close()

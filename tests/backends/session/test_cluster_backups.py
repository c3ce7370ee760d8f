"""Backups belong to a cluster: the catalog key, this cluster's archives only, retention that never
touches another cluster's, and the restore preconditions "archive of this cluster" and "other
controllers stopped" (enforced by the backend too), then the next steps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.errors import BackendError
from backends.hosts.inventory import inventory_from_ssh_args
from backends.hosts.spec import HostSpec, Inventory
from backends.session.clusterid import cluster_id
from backends.session.session import ClusterSession

pytestmark = pytest.mark.timeout(60)


def test_cluster_id_named_or_derived_from_the_hosts() -> None:
    assert cluster_id(Inventory(name="prod-eu", hosts=[HostSpec(name="a")], source="k0sctl.yaml")) == "prod-eu"
    one = cluster_id(inventory_from_ssh_args(["root@10.0.0.1", "root@10.0.0.2:2222"]))
    same = cluster_id(inventory_from_ssh_args(["root@10.0.0.2:2222", "root@10.0.0.1"]))
    other = cluster_id(inventory_from_ssh_args(["root@10.0.0.1", "root@10.0.0.3"]))
    assert one == same and one != other and one.startswith("ssh-") and len(one) == len("ssh-") + 12


def demo_session(tmp_path: Path, name: str = "demo") -> tuple[DemoCluster, ClusterSession]:
    cluster = DemoCluster(name=name)
    session = ClusterSession.open(demo_inventory(cluster), simulated=demo_transports(cluster),
                                  audit_path=tmp_path / "audit.log", backup_dir=tmp_path / "catalog")
    for host in session.hosts.values():
        host.transport.latency = (0.0, 0.0)
    return cluster, session


async def test_catalog_keyed_by_cluster_and_retention_stays_inside(tmp_path: Path) -> None:
    _, other = demo_session(tmp_path, name="staging")
    theirs = await other.backups.backup_now()
    cluster, session = demo_session(tmp_path)
    first = await session.backups.backup_now()
    second = await session.backups.backup_now()
    assert {e.file for e in session.backups.list()} == {second.file, first.file}  # not staging's
    assert {e.cluster for e in session.backups.list(all_clusters=True)} == {"demo", "staging"}
    newest = session.backups.newest()  # the header's backup age: this cluster's
    assert newest is not None and newest.file in (first.file, second.file)
    [deleted] = await session.backups.apply_retention(1)  # keep 0 is refused (never every archive)
    [kept] = session.backups.list()
    assert {deleted.file, kept.file} == {first.file, second.file}
    assert sorted(e.file for e in session.backups.list(all_clusters=True)) == sorted([kept.file, theirs.file])


async def test_restore_preconditions_cluster_and_other_controllers(tmp_path: Path) -> None:
    cluster, session = demo_session(tmp_path)
    entry = await session.backups.backup_now()
    await session.cluster.service("stop", ["controller-1"])
    checks = {c.name: c for c in await session.backups.preconditions(entry, "controller-1")}
    assert checks["archive of this cluster"].ok
    others = checks["other controllers stopped"]
    assert not others.ok and "k0s runs on controller-2, controller-3" in others.detail
    with pytest.raises(BackendError, match="other controllers stopped"):
        await session.backups.restore(entry, "controller-1")
    # Another cluster's archive is refused even with every other controller stopped.
    foreign_dir = tmp_path / "foreign"
    _, foreign = demo_session(foreign_dir, name="elsewhere")
    theirs = await foreign.backups.backup_now()
    shutil.copy(theirs.path, session.backups.directory / theirs.file)
    shutil.copy(theirs.path.with_name(theirs.file + ".json"), session.backups.directory / (theirs.file + ".json"))
    [copied] = [e for e in session.backups.list(all_clusters=True) if e.cluster == "elsewhere"]
    assert copied not in session.backups.list()  # not shown as this cluster's
    await session.cluster.service("stop", ["controller-2", "controller-3"], force=True)
    checks = {c.name: c for c in await session.backups.preconditions(copied, "controller-1")}
    assert checks["other controllers stopped"].ok
    assert not checks["archive of this cluster"].ok
    assert checks["archive of this cluster"].detail == "archive of elsewhere, this cluster is demo"
    # This cluster's archive goes through; the next steps name the others to re-join.
    out = await session.backups.restore(entry, "controller-1")
    assert "restore" in out.lower()
    steps = session.backups.next_steps("controller-1")
    assert steps[0].startswith("start k0s on controller-1") and "controller-2, controller-3" in steps[1]

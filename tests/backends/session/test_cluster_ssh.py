"""Cluster-aware operations over REAL SSH: one OpenSSH sshd per stand-in node (the demo's `k0s`
first on PATH, one shared state file), each `k0s` call logged per node so the exact argv the
console ran can be checked. The k0sctl lock is a real file whose age the hosts' own `stat` and
`date` read. Also the console script run the way cron runs it (no terminal, stdin /dev/null)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backends.demo import DemoCluster, write_standin
from backends.hosts.spec import Inventory
from backends.k0s.backups import BackupCatalog
from backends.k0s.host import K0sHost
from backends.session.audit import AuditLog
from backends.session.quorum import HostLocked, QuorumRefused
from backends.session.session import ClusterSession
from backends.transport.ssh.transport import SSHTransport
from tui import headless_cluster

pytestmark = pytest.mark.timeout(120)

NODES = ("controller-1", "controller-2", "controller-3", "worker-1", "worker-2")
CONSOLE_SCRIPT = Path(sys.executable).with_name("k0s-tui")
DRAIN = ("kubectl --data-dir=/var/lib/k0s drain --force --grace-period=120 --timeout=300s "
         "--delete-emptydir-data --ignore-daemonsets -- worker-1")
UNCORDON = "kubectl --data-dir=/var/lib/k0s uncordon -- worker-1"


def fresh_state() -> str:
    """3 controllers, 2 workers; worker-2 lacks the pids cgroup (NotReady after a restart)."""
    cluster = DemoCluster(controllers=3, workers=2)
    cluster.node("worker-2").sysinfo_fault = "cgroups"
    return cluster.to_json()


@pytest.fixture(scope="module")
def standins(sshd_factory, tmp_path_factory):
    """{node: (server, calls.log)} and the state file."""
    base = tmp_path_factory.mktemp("cluster-ssh")
    state = base / "state.json"
    servers = {}
    for node in NODES:
        bindir = base / f"bin-{node}"
        write_standin(bindir / "real", state, node)
        log = bindir / "calls.log"
        wrapper = bindir / "k0s"
        wrapper.write_text(f"#!/bin/sh\necho \"$*\" >> '{log}'\nexec '{bindir / 'real' / 'k0s'}' \"$@\"\n")
        wrapper.chmod(0o755)
        servers[node] = (sshd_factory.start(env={"PATH": f"{bindir}:/usr/local/bin:/usr/bin:/bin"}), log)
    yield servers, state
    for server, _ in servers.values():
        server.stop()


@pytest.fixture
async def session(standins, sshd_factory, tmp_path) -> AsyncIterator[ClusterSession]:
    servers, state = standins
    state.write_text(fresh_state())
    for _, log in servers.values():
        log.write_text("")
    settings = sshd_factory.settings([s for s, _ in servers.values()])
    specs = [server.host_spec(name=node, role="controller" if node.startswith("controller") else "worker")
             for node, (server, _) in servers.items()]
    hosts = [K0sHost(spec, SSHTransport(spec, settings)) for spec in specs]
    s = ClusterSession(Inventory(name="ssh-standins", hosts=specs, source="test"), hosts,
                       audit=AuditLog(tmp_path / "audit.log"), catalog=BackupCatalog(tmp_path / "backups"))
    s.cluster.lock_paths = (str(tmp_path / "run-lock" / "k0sctl"), str(tmp_path / "k0sctl.lock"))
    s.cluster.poll = 0.3
    s.cluster.host_deadline = 20.0
    yield s
    await s.close()


def calls(standins, node: str) -> list[str]:
    return standins[0][node][1].read_text().splitlines()


def state(standins) -> DemoCluster:
    return DemoCluster.from_json(standins[1].read_text())


async def test_quorum_refusal_then_override_over_ssh(session, standins, tmp_path) -> None:
    await session.cluster.service("stop", ["controller-3"])
    with pytest.raises(QuorumRefused, match="etcd has 3 members, 2 running"):
        await session.cluster.service("stop", ["controller-1", "controller-2"])
    assert "stop" not in calls(standins, "controller-1") and "stop" not in calls(standins, "controller-2")
    assert state(standins).node("controller-1").running
    # The etcd member list came from a running controller, over SSH.
    assert "etcd member-list --data-dir=/var/lib/k0s" in calls(standins, "controller-1")
    from io import StringIO

    out = StringIO()
    code = await headless_cluster.run_service(session, "stop", ["controller-1", "controller-2"], force=False,
                                              drain=False, as_json=True, out=out)
    assert code == headless_cluster.EXIT_CHECK and json.loads(out.getvalue())["refused"]["kind"] == "quorum"
    out = StringIO()
    code = await headless_cluster.run_service(session, "stop", ["controller-1"], force=True, drain=False,
                                              as_json=True, out=out)
    assert code == headless_cluster.EXIT_OK and "stop" in calls(standins, "controller-1")
    rec = json.loads((tmp_path / "audit.log").read_text().splitlines()[-1])
    assert rec["result"] == "ok" and rec["details"]["force"] == "True" and "override" in rec["details"]


async def test_drain_and_uncordon_argv_over_ssh(session, standins) -> None:
    [r] = await session.cluster.service("stop", ["worker-1"], drain=True)
    assert r.ok, r.error
    ran_on = [n for n in NODES if DRAIN in calls(standins, n)]
    assert len(ran_on) == 1 and ran_on[0].startswith("controller")  # once, on a controller
    assert "stop" in calls(standins, "worker-1")
    assert state(standins).node("worker-1").unschedulable and not state(standins).node("worker-1").running
    [r] = await session.cluster.service("start", ["worker-1"], drain=True)
    assert r.ok, r.error
    assert [n for n in NODES if UNCORDON in calls(standins, n)]
    assert not state(standins).node("worker-1").unschedulable


async def test_k0sctl_lock_is_honoured(session, standins, tmp_path) -> None:
    lock = tmp_path / "k0sctl.lock"
    lock.write_text("machine-id-4242")  # k0sctl touches it every 10 s while it works
    [r] = await session.cluster.service("stop", ["worker-1"])
    assert not r.ok and r.kind == HostLocked.kind
    assert f"k0sctl is working on this host (lock {lock}" in r.error and "not touched" in r.error
    assert "stop" not in calls(standins, "worker-1") and state(standins).node("worker-1").running
    from io import StringIO

    out = StringIO()
    code = await headless_cluster.run_service(session, "restart", ["worker-1"], force=True, drain=False,
                                              as_json=False, out=out)
    assert code == headless_cluster.EXIT_CHECK and "SKIPPED" in out.getvalue()  # --force does not beat a lock
    roll = await session.cluster.rolling_restart(["worker-1"])
    assert roll.stopped_at is not None and roll.stopped_at.failed_gate == "k0sctl lock"
    # A lock k0sctl stopped touching 60 s ago is stale: the host is free again.
    old = time.time() - 60
    os.utime(lock, (old, old))
    [r] = await session.cluster.service("stop", ["worker-1"])
    assert r.ok and "stop" in calls(standins, "worker-1")


async def test_rolling_restart_over_ssh_gated_and_stopping_at_worker_2(session, standins) -> None:
    before = state(standins)
    notes: list[tuple[str, str]] = []
    result = await session.cluster.rolling_restart(progress=lambda h, i, n, note: notes.append((h, note)))
    assert [s.host for s in result.steps if s.ok] == ["controller-1", "controller-2", "controller-3", "worker-1"]
    bad = result.stopped_at
    assert bad is not None and bad.host == "worker-2" and bad.failed_gate == "node Ready"
    after = state(standins)
    for node in ("controller-1", "controller-2", "controller-3", "worker-1", "worker-2"):
        assert after.node(node).pid != before.node(node).pid  # restarted
    # One at a time: every host's restart came after the previous one was back.
    order = [h for h, n in notes if n == "restarting k0s"]
    backs = [h for h, n in notes if n == "back"]
    assert order == ["controller-1", "controller-2", "controller-3", "worker-1", "worker-2"]
    assert backs == order[:4]
    for prev, nxt in zip(order, order[1:]):
        assert notes.index((prev, "back")) < notes.index((nxt, "restarting k0s"))
    assert any(h == "controller-2" and n.startswith("waiting: kube-api") for h, n in notes)  # the slow one


def test_backup_keep_from_cron(standins, sshd_factory, tmp_path) -> None:
    """`k0s-tui backup --keep 2` as cron runs it: no terminal, stdin /dev/null, own session."""
    servers, state_file = standins
    state_file.write_text(fresh_state())
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_bytes(sshd_factory.client_key.read_bytes())
    key.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID", "TERM")}
    env.update(HOME=str(home), XDG_DATA_HOME=str(tmp_path / "data"), XDG_STATE_HOME=str(tmp_path / "state"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    ctl = servers["controller-1"][0]
    argv = [str(CONSOLE_SCRIPT), "--ssh", f"root@127.0.0.1:{ctl.port}", "--known-hosts", str(ctl.known_hosts),
            "backup", "--keep", "2", "--backup-dir", str(tmp_path / "catalog")]
    files = []
    for _ in range(3):
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                              timeout=90, start_new_session=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        files.append(proc.stdout.split()[2])
    kept = sorted(p.name for p in (tmp_path / "catalog").glob("*.tar.gz"))
    assert kept == sorted(files[1:])  # the oldest went
    listing = subprocess.run(argv[:5] + ["backups", "--json", "--backup-dir", str(tmp_path / "catalog")],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
                             start_new_session=True)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    assert data["cluster"].startswith("ssh-") and [a["file"] for a in data["archives"]] == files[:0:-1]
    assert all(a["verified"] for a in data["archives"])
    audit = [json.loads(x) for x in (tmp_path / "state" / "k0s-tui" / "audit.log").read_text().splitlines()]
    assert [r["operation"] for r in audit if r["result"] != "intent"].count("backup") == 3

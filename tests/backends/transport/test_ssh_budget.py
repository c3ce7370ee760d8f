"""More SSH hosts than descriptors: the soft RLIMIT_NOFILE is raised to the hard limit, and past
it idle connections are closed least recently used first instead of failing with EMFILE.

Real sshd servers on 127.0.0.1; the client runs in a child process whose limit is lowered with
resource.setrlimit (so pytest's own descriptors do not count).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backends.transport.ssh.budget import ConnectionBudget

ROOT = Path(__file__).resolve().parents[3]
HOSTS = 48
HARD = 40  # descriptors: budget = 40 - 20 reserved = 20 connections for 48 hosts

CHILD = textwrap.dedent('''
    import asyncio, json, os, resource, sys
    cfg = json.loads(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_NOFILE, (24, cfg["hard"]))  # soft below hard, as often
    from backends.transport.ssh.budget import ConnectionBudget, raise_nofile_limit
    from backends.transport.ssh.transport import SSHSettings, SSHTransport
    from backends.hosts.spec import HostSpec, SSHTarget
    from pathlib import Path

    async def main():
        soft, hard = raise_nofile_limit()
        budget = ConnectionBudget() if cfg["budget"] else ConnectionBudget(limit=10**6)
        settings = SSHSettings(known_hosts=tuple(Path(p) for p in cfg["known_hosts"]),
                               app_known_hosts=Path(cfg["app_known_hosts"]), use_ssh_config=False,
                               client_keys=(cfg["key"],), use_agent=False, connect_timeout=20,
                               login_timeout=20, budget=budget)
        ts = [SSHTransport(HostSpec(name=f"h{i}", ssh=SSHTarget(address="127.0.0.1", user="root",
                                                                 port=port, key_path=cfg["key"])), settings)
              for i, port in enumerate(cfg["ports"])]
        async def one(t):
            try:
                r = await t.run(["echo", t.host])
                return r.stdout.decode().strip() == t.host
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"
        rounds = [await asyncio.gather(*(one(t) for t in ts)) for _ in range(2)]
        try:
            fds = len(os.listdir("/proc/self/fd"))
        except OSError:  # EMFILE: listing needs a descriptor too
            fds = cfg["hard"] + 1
        await asyncio.gather(*(t.close() for t in ts))
        print(json.dumps({"soft": soft, "hard": hard, "limit": budget.limit, "peak": budget.peak,
                          "evictions": budget.evictions, "fds": fds,
                          "ok": sum(r is True for rs in rounds for r in rs),
                          "errors": sorted({r for rs in rounds for r in rs if r is not True})[:3]}))
    asyncio.run(main())
''')


def run_child(servers, sshd_factory, *, budget: bool) -> dict:
    ports = [servers[i % len(servers)].port for i in range(HOSTS)]
    cfg = {"hard": HARD, "budget": budget, "ports": ports, "key": str(sshd_factory.client_key),
           "known_hosts": [str(s.known_hosts) for s in servers],
           "app_known_hosts": str(servers[0].dir / "app_known_hosts")}
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(cfg)], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_more_hosts_than_descriptors_all_answer(sshd_factory):
    servers = sshd_factory.start_many(3)
    got = run_child(servers, sshd_factory, budget=True)
    assert got["soft"] == got["hard"] == HARD  # the soft limit was raised to the hard one
    assert got["limit"] == HARD - HARD // 2 < HOSTS
    assert got["ok"] == 2 * HOSTS, got["errors"]
    assert got["peak"] <= got["limit"] and got["evictions"] >= HOSTS - got["limit"]
    assert got["fds"] <= HARD


def test_without_the_budget_the_same_fleet_runs_out_of_descriptors(sshd_factory):
    servers = sshd_factory.start_many(3)
    got = run_child(servers, sshd_factory, budget=False)
    assert got["ok"] < 2 * HOSTS  # the control: the limit really is too low for this fleet
    # Out of descriptors (EMFILE surfaces as whatever failed first: a socket, reading
    # /etc/passwd for the user name...): even listing /proc/self/fd failed.
    assert got["fds"] > HARD and got["errors"], got


async def test_budget_waits_for_a_busy_connection_then_fails_typed():
    class Owner:
        def __init__(self, name: str, idle: bool) -> None:
            self.host, self._idle, self.evicted = name, idle, False

        @property
        def idle(self) -> bool:
            return self._idle

        def evict(self) -> None:
            self.evicted = True

    from backends.errors import BackendError

    budget = ConnectionBudget(limit=2, wait_timeout=0.3)
    a, b, c, d = Owner("a", True), Owner("b", True), Owner("c", False), Owner("d", False)
    await budget.acquire(a)
    await budget.acquire(b)
    budget.touch(a)  # b is now the least recently used
    await budget.acquire(c)
    assert b.evicted and not a.evicted and budget.open_count == 2
    a._idle = False
    with pytest.raises(BackendError, match="too many open SSH connections"):
        await budget.acquire(d)  # a and c busy: no room within wait_timeout
    budget.release(c)
    await budget.acquire(d)
    assert budget.open_count == 2 and budget.peak == 2

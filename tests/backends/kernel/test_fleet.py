"""The fleet runner: pure semantics, then 8 real sshd hosts with one killed mid-run."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import pytest

from backends.errors import BackendError, CommandTimeout, HostUnreachable, K0sNotRunning
from backends.fleet import HostOutcome, run_on_fleet, stream_fleet
from backends.transport.ssh.transport import SSHTransport
from tests.waits import wait_for_process


@dataclass
class Host:
    name: str
    delay: float = 0.0
    fail: BaseException | None = None


async def op(h: Host) -> str:
    await asyncio.sleep(h.delay)  # a stand-in host that takes `delay` s (the tests are about slow hosts)
    if h.fail is not None:
        raise h.fail
    return h.name.upper()


async def test_outcomes_in_input_order_with_typed_errors():
    hosts = [
        Host("a", 0.2),
        Host("b", fail=K0sNotRunning("b", "k0s is not running")),
        Host("c", 30),
        Host("d", fail=ZeroDivisionError("bug")),
        Host("e"),
    ]
    t0 = time.monotonic()
    out = await run_on_fleet(hosts, op, timeout=0.5)
    assert time.monotonic() - t0 < 1.5  # the 30 s host costs only its own timeout
    assert [o.host for o in out] == ["a", "b", "c", "d", "e"]
    assert [o.ok for o in out] == [True, False, False, False, True]
    assert out[0].value == "A" and out[0].duration >= 0.2
    assert isinstance(out[1].error, K0sNotRunning)
    assert isinstance(out[2].error, CommandTimeout) and out[2].error.host == "c"
    assert type(out[3].error) is BackendError and "ZeroDivisionError" in str(out[3].error)
    assert out[3].error.__cause__.__class__ is ZeroDivisionError
    assert isinstance(out[4], HostOutcome) and out[4].value == "E"


async def test_stream_yields_in_completion_order_and_cancels_on_break():
    hosts = [Host("slow", 0.4), Host("fast", 0.0), Host("mid", 0.2), Host("stuck", 60)]
    seen = []
    t0 = time.monotonic()
    async for outcome in stream_fleet(hosts, op, timeout=None):
        seen.append((outcome.host, round(time.monotonic() - t0, 1)))
        if len(seen) == 3:
            break  # leaving early must cancel "stuck", not wait 60 s for it
    assert [h for h, _ in seen] == ["fast", "mid", "slow"]
    assert seen[0][1] < 0.15 and time.monotonic() - t0 < 1


async def test_limit_bounds_concurrency():
    running = peak = 0

    async def counted(h: Host) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)  # the work itself: held long enough for the others to pile up
        running -= 1

    out = await run_on_fleet([Host(str(i)) for i in range(10)], counted, timeout=5, limit=3)
    assert peak == 3 and all(o.ok for o in out)


async def test_limited_stream_starts_hosts_in_the_order_given():
    """What refresh priority relies on: with a limit, hosts get their turn in the given order."""
    started: list[str] = []

    async def note(h: Host) -> str:
        started.append(h.name)
        await asyncio.sleep(0)
        return h.name

    order = ["w-9", "w-3", "w-1", "w-7", "w-2"]
    got = [o.host async for o in stream_fleet([Host(n) for n in order], note, timeout=5, limit=2)]
    assert started == order and sorted(got) == sorted(order)


async def test_caller_cancellation_propagates():
    started = asyncio.Event()

    async def hang(h: Host) -> str:
        started.set()
        return await op(h)  # sleeps 30 s: only the caller's cancel ends it

    task = asyncio.ensure_future(run_on_fleet([Host("x", 30)], hang, timeout=None))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.timeout(90)
async def test_eight_sshd_hosts_one_killed_mid_run(sshd_factory, login_user):
    servers = sshd_factory.start_many(8)
    settings = sshd_factory.settings(servers)
    transports = {f"node-{i}": SSHTransport(s.host_spec(f"node-{i}", user=login_user), settings)
                  for i, s in enumerate(servers)}

    @dataclass
    class Item:
        name: str

    async def slow_echo(item: Item) -> str:
        r = await transports[item.name].run(["sh", "-c", f"sleep 1.5031; echo {item.name}"], timeout=20)
        return r.stdout_text.strip()

    items = [Item(n) for n in transports]
    try:
        # Connect everyone first (cold), so the kill hits an established connection.
        cold = await run_on_fleet(items, lambda it: transports[it.name].connect(), timeout=30)
        assert all(o.ok for o in cold), [str(o.error) for o in cold]

        victim = servers[3]
        arrived: list[HostOutcome[str]] = []
        t0 = time.monotonic()

        async def killer() -> None:
            await wait_for_process("sleep 1.5031; echo node-3", timeout=1.5)  # running on node-3
            victim.kill()

        kill_task = asyncio.ensure_future(killer())
        async for outcome in stream_fleet(items, slow_echo, timeout=20):
            arrived.append(outcome)
        await kill_task
        took = time.monotonic() - t0

        by_host = {o.host: o for o in arrived}
        assert len(arrived) == 8
        dead = by_host.pop("node-3")
        assert isinstance(dead.error, HostUnreachable) and "node-3" in str(dead.error)
        assert dead.duration < 1.5  # reported when it died, not at some timeout
        assert {h: o.value for h, o in by_host.items()} == {h: h for h in by_host}
        assert took < 10
        assert arrived[0].host == "node-3"  # the failure arrived first, nobody waited for it

        # Next refresh: the seven reuse their connections; the dead host says why it fails.
        again = await run_on_fleet(items, lambda it: transports[it.name].run(["echo", "x"]), timeout=20)
        assert [o.ok for o in again] == [True] * 3 + [False] + [True] * 4
        assert isinstance(again[3].error, HostUnreachable) and "refused" in str(again[3].error)
        assert all(transports[n].connect_count == 1 for n in transports if n != "node-3")
    finally:
        for t in transports.values():
            await t.close()
        for s in servers:
            s.kill()

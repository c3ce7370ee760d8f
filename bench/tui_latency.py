"""Issue 6: the console's key latency while a fleet refresh over SSH runs.

    .venv/bin/python bench/fanout.py --tui [N…] [--runs R] [--warm W] [--hosts shared|idle|both]

(N defaults to 100; R to 3; W to 5; --hosts to both).

For each N: start N real sshd hosts on 127.0.0.1 with the cheap ``k0s`` stand-in of bench/standin
(:func:`bench.fleet_compare.start_fleet`: own host keys and ports, the bench's own key and
known_hosts, never ~/.ssh), build the real app — :class:`tui.app.K0sTuiApp` over
:class:`backends.session.session.ClusterSession` opened on an Inventory of those hosts (3 controllers, the
rest workers) — and run it headless (``app.run_test(size=(160, 48))``). Per run (a fresh session,
so every run's first refresh is a cold one):

- idle: keys pressed with nothing running (the reference);
- cold: the Nodes refresh the app starts on mount (new connections; the app also starts one
  sysinfo per host then, as it does for a user), keys pressed while it runs;
- warm: W (default 5) more Nodes refreshes back to back (``app.nodes_pane.refresh_data()``, what ctrl+r
  does on the Nodes pane) on the open connections, keys pressed throughout.

Keys: ``j``/``k`` alternately into the focused Nodes table, the next one 20 ms after the previous
one moved the cursor. A key is handed to the app's headless driver exactly as ``Pilot.press``
does (``driver.send_message(events.Key)``) but without Pilot's idle waits — those sleep until the
process is idle (up to 1 s a key) and would hide the latency being measured. A key's latency is
the time from that hand-over to the table's ``cursor_row`` changing (a watcher on it).
An event-loop lag sampler (a 10 ms sleep, how late it wakes) runs alongside.

References measured in the same run: the same cold and warm refreshes through
``ClusterSession.nodes.refresh`` without the app ("no UI"), and a plain asyncssh floor running a
snapshot's three commands on every host at once ("warm floor").

The hosts run on this same 2-core machine: ``--hosts shared`` leaves them at normal priority
(they compete with the console, as in the rest of the bench), ``--hosts idle`` puts them in
SCHED_IDLE (closer to remote machines); ``both`` prints one table for each.

Printed per N, host priority and phase (keys of all runs pooled): key count, median / p95 / max key latency,
worst loop lag; the refresh's total time, time to its first row and this process's CPU seconds
(medians over the refreshes); the load average before the table.
Everything started (sshd, temp dirs) is removed at exit, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Gap between a key's cursor move and the next key.
KEY_GAP = 0.02
#: A key that moved nothing after this long is counted at this value (and reported).
KEY_GIVE_UP = 10.0
#: Controllers in the bench inventory (they also ask `k0s kubectl get nodes`, which the
#: stand-in refuses: their row gets a kube error, the commands still run over SSH).
CONTROLLERS = 3
FROZEN = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


@dataclass
class Phase:
    """One phase of one run: key latencies, worst loop lag, refresh timings."""

    keys: list[float] = field(default_factory=list)
    lost: int = 0  # keys that moved nothing within KEY_GIVE_UP
    lag: float = 0.0
    totals: list[float] = field(default_factory=list)  # each refresh: start to last row (s)
    firsts: list[float] = field(default_factory=list)  # start to first row (s)
    rows: list[int] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)  # this process's CPU seconds per refresh
    startup: float = float("nan")  # cold only: run_test entered to the refresh's start (s)


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


class KeyProbe:
    """Presses j/k into a table while running, timing each key until the cursor moves."""

    def __init__(self, app: Any, table: Any) -> None:
        self.app = app
        self.table = table
        self._moved = asyncio.Event()
        app.watch(table, "cursor_row", self._on_move, init=False)

    def _on_move(self) -> None:
        self._moved.set()

    def _send(self, key: str) -> None:
        from textual import events

        event = events.Key(key, key)
        event.set_sender(self.app)
        self.app._driver.send_message(event)  # the Pilot's own way in, minus its idle waits

    async def run(self, phase: Phase, stop: asyncio.Event) -> None:
        """Press keys until ``stop`` is set; record each key's latency into ``phase``."""
        down = self.table.cursor_row == 0
        while not stop.is_set():
            self._moved.clear()
            t0 = time.perf_counter()
            self._send("j" if down else "k")
            try:
                await asyncio.wait_for(self._moved.wait(), KEY_GIVE_UP)
                phase.keys.append(time.perf_counter() - t0)
                down = not down
            except asyncio.TimeoutError:
                phase.keys.append(KEY_GIVE_UP)
                phase.lost += 1
                down = self.table.cursor_row == 0
            await asyncio.sleep(KEY_GAP)


async def lag_sampler(phase: Phase, stop: asyncio.Event, interval: float = 0.01) -> None:
    """Worst lateness of a ``interval`` sleep while ``stop`` is unset (event-loop lag)."""
    while not stop.is_set():
        t = time.perf_counter()
        await asyncio.sleep(interval)
        phase.lag = max(phase.lag, time.perf_counter() - t - interval)


class RowClock:
    """Times of each refresh of the Nodes pane: its start (the app calling the session's
    ``nodes.refresh``) and each host's snapshot being stored (wraps both on the instance)."""

    def __init__(self, session: Any) -> None:
        self.times: list[float] = []
        self.t0 = time.perf_counter()
        self.started = float("nan")  # when the last refresh began, relative to t0
        self.cpu_start = self.cpu_last = 0.0  # this process's CPU time then, and at the last row
        self.arrived = asyncio.Event()
        store = session.nodes._store  # the one place every snapshot (ok or error) goes through
        refresh = session.nodes.refresh

        def timed_store(snap: Any) -> None:
            store(snap)
            self.times.append(time.perf_counter() - self.t0)
            self.cpu_last = time.process_time()
            self.arrived.set()

        def timed_refresh(*args: Any, **kwargs: Any) -> Any:
            self.started = time.perf_counter() - self.t0
            self.cpu_start = time.process_time()
            return refresh(*args, **kwargs)

        session.nodes._store = timed_store
        session.nodes.refresh = timed_refresh

    def reset(self) -> None:
        self.times = []
        self.t0 = time.perf_counter()
        self.started = float("nan")

    def note(self, phase: "Phase") -> None:
        """Add this refresh's total and first-row times (from its start) to ``phase``."""
        phase.totals.append(max(self.times) - self.started)
        phase.firsts.append(min(self.times) - self.started)
        phase.rows.append(len(self.times))
        phase.cpus.append(self.cpu_last - self.cpu_start)

    async def wait_for(self, n: int, timeout: float = 300.0) -> None:
        deadline = time.perf_counter() + timeout
        while len(self.times) < n:
            self.arrived.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"only {len(self.times)} of {n} rows after {timeout:.0f} s")
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass


async def measured(probe: KeyProbe, phase: Phase, until: Any) -> None:
    """Run the key probe and the lag sampler until the awaitable ``until`` is done."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(probe.run(phase, stop)), asyncio.create_task(lag_sampler(phase, stop))]
    try:
        await until
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def one_run(fleet: Any, workdir: Path, warm_rounds: int = 5) -> dict[str, Phase]:
    """A fresh session + app over the fleet: cold, idle and ``warm_rounds`` back-to-back warm
    refreshes (keys pressed throughout each phase)."""
    from backends.session.session import ClusterSession
    from backends.hosts.spec import Inventory
    from tui.app import K0sTuiApp

    specs = [dataclasses.replace(s, role="controller" if i < CONTROLLERS else "worker")
             for i, s in enumerate(fleet.specs)]
    session = ClusterSession.open(Inventory("bench", specs), settings=fleet.settings(),
                                  audit_path=workdir / "audit.log", backup_dir=workdir / "backups",
                                  clock=lambda: FROZEN)
    clock = RowClock(session)
    app = K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, keymap_path=workdir / "keymap.toml",
                    scan_certs=False)
    n = len(specs)
    phases = {"idle": Phase(), "cold": Phase(), "warm": Phase()}
    try:
        clock.reset()  # the cold refresh starts on mount, inside run_test
        async with app.run_test(size=(160, 48)) as pilot:
            table = app.nodes_pane.primary_table()
            table.focus()
            probe = KeyProbe(app, table)
            cold = phases["cold"]
            await measured(probe, cold, clock.wait_for(n))
            clock.note(cold)
            cold.startup = clock.started
            # The sysinfo workers started on mount: let them finish, so idle is idle.
            await app.workers.wait_for_complete()
            await pilot.pause()

            idle = phases["idle"]
            await measured(probe, idle, asyncio.sleep(1.0))

            warm = phases["warm"]

            async def warm_refreshes() -> None:
                for _ in range(warm_rounds):
                    clock.reset()
                    app.nodes_pane.refresh_data()
                    await clock.wait_for(n)
                    clock.note(warm)
                    await app.workers.wait_for_complete()

            await measured(probe, warm, warm_refreshes())
            errors = [s for s in session.nodes.snapshots() if s.state.value not in ("running",)]
            if errors:
                print(f"  {len(errors)} host(s) not running, e.g. {errors[0].name}: {errors[0].error}",
                      file=sys.stderr)
    finally:
        await session.close()
    return phases


async def session_only(fleet: Any, workdir: Path, warm_rounds: int = 5) -> dict[str, Phase]:
    """The same refreshes without the app (``ClusterSession.nodes.refresh`` alone, plus the
    sysinfo the app starts on mount): what the backends cost the loop by themselves."""
    from backends.session.session import ClusterSession
    from backends.hosts.spec import Inventory

    specs = [dataclasses.replace(s, role="controller" if i < CONTROLLERS else "worker")
             for i, s in enumerate(fleet.specs)]
    session = ClusterSession.open(Inventory("bench", specs), settings=fleet.settings(),
                                  audit_path=workdir / "audit.log", backup_dir=workdir / "backups",
                                  clock=lambda: FROZEN)
    clock = RowClock(session)
    phases = {"cold": Phase(), "warm": Phase()}

    async def no_keys(phase: Phase, until: Any) -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(lag_sampler(phase, stop))
        try:
            await until
        finally:
            stop.set()
            await task

    async def cold() -> None:
        sysinfo = [asyncio.create_task(session.sysinfo.run(h)) for h in session.host_names]
        await session.nodes.refresh()
        clock.note(phases["cold"])
        await asyncio.gather(*sysinfo, return_exceptions=True)

    async def warm() -> None:
        for _ in range(warm_rounds):
            clock.reset()
            await session.nodes.refresh()
            clock.note(phases["warm"])

    try:
        clock.reset()
        await no_keys(phases["cold"], cold())
        await no_keys(phases["warm"], warm())
    finally:
        await session.close()
    return phases


#: What a worker's Nodes snapshot runs (K0sHost.snapshot: version, status, uptime at once).
SNAPSHOT_COMMANDS = (("k0s", "version"), ("k0s", "status", "-o", "json"), ("cat", "/proc/uptime"))


async def floor_warm(fleet: Any, warm_rounds: int = 5) -> Phase:
    """The floor for the warm refresh: plain asyncssh, one open connection per host, the
    snapshot's three commands on every host at once; loop lag and times as for the app."""
    import shlex

    from bench.fleet_compare import floor_connect

    phase = Phase()
    conns = await floor_connect(fleet.hosts)
    try:
        for _ in range(warm_rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            times: list[float] = []

            async def one(conn: Any) -> None:
                await asyncio.gather(*(conn.run(shlex.join(c), encoding=None) for c in SNAPSHOT_COMMANDS))
                times.append(time.perf_counter() - t0)

            stop = asyncio.Event()
            sampler = asyncio.create_task(lag_sampler(phase, stop))
            try:
                await asyncio.gather(*(one(c) for c in conns))
            finally:
                stop.set()
                await sampler
            phase.totals.append(max(times))
            phase.firsts.append(min(times))
            phase.cpus.append(time.process_time() - c0)
            phase.rows.append(len(times))
    finally:
        for c in conns:
            c.close()
        await asyncio.gather(*(c.wait_closed() for c in conns), return_exceptions=True)
    return phase


def _ms(x: float) -> str:
    return f"{x * 1000:.1f}" if x == x else "-"


def _s(x: float) -> str:
    return f"{x:.3f}" if x == x else "-"


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def report(n: int, runs: list[dict[str, Phase]], hosts: str, load: str = "?") -> None:
    """One table per N and host priority: keys pooled over the runs, refresh figures as medians."""
    print(f"\n### TUI key latency, N = {n} hosts, hosts' CPU priority: {hosts} ({len(runs)} run(s); "
          f"j/k every {KEY_GAP * 1000:.0f} ms after the previous key moved the cursor; app.run_test 160x48; "
          f"1-min load average before: {load})")
    print("| phase | keys | key median (ms) | key p95 (ms) | key max (ms) | loop lag max (ms) "
          "| refresh total (s) | first row (s) | console CPU (s) | refreshes x rows |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in ("idle", "cold", "warm", "cold (no UI)", "warm (no UI)", "warm floor (asyncssh)"):
        ph = [r[name] for r in runs if name in r]
        if not ph:
            continue
        keys = [k for p in ph for k in p.keys]
        lost = sum(p.lost for p in ph)
        counts = [r for p in ph for r in p.rows]
        rows = (f"{len(counts)}x{counts[0]}" if counts and len(set(counts)) == 1
                else "/".join(map(str, counts)) or "-")
        key_cells = (f"{len(keys)}{f' ({lost} lost)' if lost else ''} | {_ms(pct(keys, 0.5))} | "
                     f"{_ms(pct(keys, 0.95))} | {_ms(max(keys, default=float('nan')))}") if keys else "- | - | - | -"
        print(f"| {name} | {key_cells} | {_ms(max(p.lag for p in ph))} | "
              f"{_s(_median([t for p in ph for t in p.totals]))} | {_s(_median([t for p in ph for t in p.firsts]))} | "
              f"{_s(_median([t for p in ph for t in p.cpus]))} | {rows} |")
    startup = _median([r["cold"].startup for r in runs])
    print(f"(refresh times from the refresh's start, medians over refreshes; the cold refresh started "
          f"{startup:.3f} s after run_test was entered; idle = 1 s of keys with nothing running; warm = "
          f"back-to-back warm refreshes, keys throughout; no UI = ClusterSession.nodes.refresh alone, "
          f"no app, no keys; warm floor = plain asyncssh running the snapshot's 3 commands on every "
          f"host at once over open connections)")


def set_hosts_priority(fleet: Any, mode: str) -> None:
    """``idle``: put every sshd listener (and so the handlers and commands it forks later) in
    SCHED_IDLE, so the hosts only get CPU the console does not want (they stand for remote
    machines); ``shared``: normal priority (hosts and console share the 2 cores, as in the
    rest of the bench)."""
    policy = os.SCHED_IDLE if mode == "idle" else os.SCHED_OTHER
    for server in fleet.servers:
        os.sched_setscheduler(server.proc.pid, policy, os.sched_param(0))


def bench_n(n: int, runs: int, warm_rounds: int = 5, modes: Sequence[str] = ("shared", "idle")) -> None:
    """Start N hosts; per host-priority mode, run the app ``runs`` times over them (plus the
    session alone) and print the table; kill everything."""
    from bench.fleet_compare import start_fleet

    t0 = time.perf_counter()
    fleet = start_fleet(n)
    print(f"\nstarted {n} sshd hosts in {time.perf_counter() - t0:.1f}s", flush=True)
    try:
        for mode in modes:
            set_hosts_priority(fleet, mode)
            load = Path("/proc/loadavg").read_text().split()[0]
            results = []
            for i in range(runs):
                with tempfile.TemporaryDirectory(prefix="k0s-bench-tui-") as tmp:
                    phases = asyncio.run(one_run(fleet, Path(tmp), warm_rounds))
                with tempfile.TemporaryDirectory(prefix="k0s-bench-tui-") as tmp:
                    bare = asyncio.run(session_only(fleet, Path(tmp), warm_rounds))
                phases.update({f"{k} (no UI)": v for k, v in bare.items()})
                phases["warm floor (asyncssh)"] = asyncio.run(floor_warm(fleet, warm_rounds))
                results.append(phases)
                print(f"  N={n} hosts {mode}: run {i + 1}/{runs} done", file=sys.stderr, flush=True)
            report(n, results, mode, load)
    finally:
        fleet.close()


def main(argv: Sequence[str] | None = None) -> int:
    """``bench/fanout.py --tui [N…] [--runs R]``: key latency during fleet refreshes (N defaults to 100)."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="*", default=[100], help="fleet sizes (default 100)")
    ap.add_argument("--runs", type=int, default=3, help="app runs per N (each with a cold refresh)")
    ap.add_argument("--warm", type=int, default=5, help="back-to-back warm refreshes per run")
    ap.add_argument("--hosts", choices=("shared", "idle", "both"), default="both",
                    help="the sshd hosts' CPU priority: shared (normal), idle (SCHED_IDLE, like "
                         "remote machines) or both (default: one table each)")
    args = ap.parse_args(argv)
    if any(n < 2 for n in args.n):
        ap.error("N must be at least 2 (the cursor moves between two rows)")
    # The app's own files (keymap, known_hosts default, state) go to a temp XDG tree, never ~.
    xdg = Path(tempfile.mkdtemp(prefix="k0s-bench-xdg-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        os.environ[var] = str(xdg / var.lower())
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    # SIGTERM unwinds like Ctrl-C, so the finally blocks kill every sshd.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import asyncssh

    print(f"k0s-tui key-latency benchmark: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
          f"asyncssh {asyncssh.__version__}, ~/.bashrc emptied: "
          f"{'yes' if os.environ.get('K0S_BENCH_EMPTY_BASHRC') else 'no'}")
    try:
        for n in args.n:
            bench_n(n, args.runs, args.warm, ("shared", "idle") if args.hosts == "both" else (args.hosts,))
    finally:
        import shutil

        shutil.rmtree(xdg, ignore_errors=True)
        empty = os.environ.get("K0S_BENCH_EMPTY_BASHRC")
        if empty:
            Path(empty).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Issue 14: a host streaming k0s-format lines into a followed Logs view, and the headless path.

    .venv/bin/python bench/logs_follow.py [--seconds 30] [--rate 12000] [--lines 300000]

One real sshd on 127.0.0.1 whose login PATH has a stand-in ``journalctl`` and ``k0s``: the
``journalctl -f`` prints k0s logrus lines (kubelet klog messages, ~250 bytes each) at ``--rate``
lines per second for ``--seconds``, in the ``-o`` format asked for as journalctl prints it
(``short-iso-precise``, what the console asks: ``2026-09-01T10:15:42.123456+00:00 host k0s[1766]:
LINE``; ``json``: records of ``__REALTIME_TIMESTAMP`` and ``MESSAGE``; ``short``).

1. view: the real console (``K0sTuiApp`` headless, 160x48) on that host, `:logs h0` following
   it. Measured: lines per second the view received over the run (sustained), key latency
   while it streams (``f`` toggles follow; time from handing the key to the driver until the
   view's flag flipped; every 50 ms), the event loop's worst lag.
2. memory: RSS of this process with the idle console vs. once the view's ring buffer sits at
   its 50,000-line bound (streamed until 50,000 lines are in, then 20,000 more).
3. headless: ``--lines`` lines as fast as the host prints them, read by
   ``k0s-tui logs --follow`` (run_logs into a file) vs. OpenSSH ``ssh host journalctl … -f > file``
   running the same journalctl command line the console runs (so the host does the same work
   for both); wall time of each, ratio in the same run.

Prints one JSON object. Everything started is removed at exit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GENERATOR = r'''#!/usr/bin/env python3
# stand-in journalctl: k0s journal lines at $RATE lines/s for $SECONDS s (or $COUNT lines, flat out),
# in the -o format asked (json, short-iso-precise, short) as journalctl prints it
import json, os, sys, time
rate, seconds, count = float(os.environ["RATE"]), float(os.environ["SECONDS"]), int(os.environ.get("COUNT", "0"))
fmt = sys.argv[sys.argv.index("-o") + 1] if "-o" in sys.argv else "short"
msg = ('time="{t}" level=info msg="I0901 10:15:42.123456 1814 kubelet.go:2468] \\"SyncLoop (PLEG): event for pod\\" '
       'pod=\\"kube-system/kube-proxy-{i:06d}\\" event={{\\"Type\\":\\"ContainerStarted\\"}}" component=kubelet stream=stderr')
out = sys.stdout
hostname = os.uname().nodename
def line(now, i):
    return msg.format(t=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now)), i=i)
def record_json(i):
    now = time.time()
    return json.dumps({"__REALTIME_TIMESTAMP": str(int(now * 1e6)), "MESSAGE": line(now, i)}) + "\n"
def record_short_iso_precise(i):  # systemd >= 250: the zone as +HH:MM
    now = time.time()
    us = int(now * 1e6)
    local = time.localtime(us // 1000000)
    off = local.tm_gmtoff
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", local) + ".%06d%+03d:%02d" % (us % 1000000, int(off / 3600), abs(int(off / 60)) % 60)
    return f"{stamp} {hostname} k0s[1766]: {line(now, i)}\n"
def record_short(i):
    now = time.time()
    return f"{time.strftime('%b %d %H:%M:%S', time.localtime(now))} {hostname} k0s[1766]: {line(now, i)}\n"
record = {"json": record_json, "short-iso-precise": record_short_iso_precise, "short": record_short}.get(fmt)
if record is None:
    sys.stderr.write(f"Unknown output format '{fmt}'.\n")
    sys.exit(1)
if count:
    for start in range(0, count, 500):
        out.write("".join(record(i) for i in range(start, min(count, start + 500))))
    out.flush()
    sys.exit(0)
start, i = time.time(), 0
while time.time() - start < seconds:
    due = int((time.time() - start) * rate)
    if due > i:
        out.write("".join(record(j) for j in range(i, due)))
        out.flush()
        i = due
    time.sleep(0.005)
time.sleep(3600)
'''
K0S = '''#!/bin/sh
[ "$1" = status ] && echo '{"Version":"v1.33.3+k0s.0","Pid":1,"Role":"worker","SysInit":"linux-systemd","Args":[]}'
'''


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def start_host(base: Path, env: dict[str, str]):
    from tests.fixtures.sshd import SshdFactory

    bindir = base / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for name, text in (("journalctl", GENERATOR), ("k0s", K0S)):
        (bindir / name).write_text(text)
        (bindir / name).chmod(0o755)
    (base / "sshd").mkdir(parents=True, exist_ok=True)
    factory = SshdFactory(base / "sshd")
    server = factory.start(env={"PATH": f"{bindir}:/usr/bin:/bin", **env})
    return factory, server


async def view_run(server, seconds: float) -> dict:
    from textual import events

    from backends.hosts.spec import Inventory
    from backends.session.session import ClusterSession
    from tui.app import K0sTuiApp

    spec = server.host_spec("h0", role="worker")
    session = ClusterSession.open(Inventory("bench", [spec]), settings=server.settings())
    app = K0sTuiApp(session, refresh=0)
    out: dict = {}
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(0.5)
        idle = rss_mib()
        pane = app.pane("logs")
        app.run_command("logs h0")
        await pilot.pause()
        view = pane.view
        view.focus()
        lat: list[float] = []
        lags: list[float] = []
        counts: list[tuple[float, int]] = []
        t0 = time.monotonic()
        cpu0 = time.process_time()
        stop = t0 + seconds
        while time.monotonic() < stop:
            before = view.follow
            sent = time.perf_counter()
            app._driver.send_message(events.Key("f", "f"))  # what Pilot.press does, minus its idle waits
            while view.follow == before and time.perf_counter() - sent < 5:
                await asyncio.sleep(0.001)
            lat.append(time.perf_counter() - sent)
            s = time.perf_counter()
            await asyncio.sleep(0.05)
            lags.append(time.perf_counter() - s - 0.05)
            counts.append((time.monotonic() - t0, view.total))
        total_time = time.monotonic() - t0
        cpu = (time.process_time() - cpu0) / total_time
        received = view.total
        # rate over the steady part (after the first second: the stream's start-up)
        first = next((c for c in counts if c[0] >= 1.0), counts[0])
        steady = (counts[-1][1] - first[1]) / max(1e-9, counts[-1][0] - first[0])
        lat.sort()
        out["view"] = {
            "seconds": round(total_time, 1), "lines_received": received,
            "lines_per_s_sustained": round(steady), "keys": len(lat),
            "key_ms_median": round(statistics.median(lat) * 1000, 1),
            "key_ms_p99": round(lat[int(len(lat) * 0.99) - 1] * 1000, 1),
            "key_ms_max": round(lat[-1] * 1000, 1),
            "loop_lag_ms_max": round(max(lags) * 1000, 1), "console_cpu_fraction": round(cpu, 2),
            "buffer_lines": len(pane.buffer), "buffer_bound": pane.buffer.capacity,
        }
        # memory: make sure the bound was reached and passed, then measure
        deadline = time.monotonic() + 60
        while pane.buffer.dropped < 20_000 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        import gc

        gc.collect()
        full = rss_mib()
        out["memory"] = {"idle_console_mib": round(idle, 1), "at_bound_mib": round(full, 1),
                         "above_idle_mib": round(full - idle, 1), "buffer_lines": len(pane.buffer),
                         "dropped": pane.buffer.dropped}
        await pane.follower.stop()
    await session.close()
    return out


async def headless_run(server, lines: int, workdir: Path, runs: int = 1) -> dict:
    """``runs`` pairs of the ssh leg and ours, their order alternating (the second of a pair
    finds the page cache and the CPU governor warm): the median of each, and each pair's ratio."""
    from backends.k0s.host import K0sHost
    from backends.k0s.logs import LogSource
    from backends.transport.ssh.transport import SSHTransport
    from tui.headless_logs import run_logs

    argv = LogSource("journal", unit="k0sworker").argv(lines=None, since=0, follow=True)  # what run_logs runs
    ssh_file, ours = workdir / "ssh.out", workdir / "k0s-tui.out"

    def ssh_leg() -> float:
        t = time.perf_counter()
        with ssh_file.open("wb") as fh:
            subprocess.run([*server.ssh_argv(), *argv], stdout=fh, check=True)
        return time.perf_counter() - t

    async def our_leg() -> float:
        spec = server.host_spec("h0", role="worker")
        host = K0sHost(spec, SSHTransport(spec, server.settings()))
        t = time.perf_counter()
        with ours.open("w") as fh:
            await run_logs([host], follow=True, lines=None, since=0, out=fh)
        return time.perf_counter() - t

    ssh_times, our_times = [], []
    for i in range(runs):
        if i % 2 == 0:
            ssh_times.append(ssh_leg())
            our_times.append(await our_leg())
        else:
            our_times.append(await our_leg())
            ssh_times.append(ssh_leg())
    ssh_lines = sum(1 for _ in ssh_file.open("rb"))
    our_lines = sum(1 for _ in ours.open("rb")) - 1  # minus the "stream ended" line
    ssh_s, ours_s = statistics.median(ssh_times), statistics.median(our_times)
    return {"lines": lines, "journalctl": " ".join(argv), "runs": runs,
            "ssh_journalctl_f_s": round(ssh_s, 2), "ssh_lines": ssh_lines,
            "k0s_tui_logs_follow_s": round(ours_s, 2), "k0s_tui_lines": our_lines,
            "ssh_over_k0s_tui": round(ssh_s / ours_s, 2),
            "pairs_s": [[round(a, 2), round(b, 2)] for a, b in zip(ssh_times, our_times)],
            "first_line": ours.open().readline().rstrip("\n")[:160]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--rate", type=float, default=12000.0)
    ap.add_argument("--lines", type=int, default=300_000)
    ap.add_argument("--headless-only", action="store_true", help="only the headless ssh vs. k0s-tui part")
    ap.add_argument("--runs", type=int, default=1, help="headless pairs (order alternating; medians)")
    args = ap.parse_args()
    base = Path(tempfile.mkdtemp(prefix="k0s-bench-logs-"))
    result: dict = {"rate_target": args.rate, "load_average_before": os.getloadavg()[0], "cpus": os.cpu_count()}
    if not args.headless_only:
        # the view streams past 50,000 lines for the memory figure: keep the generator going
        factory, server = start_host(base / "a", {"RATE": str(args.rate), "SECONDS": str(args.seconds + 60)})
        try:
            result.update(asyncio.run(view_run(server, args.seconds)))
        finally:
            factory.close()
    factory, server = start_host(base / "b", {"RATE": "0", "SECONDS": "0", "COUNT": str(args.lines)})
    try:
        result["headless"] = asyncio.run(headless_run(server, args.lines, base, max(1, args.runs)))
    finally:
        factory.close()
    subprocess.run(["rm", "-rf", "--", str(base)], check=False)
    h = result["headless"]
    result["targets"] = {
        "headless_at_least_as_fast_as_ssh": h["k0s_tui_logs_follow_s"] <= h["ssh_journalctl_f_s"] * 1.0,
    }
    if not args.headless_only:
        v, m = result["view"], result["memory"]
        result["targets"].update({
            "lines_per_s>=10000": v["lines_per_s_sustained"] >= 10_000,
            "key_p99<=100ms": v["key_ms_p99"] <= 100,
            "memory_above_idle<=60MiB": m["above_idle_mib"] <= 60,
        })
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

"""Cost of opening a Nodes confirm dialog on a big fleet (run by hand, not in CI).

    .venv/bin/python bench/quorum.py [N…]      (default 100 2000)

The dialog must open at once: it assesses from what is known (``session.cluster.assess_known``:
latest snapshots, the last etcd member list, no I/O). The action then assesses again with fresh
data (``session.cluster.assess``: a refresh of the controllers and targets, the member list,
k0sctl's locks). On a demo cluster of N hosts (3 controllers) after one full refresh, prints
one JSON object per N: median seconds of the dialog's assessment (stop of every worker: the
worst case for the Ready-worker count) and of the fresh one (stop of one worker), and their ratio.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.session.session import ClusterSession


def _median(fn, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


async def one(n: int) -> dict:
    cluster = DemoCluster(controllers=3, workers=n - 3)
    session = ClusterSession.open(demo_inventory(cluster), simulated=demo_transports(cluster))
    for host in session.hosts.values():
        host.transport.latency = (0.0, 0.0)
    await session.nodes.refresh()
    workers = [w.name for w in cluster.workers]
    known = _median(lambda: session.cluster.assess_known("stop", workers))
    fresh = []
    for _ in range(5):
        t0 = time.perf_counter()
        await session.cluster.assess("stop", workers[:1])
        fresh.append(time.perf_counter() - t0)
    fresh_s = statistics.median(fresh)
    await session.close()
    return {"n": n, "dialog_assess_s": round(known, 6), "dialog_us_per_host": round(known / n * 1e6, 2),
            "fresh_assess_s": round(fresh_s, 6), "fresh_over_dialog": round(fresh_s / known, 1)}


def main(argv: list[str]) -> int:
    for n in [int(a) for a in argv] or [100, 2000]:
        print(json.dumps(asyncio.run(one(n))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Console benchmarks on the demo cluster.

    .venv/bin/python bench/tui_start.py [--nodes 2000] [--images 10000] [--runs 3]

1. start-up: wall time from spawning `python -m tui.cli --demo`-equivalent child process to its
   first frame, and to the first *complete* frame (every host row filled in); measured from
   the parent, so interpreter start and imports count.
2. big refresh: a demo cluster grown to N nodes and M images in total; one full refresh of the
   Nodes pane and of the Containers pane (all hosts), with: wall time, peak RSS of the process,
   and key latency while the refresh runs (bench/tui_latency.py's probe: a key 20 ms after the
   previous one moved the cursor, timed from hand-over to the cursor moving).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------- child: start-up

async def _child_start() -> None:
    """Run the demo app headless; print wall-clock times of the first and the complete frame."""
    from tui.screenshots import demo_app

    with tempfile.TemporaryDirectory() as tmp:
        app = demo_app(Path(tmp))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()  # the first frame: header, tabs, "connecting…" rows
            first = time.time()
            while len(app.session.nodes.snapshots()) < len(app.session.hosts):
                await pilot.pause(0.002)
            await pilot.pause()  # the frame that shows the last host
            complete = time.time()
        print(json.dumps({"first_wall": first, "complete_wall": complete}), flush=True)


def bench_start(runs: int) -> dict[str, float]:
    """Median wall time (s) from spawning the process to its first and its complete frame."""
    firsts, completes = [], []
    for _ in range(runs):
        t0 = time.time()
        out = subprocess.run([sys.executable, __file__, "--child-start"], capture_output=True,
                             text=True, cwd=ROOT, env={**os.environ, "TEXTUAL_ANIMATIONS": "none"}, check=True)
        data = json.loads(out.stdout.strip().splitlines()[-1])
        firsts.append(data["first_wall"] - t0)
        completes.append(data["complete_wall"] - t0)
    firsts.sort()
    completes.sort()
    return {"first_frame_s": round(firsts[len(firsts) // 2], 3),
            "complete_frame_s": round(completes[len(completes) // 2], 3)}


# ---------------------------------------------------------------------- big refresh

async def bench_big(nodes: int, images: int) -> dict[str, float]:
    from tui.screenshots import demo_app

    sys.path.insert(0, str(ROOT / "bench"))
    from tui_latency import KeyProbe, Phase, pct  # the same key probe as the fleet bench

    with tempfile.TemporaryDirectory() as tmp:
        app = demo_app(Path(tmp), scan_certs=False, **big_demo_kwargs(nodes, images))
        result: dict[str, float] = {}
        async with app.run_test(size=(160, 48)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            for label, start in (("nodes", lambda: app.nodes_pane.refresh_data()),
                                 ("images", lambda: app.images_pane.set_scope(None))):
                if label == "images":
                    await pilot.press("2")
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                    table = app.images_pane.images_table
                else:
                    table = app.nodes_pane.primary_table()
                table.focus()
                await pilot.pause()
                # Keys go straight to the driver, each timed until the cursor moved (no Pilot
                # idle waits: those would measure how busy the app is, not how late a key is).
                phase, stop = Phase(), asyncio.Event()
                task = asyncio.create_task(KeyProbe(app, table).run(phase, stop))
                t = time.perf_counter()
                start()
                await pilot.pause()
                await app.workers.wait_for_complete()
                # Rows still queued for a later slice (and the workers showing them) count too.
                while app.images_pane.pending_hosts or any(w.is_running for w in app.workers):
                    await app.workers.wait_for_complete()
                    await pilot.pause(0.005)
                result[f"{label}_refresh_s"] = round(time.perf_counter() - t, 2)
                stop.set()
                await task
                result[f"{label}_keys"] = len(phase.keys)
                result[f"{label}_key_median_ms"] = round(pct(phase.keys, 0.5) * 1000, 1)
                result[f"{label}_key_p95_ms"] = round(pct(phase.keys, 0.95) * 1000, 1)
                result[f"{label}_key_max_ms"] = round(max(phase.keys, default=0.0) * 1000, 1)
            result["rows_nodes"] = app.nodes_pane.primary_table().row_count
            result["rows_images"] = app.images_pane.images_table.row_count
        result["peak_rss_mib"] = round(_rss_mib(), 1)
        return result


def big_demo_kwargs(nodes: int, images: int) -> dict[str, int]:
    """DemoCluster keyword arguments for a cluster of ``nodes`` hosts (3 controllers).

    The demo stocks each node with its k0s system images plus 1-3 workloads, so the image count
    follows from the node count; the report gives the real number of image rows.
    """
    return {"workers": nodes - 3, "controllers": 3}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-start":
        asyncio.run(_child_start())
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    print(json.dumps({"start": bench_start(args.runs)}, indent=2))
    print(json.dumps({"big": asyncio.run(bench_big(args.nodes, args.images))}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

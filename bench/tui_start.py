"""Console benchmarks on the demo cluster.

    .venv/bin/python bench/tui_start.py [--nodes 2000] [--images 10000] [--runs 3] [--json] [--start-only]

1. start-up: wall time from spawning `python -m tui.cli --demo`-equivalent child process to its
   first frame (``first_frame_s``: the first screen update Textual hands to its driver, i.e.
   header, tabs and the Nodes table's "connecting…" rows), to the first *complete* frame (every
   host row filled in), and to the first time the process is idle (``first_idle_s``, Pilot's idle
   wait); measured from the parent, so interpreter start and imports count.
2. big refresh: a demo cluster grown to N nodes and M images in total; one full refresh of the
   Nodes pane and of the Containers pane (all hosts), with: wall time, peak RSS of the process,
   and key latency while the refresh runs (bench/tui_latency.py's probe: a key 20 ms after the
   previous one moved the cursor, timed from hand-over to the cursor moving), the longest
   garbage-collection pause (gc.callbacks) and, for comparison, the same refreshes without any
   UI (``*_fetch_parse_s``: the demo's answers plus parsing, same process, after the UI part).
3. ``bare_textual_first_frame_s`` (and ``bare_textual_first_idle_s``): a minimal Textual app with
   one DataTable, started and timed the same way, so the figures can be read as ratios within one
   run.
4. the same in a terminal (``*_tty_s``): ``k0s-tui --demo`` itself (``python -m tui.cli``) and
   the bare app, each in a pseudo-terminal of 120x36, timed from spawning to the first output
   that shows the Nodes table (a host name), and to a filled-in state cell for the console.
   The idle figures count everything a start does until it rests, the demo's answers to the
   first refresh included (each demo command answers after 5-30 ms, as a host would, and a
   controller's refresh takes two rounds): they measure the first refresh as much as the
   first frame.

``--json`` prints one JSON object with every figure; ``--start-only`` runs parts 1, 3 and 4 only.

The project's modules are byte-compiled first (``compileall``, as installing a wheel does):
where ``PYTHONDONTWRITEBYTECODE`` is set, as on the benchmark machine, Python would otherwise
compile ~100 of them again at every start (~0.3 s) while Textual's come compiled.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import gc
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ---------------------------------------------------------------------- child: start-up

def _time_first_frame() -> dict[str, float]:
    """Record when (wall clock, process CPU) Textual first hands a screen update to its driver:
    the first frame (headless, the driver writes nothing; a terminal would get it now)."""
    from textual.app import App

    seen: dict[str, float] = {}
    display = App._display

    def first_display(app, screen, renderable) -> None:
        if renderable is not None and "first_wall" not in seen:
            seen["first_wall"], seen["first_cpu"] = time.time(), time.process_time()
        display(app, screen, renderable)

    App._display = first_display  # type: ignore[method-assign]
    return seen


async def _child_start() -> None:
    """Run the demo app headless; print wall-clock times of the first frame, the complete frame
    and the first idle."""
    seen = _time_first_frame()
    from tui.screenshots import demo_app

    with tempfile.TemporaryDirectory() as tmp:
        app = demo_app(Path(tmp))
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            idle, idle_cpu = time.time(), time.process_time()
            while len(app.session.nodes.snapshots()) < len(app.session.hosts):
                await pilot.pause(0.002)
            await pilot.pause()  # the frame that shows the last host
            complete = time.time()
        print(json.dumps({**seen, "idle_wall": idle, "idle_cpu": idle_cpu, "complete_wall": complete}), flush=True)


def _bare_app():
    """A minimal Textual app with one DataTable."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self) -> ComposeResult:
            table: DataTable = DataTable()
            table.add_columns("Host", "State")
            table.add_row("controller-1", "running")
            yield table

    return Bare()


async def _child_bare() -> None:
    """The bare app headless: wall-clock times of its first frame and its first idle."""
    seen = _time_first_frame()
    async with _bare_app().run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        idle, idle_cpu = time.time(), time.process_time()
    print(json.dumps({**seen, "idle_wall": idle, "idle_cpu": idle_cpu}), flush=True)


def _spawn(flag: str) -> tuple[float, dict[str, float]]:
    t0 = time.time()
    out = subprocess.run([sys.executable, __file__, flag], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "TEXTUAL_ANIMATIONS": "none"}, check=True)
    return t0, json.loads(out.stdout.strip().splitlines()[-1])


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, every thread) process ``pid`` has used so far (/proc, 10 ms steps)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tty_times(argv: list[str], markers: list[bytes], size: tuple[int, int] = (120, 36),
               timeout: float = 30.0) -> dict[bytes, tuple[float, float]]:
    """Run ``argv`` in a pseudo-terminal: for each marker, (seconds from spawning it until the
    marker was output, CPU seconds the process had used by then)."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    with tempfile.TemporaryDirectory() as tmp:  # the console's catalog, audit log, keymap
        env = {**os.environ, "TERM": "xterm-256color", "TEXTUAL_ANIMATIONS": "none",
               **{var: str(Path(tmp) / var) for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}}
        t0 = time.time()
        proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env,
                                start_new_session=True)
        os.close(slave)
        seen, out = {}, b""
        try:
            while len(seen) < len(markers) and time.time() - t0 < timeout:
                if not select.select([master], [], [], 0.5)[0]:
                    continue
                try:
                    out += os.read(master, 1 << 16)
                except OSError:  # the child closed the terminal
                    break
                now = time.time()
                for marker in markers:
                    if marker not in seen and marker in out:
                        seen[marker] = (now - t0, _cpu_seconds(proc.pid))
            os.write(master, b"\x11")  # ctrl+q
            quit_by = time.time() + 10
            while proc.poll() is None and time.time() < quit_by:  # drain: a full terminal blocks its exit
                if select.select([master], [], [], 0.1)[0]:
                    try:
                        os.read(master, 1 << 16)
                    except OSError:
                        break
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)
    missing = [m for m in markers if m not in seen]
    if missing:
        raise RuntimeError(f"{argv}: no {missing} on the terminal within {timeout} s")
    return seen


def bench_start_tty(runs: int) -> dict[str, float]:
    """Median seconds from spawning `k0s-tui --demo` in a terminal to its first frame with the
    Nodes table and to a filled-in row, and the bare app's first frame (runs interleaved);
    ``*_cpu_s``: the CPU time the process had used by its first frame."""
    firsts, completes, bares, cpu, bare_cpu = [], [], [], [], []
    for _ in range(runs):
        seen = _tty_times([sys.executable, "-m", "tui.cli", "--demo"], [b"controller-1", b"running"])
        firsts.append(seen[b"controller-1"][0])
        cpu.append(seen[b"controller-1"][1])
        completes.append(seen[b"running"][0])
        bare = _tty_times([sys.executable, __file__, "--child-bare-tty"], [b"controller-1"])[b"controller-1"]
        bares.append(bare[0])
        bare_cpu.append(bare[1])
    med = lambda v: round(sorted(v)[len(v) // 2], 3)  # noqa: E731
    return {"first_frame_tty_s": med(firsts), "complete_frame_tty_s": med(completes),
            "bare_textual_first_frame_tty_s": med(bares), "first_frame_tty_cpu_s": med(cpu),
            "bare_textual_first_frame_tty_cpu_s": med(bare_cpu)}


def compile_sources() -> None:
    """Byte-compile the project's packages (a no-op when their bytecode is up to date)."""
    for package in ("backends", "tui", "widgets"):
        compileall.compile_dir(ROOT / package, quiet=1)


def bench_start(runs: int) -> dict[str, float]:
    """Median wall time (s) from spawning the process to its first frame, its complete frame and
    its first idle, and the same for a bare Textual app (runs interleaved, so both see the same
    machine load); ``*_cpu_s``: the CPU time the process had used by then (less sensitive to load)."""
    ours: dict[str, list[float]] = {}
    bare: dict[str, list[float]] = {}
    for _ in range(runs):
        for flag, out in (("--child-start", ours), ("--child-bare", bare)):
            t0, data = _spawn(flag)
            for key, value in data.items():
                out.setdefault(key, []).append(value - t0 if key.endswith("_wall") else value)
    med = lambda v: round(sorted(v)[len(v) // 2], 3)  # noqa: E731
    return {"first_frame_s": med(ours["first_wall"]), "complete_frame_s": med(ours["complete_wall"]),
            "first_idle_s": med(ours["idle_wall"]), "bare_textual_first_frame_s": med(bare["first_wall"]),
            "bare_textual_first_idle_s": med(bare["idle_wall"]), "first_frame_cpu_s": med(ours["first_cpu"]),
            "bare_textual_first_frame_cpu_s": med(bare["first_cpu"]), "first_idle_cpu_s": med(ours["idle_cpu"]),
            "bare_textual_first_idle_cpu_s": med(bare["idle_cpu"])}


class GcPauses:
    """The longest garbage collection while installed (gc.callbacks)."""

    def __init__(self) -> None:
        self.max_s = 0.0
        self.count = 0
        self._t = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t = time.perf_counter()
        else:
            self.count += 1
            self.max_s = max(self.max_s, time.perf_counter() - self._t)

    def __enter__(self) -> "GcPauses":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


async def bench_fetch_parse(nodes: int) -> dict[str, float]:
    """The same refreshes without any UI: the demo answering plus parsing (second of two runs,
    as the UI part's timed refreshes are)."""
    from backends.demo import DemoCluster, demo_inventory, demo_transports
    from backends.session.session import ClusterSession
    from tui.screenshots import FROZEN

    with tempfile.TemporaryDirectory() as tmp:
        demo = DemoCluster(clock=lambda: FROZEN, **big_demo_kwargs(nodes, 0))
        session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), backup_dir=Path(tmp) / "b",
                                      audit_path=Path(tmp) / "audit.log", clock=lambda: FROZEN)
        result: dict[str, float] = {}
        try:
            for label in ("nodes", "images"):
                for _ in range(2):
                    t = time.perf_counter()
                    if label == "nodes":
                        await session.nodes.refresh()
                    else:
                        async for _host, _images in session.images.stream(session.host_names):
                            pass
                    result[f"{label}_fetch_parse_s"] = round(time.perf_counter() - t, 2)
        finally:
            await session.close()
        return result


# ---------------------------------------------------------------------- big refresh

async def bench_big(nodes: int, images: int) -> dict[str, float]:
    from tui.screenshots import demo_app
    from tui.settle import settle

    sys.path.insert(0, str(ROOT / "bench"))
    from tui_latency import KeyProbe, Phase, pct  # the same key probe as the fleet bench

    with tempfile.TemporaryDirectory() as tmp:
        app = demo_app(Path(tmp), scan_certs=False, **big_demo_kwargs(nodes, images))
        result: dict[str, Any] = {}
        all_keys: list[float] = []
        gcp = GcPauses()
        async with app.run_test(size=(160, 48)) as pilot:
            await settle(app, pilot)  # the start's own work first (the first refresh, then sysinfo)
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
                gc.callbacks.append(gcp)
                start()
                await pilot.pause()
                await app.workers.wait_for_complete()
                # Rows still queued for a later slice (and the workers showing them) count too.
                while app.images_pane.pending_hosts or any(w.is_running for w in app.workers):
                    await app.workers.wait_for_complete()
                    await pilot.pause(0.005)
                result[f"{label}_refresh_s"] = round(time.perf_counter() - t, 2)
                gc.callbacks.remove(gcp)
                stop.set()
                await task
                all_keys += phase.keys
                result[f"{label}_keys"] = len(phase.keys)
                result[f"{label}_key_median_ms"] = round(pct(phase.keys, 0.5) * 1000, 1)
                result[f"{label}_key_p95_ms"] = round(pct(phase.keys, 0.95) * 1000, 1)
                result[f"{label}_key_max_ms"] = round(max(phase.keys, default=0.0) * 1000, 1)
            result["rows_nodes"] = app.nodes_pane.primary_table().row_count
            result["rows_images"] = app.images_pane.images_table.row_count
        result["peak_rss_mib"] = round(_rss_mib(), 1)
        result["key_latency_ms"] = {"p50": round(pct(all_keys, 0.5) * 1000, 1),
                                    "p99": round(pct(all_keys, 0.99) * 1000, 1),
                                    "max": round(max(all_keys, default=0.0) * 1000, 1)}
        result["gc_max_pause_ms"] = round(gcp.max_s * 1000, 1)
        result["gc_collections"] = gcp.count
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
    if len(sys.argv) > 1 and sys.argv[1] == "--child-bare":
        asyncio.run(_child_bare())
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--child-bare-tty":
        _bare_app().run()  # in a terminal (a pseudo-terminal of the parent)
        return 0
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="one JSON object on one line")
    ap.add_argument("--start-only", action="store_true", help="only the start-up figures (parts 1, 3 and 4)")
    args = ap.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    compile_sources()
    result: dict[str, Any] = {**bench_start(args.runs), **bench_start_tty(args.runs)}
    for key in ("first_frame", "first_idle", "first_frame_tty"):
        result[f"{key}_ratio"] = round(result[f"{key}_s"] / result[f"bare_textual_{key}_s"], 2)
        # the same ratio in CPU time (load-proof)
        result[f"{key}_cpu_ratio"] = round(result[f"{key}_cpu_s"] / result[f"bare_textual_{key}_cpu_s"], 2)
    if args.start_only:
        print(json.dumps(result) if args.json else json.dumps(result, indent=2))
        return 0
    result.update(asyncio.run(bench_big(args.nodes, args.images)))  # peak RSS: the UI part only
    result.update(asyncio.run(bench_fetch_parse(args.nodes)))
    for label in ("nodes", "images"):
        result[f"{label}_refresh_ratio"] = round(result[f"{label}_refresh_s"] / max(result[f"{label}_fetch_parse_s"], 0.01), 2)
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

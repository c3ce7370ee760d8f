"""What the hostile-input guards cost, as ratios within one run (prints JSON).

- sanitiser: ``clean_line`` on a typical clean table cell and on a hostile one, against
  ``str()`` of the same value (the per-cell work the table did before);
- table cells: ``widgets.table.cell`` for 20,000 clean strings (one Containers refresh of the
  2,000-node demo) — the sanitiser's share of building them;
- host YAML: ``parse_status`` of real k0s YAML, of the largest document the bounds allow
  (HOST_MAX_BYTES, under HOST_MAX_NODES, no anchors), and the refusal of a 620-byte alias bomb; with the peak memory of each.

usage: .venv/bin/python bench/hostile.py [REPEAT]     (default 5; best of REPEAT)
"""

from __future__ import annotations

import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from backends.k0s.parsers import ParseError, parse_status  # noqa: E402
from backends.safetext import clean_line  # noqa: E402
from backends.safeyaml import HOST_MAX_BYTES, HOST_MAX_NODES  # noqa: E402
from widgets.table import cell  # noqa: E402

# The YAML form (`k0s status -o yaml`): Go field names, no text-only keys.
STATUS_YAML = ("Version: v1.30.1+k0s.0\nPid: 1\nPPid: 0\nRole: controller\nSysInit: linux-systemd\n"
               "StubFile: /etc/systemd/system/k0scontroller.service\nWorkloads: false\n"
               "SingleNode: false\nArgs:\n- --enable-worker=false\n")
BOMB = "Version: v1\nRole: worker\n" + 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in zip("abcdefgh", "bcdefghi"))


def best(fn: Callable[[], object], n: int, repeat: int) -> float:
    """Best wall time of ``repeat`` runs of ``n`` calls, per call (seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n)
    return min(times)


def peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
    except ParseError:
        pass
    finally:
        p = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return p


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    calm, evil = "quay.io/k0sproject/pause:3.9", "worker\x1b]52;c;SGk=\x07\x1b[2J"
    out: dict[str, object] = {}
    s_calm = best(lambda: str(calm), 200_000, repeat)
    c_calm = best(lambda: clean_line(calm), 200_000, repeat)
    c_evil = best(lambda: clean_line(evil), 200_000, repeat)
    out["sanitiser_ns"] = {"str_clean": round(s_calm * 1e9), "clean_line_clean": round(c_calm * 1e9),
                           "clean_line_hostile": round(c_evil * 1e9)}
    cells = [f"registry.example/app-{i}:v{i % 7}" for i in range(20_000)]
    t_cells = best(lambda: [cell(c) for c in cells], 1, repeat)
    t_sani = best(lambda: [clean_line(c) for c in cells], 1, repeat)
    out["table_20k_cells_ms"] = {"cell()": round(t_cells * 1e3, 1), "of_which_sanitiser": round(t_sani * 1e3, 1),
                                 "share": round(t_sani / t_cells, 3)}
    # Largest document the bounds let through: HOST_MAX_BYTES of a list, under HOST_MAX_NODES.
    item = 64 * 1024 // (HOST_MAX_NODES - 100) + 1
    big = STATUS_YAML + "Pad:\n" + "".join(f"- {'x' * (item - 3)}\n" for _ in range(HOST_MAX_NODES - 100))
    big = big[:HOST_MAX_BYTES - 1]
    big = big[:big.rfind("\n") + 1]
    assert parse_status(big).role == "controller"  # the largest allowed document is parsed, not refused
    for name, text in (("real_status", STATUS_YAML), ("largest_allowed", big), ("alias_bomb", BOMB)):
        def run(text: str = text) -> None:
            try:
                parse_status(text)
            except ParseError:
                pass
        out[f"yaml_{name}"] = {"bytes": len(text), "ms": round(best(run, 1 if len(text) > 10_000 else 200, repeat) * 1e3, 3),
                               "peak_kib": peak(lambda text=text: parse_status(text)) // 1024}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

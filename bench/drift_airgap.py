"""Cost of the fleet-wide computations this console redoes often (run by hand, not in CI).

    .venv/bin/python bench/drift_airgap.py [N…]      (default 100 2000)

- drift: :func:`backends.k0s.drift.fleet_drift` over N hosts (the header and the Nodes status
  line recompute it after each burst of snapshots), against a header redraw's budget;
- airgap compare: :func:`backends.session.airgap.compare_images` of one node holding N images
  against a 20-image list (the per-host work of `:airgap`).

Prints one JSON object per N: median seconds of 20 runs and the per-host cost in microseconds.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from backends.k0s.drift import fleet_drift
from backends.models import Image
from backends.session.airgap import compare_images


def _median(fn, runs: int = 20) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    sizes = [int(a) for a in argv] or [100, 2000]
    for n in sizes:
        versions = {f"node-{i}": ("v1.31.9+k0s.0" if i % 7 == 0 else "v1.33.3+k0s.0") for i in range(n)}
        drift = _median(lambda: fleet_drift(versions, "v1.33.3+k0s.0"))
        drift_newest = _median(lambda: fleet_drift(versions, None))
        images = [Image(ref=f"registry.local/team/app-{i}:1.{i}", media_type="", digest=f"sha256:{i:064x}",
                        size_bytes=1) for i in range(n)]
        needed = [f"registry.local/team/app-{i}:1.{i}" for i in range(0, 40, 2)]
        compare = _median(lambda: compare_images(needed, images))
        print(json.dumps({"n": n, "drift_s": round(drift, 6), "drift_newest_s": round(drift_newest, 6),
                          "drift_us_per_host": round(drift / n * 1e6, 2),
                          "airgap_compare_s": round(compare, 6),
                          "airgap_us_per_image": round(compare / n * 1e6, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The ctr parsers against a live containerd (tests/fixtures/containerd.py), not only samples.

Images go into a namespace of their own so other tests' views of `k8s.io` are not disturbed.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from backends.k0s.parsers import group_images, parse_ctr_images, parse_ctr_images_quiet, parse_label_output, parse_pull_progress
from tests.fixtures.containerd import ThrottledProxy, push_random_image

NS = "k0s-tui-parsers"


def _oci_digest(layout: Path, tag: str) -> str:
    """The manifest digest the OCI layout records for ``tag`` (what the registry serves)."""
    index = json.loads((layout / "index.json").read_text())
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m["digest"]
    raise AssertionError(f"tag {tag} not in {layout}")


@pytest.mark.timeout(120)
def test_live_listing_and_hostile_labels(containerd) -> None:
    ref = containerd.busybox
    containerd.ctr("images", "pull", "--plain-http", ref, namespace=NS)
    out = containerd.ctr("images", "label", ref, "[bold]x=1", "a=b=c", "note=hello world, again", "k=",
                         namespace=NS).stdout
    labels = parse_label_output(out)
    assert labels == {"[bold]x": "1", "a": "b=c", "note": "hello world, again"}
    # a digest ref of the same image, so grouping has something to group
    digest = _oci_digest(containerd.oci, "busybox")
    containerd.ctr("images", "tag", ref, f"{ref.rsplit(':', 1)[0]}@{digest}", namespace=NS, check=False)

    listing = containerd.ctr("images", "ls", namespace=NS).stdout
    images = parse_ctr_images(listing)
    assert sorted(i.ref for i in images) == sorted(parse_ctr_images_quiet(
        containerd.ctr("images", "ls", "-q", namespace=NS).stdout))
    [img] = [i for i in images if i.ref == ref]
    assert img.digest == digest
    assert img.labels == labels
    assert img.platforms == ("linux/amd64",)
    assert 500_000 < img.size_bytes < 4_000_000  # busybox-static, about 1 MiB
    assert img.media_type.startswith("application/vnd.oci.image.")
    groups = [g for g in group_images(images) if g.digest == digest]
    assert len(groups) == 1 and groups[0].primary.ref == ref

    empty = containerd.ctr("images", "ls", namespace=NS + "-empty").stdout
    assert parse_ctr_images(empty) == []


@pytest.mark.timeout(120)
async def test_live_pull_progress_through_slow_link(containerd) -> None:
    size = 3 << 20
    ref = await asyncio.to_thread(push_random_image, containerd, "parsers-progress", size)
    port = int(containerd.registry.addr.rsplit(":", 1)[1])
    async with ThrottledProxy(port, rate=3 << 20) as proxy:
        slow_ref = ref.replace(containerd.registry.addr, f"127.0.0.1:{proxy.port}")
        proc = await asyncio.create_subprocess_exec(
            "ctr", "--address", containerd.socket, "-n", NS, "images", "pull", "--plain-http", slow_ref,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=90)
    assert proc.returncode == 0, err.decode()
    lines = out.decode("utf-8", "replace").splitlines()
    updates = [u for u in map(parse_pull_progress, lines) if u is not None]
    layer_rows = [u for u in updates if u.layers and any(t for _, t in u.layers.values())]
    assert layer_rows, "no per-layer byte counts seen:\n" + "\n".join(lines[-20:])
    totals = {t for u in layer_rows for _, t in u.layers.values() if t}
    assert any(abs(t - size) < size * 0.1 for t in totals), totals  # the random layer, ±10 % (human sizes)
    assert all(d <= t for u in layer_rows for d, t in u.layers.values() if t)
    assert any(u.image == slow_ref for u in updates)
    assert updates[-1].status == "done"
    assert "unpacking" in [u.status for u in updates]

"""Hostile input, class "parsing that never stops": alias bombs, 100k-deep nesting, duplicate
keys. Each gives the parser's OWN error type within a second in bounded memory (time and
tracemalloc peak asserted); hypothesis builds nested anchor/alias documents of every shape.

Runs inside a network namespace with loopback only (tests/fixtures/netns.py).
"""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.errors import OutputParseError, ValidationError
from backends.hosts.inventory import InventoryError, load_inventory
from backends.hosts.spec import HostSpec
from backends.k0s import parsers
from backends.k0s.config import parse_cluster_config
from backends.k0s.host import K0sHost
from backends.k0s.parsers import ParseError
from backends.transport.local import LocalTransport
from tests.k0s_scripts import _write

SECOND = 1.0
PEAK_BYTES = 32 << 20  # what a refused document may cost at most (pyyaml used gigabytes)


def laughs(levels: int = 9, width: int = 9, *, prefix: str = "") -> str:
    """The classic "billion laughs": each level aliases the one below ``width`` times."""
    lines = [prefix + 'a: &a ["lol"' + ', "lol"' * (width - 1) + "]"]
    prev = "a"
    for i in range(1, levels):
        name = f"l{i}"
        lines.append(f"{prefix}{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
        prev = name
    return "\n".join(lines) + "\n"


STATUS_BOMB = "Version: v1.30.1+k0s.0\nRole: controller\n" + laughs()
DEEP_FLOW = "Version: v1\nRole: worker\nx: " + "[" * 100_000 + "]" * 100_000 + "\n"
DEEP_BLOCK = "Version: v1\nRole: worker\nx:\n" + "".join("  " * i + "-\n" for i in range(1, 3000))
DEEP_JSON = '{"Version": "v1", "Role": "worker", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"


def bounded(fn: Callable[[], object], error: type[BaseException]) -> BaseException:
    """Run ``fn``; it must raise exactly ``error`` (a subclass counts) within a second, in bounded memory."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        fn()
    except error as exc:
        caught: BaseException = exc
    else:
        raise AssertionError(f"{fn} did not raise {error.__name__}")
    finally:
        took = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert not isinstance(caught, RecursionError)
    assert took < SECOND, f"took {took:.2f}s"
    assert peak < PEAK_BYTES, f"peak {peak >> 20} MiB"
    return caught


@pytest.mark.parametrize("text", [STATUS_BOMB, DEEP_FLOW, DEEP_BLOCK, DEEP_JSON],
                         ids=["alias-bomb", "deep-flow-yaml", "deep-block-yaml", "deep-json"])
def test_status_bombs_are_parse_errors(text: str) -> None:
    exc = bounded(lambda: parsers.parse_status(text), ParseError)
    assert type(exc) is ParseError


def test_status_refuses_a_single_harmless_alias() -> None:
    # k0s never prints anchors: even a tiny alias is refused, so no expansion can start.
    exc = bounded(lambda: parsers.parse_status("Version: v1\nRole: &r worker\nx: *r\n"), ParseError)
    assert "anchor" in str(exc)


@pytest.mark.parametrize("text", [laughs(), "a: " + "[" * 100_000 + "]" * 100_000,
                                  "a:\n" + "".join("  " * i + "b:\n" for i in range(1, 2000)) + "    " * 2000 + "c: 1\n",
                                  "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec: {}\nspec: {}\n"],
                         ids=["alias-bomb", "deep-flow", "deep-block", "duplicate-key"])
def test_k0s_yaml_bombs_are_validation_errors(text: str) -> None:
    bounded(lambda: parse_cluster_config(text), ValidationError)


def test_k0s_yaml_keeps_ordinary_anchors() -> None:
    # Files may use anchors (legal YAML): a small, bounded use still loads.
    text = ("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n"
            "spec:\n  network:\n    kubeProxy: &kp {mode: ipvs}\n  extra: *kp\n")
    assert parse_cluster_config(text).kube_proxy.mode == "ipvs"


INVENTORY = "apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nmetadata:\n  name: c\n"


@pytest.mark.parametrize("body", [
    laughs(prefix=""),
    "spec: " + "[" * 100_000 + "]" * 100_000 + "\n",
    "spec:\n  hosts:\n  - role: worker\n    ssh: {address: 10.0.0.1}\n    role: controller\n",
], ids=["alias-bomb", "deep-flow", "duplicate-key"])
def test_inventory_bombs_are_inventory_errors(tmp_path: Path, body: str) -> None:
    path = tmp_path / "k0sctl.yaml"
    path.write_text(INVENTORY + body)
    exc = bounded(lambda: load_inventory(path), InventoryError)
    assert str(path) in str(exc)


# ------------------------------------------------------------------ hypothesis: any anchor shape


@st.composite
def anchored_documents(draw) -> str:
    """Documents where every level may alias any earlier anchor any number of times."""
    levels = draw(st.integers(1, 12))
    lines = ["a0: &a0 [" + ", ".join(["x"] * draw(st.integers(1, 20))) + "]"]
    for i in range(1, levels):
        refs = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=20))
        lines.append(f"a{i}: &a{i} [" + ", ".join(f"*a{r}" for r in refs) + "]")
    nest = draw(st.integers(0, 300))
    lines.append("deep: " + "[" * nest + "]" * nest)
    return "\n".join(lines) + "\n"


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(doc=anchored_documents())
def test_any_anchor_document_ends_fast(doc: str) -> None:
    t0 = time.perf_counter()
    with pytest.raises(ParseError):
        parsers.parse_status("Version: v1\nRole: worker\n" + doc)
    try:
        parse_cluster_config("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n" + doc)
    except ValidationError:
        pass  # refused (too big/deep): fine; loading a bounded document is fine too
    assert time.perf_counter() - t0 < SECOND


@FUZZ
@given(depth=st.integers(2, 120_000), kind=st.sampled_from("[{"))
def test_any_json_depth_is_a_parse_error_or_a_result(depth: int, kind: str) -> None:
    text = "[" * depth + "]" * depth if kind == "[" else '{"k": ' * depth + "1" + "}" * depth
    t0 = time.perf_counter()
    for parse in (parsers.parse_kube_nodes, parsers.parse_sysinfo, parsers.parse_status):
        with pytest.raises(ParseError):  # never RecursionError: only the parser's own error
            parse(text)
    assert time.perf_counter() - t0 < SECOND


# ------------------------------------------------------------------ a real host, a real event loop


async def test_host_printing_a_bomb_does_not_stop_the_event_loop(tmp_path: Path) -> None:
    """A `k0s` whose `status` prints an alias bomb: the host call fails with its own error in
    well under a second, and a ticker on the same loop keeps running meanwhile."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(STATUS_BOMB)
    k0s = _write(tmp_path / "k0s", f"#!/bin/sh\ncase \"$1\" in status) cat '{bomb}' ;; "
                                    "version) echo v1.30.1+k0s.0 ;; *) exit 1 ;; esac\n")
    host = K0sHost(HostSpec(name="evil", role="controller", k0s_binary=str(k0s)), LocalTransport("evil"))
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    with pytest.raises(OutputParseError) as info:
        await host.status()
    took = time.perf_counter() - t0
    stop.set()
    await task
    assert "anchor" in str(info.value) and took < SECOND
    assert ticks >= 1


def test_archive_and_host_k0s_yaml_bombs_are_value_errors() -> None:
    # restore compares the archive's storage type with the host's k0s.yaml: both are bounded.
    from backends.k0s.backups import config_storage_type

    for text in (laughs(), "a: " + "[" * 100_000 + "]" * 100_000):
        exc = bounded(lambda: config_storage_type(text), ValueError)
        assert type(exc) is ValueError


def test_registry_manifest_deep_json_is_a_value_error() -> None:
    from backends.images.containerd.manifests import parse_index

    exc = bounded(lambda: parse_index(b"[" * 100_000 + b"]" * 100_000), ValueError)
    assert type(exc) is ValueError


@pytest.mark.parametrize("text", ["[keymap]\nx = " + "[" * 100_000 + "]" * 100_000 + "\n",
                                  '[keymap]\n"nodes.stop" = "x\\u001b]0;t\\u0007"\n'],
                         ids=["deep-array", "control-in-key"])
def test_keymap_bombs_are_keymap_errors(tmp_path: Path, text: str) -> None:
    from tui.keymap import KeymapError, load_keymap

    path = tmp_path / "keymap.toml"
    path.write_text(text)
    exc = bounded(lambda: load_keymap(path), KeymapError)
    assert str(path) in str(exc)

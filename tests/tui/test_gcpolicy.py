"""GcPolicy: freeze while busy, full collections only when idle, nothing left frozen at exit."""

from __future__ import annotations

import gc
import weakref

import pytest

from tui.gcpolicy import GcPolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector can free it


@pytest.fixture
def policy():
    clock = Clock()
    p = GcPolicy(freeze_at=1000, defrost_every=60.0, idle_for=3.0, clock=clock)
    p.clock_ref = clock  # type: ignore[attr-defined]
    yield p
    p.stop()
    gc.unfreeze()


def test_start_and_busy_ticks_freeze_what_is_alive(policy):
    policy.start()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    few = [[i] for i in range(100)]
    gc.collect()  # survivors land in the oldest generation, where the threshold looks
    policy.tick(busy=True)
    assert gc.get_freeze_count() < frozen + 100 and policy.freezes == 0  # below freeze_at
    keep = [[i] for i in range(5000)]  # tracked objects made after the start
    gc.collect()
    policy.tick(busy=True)
    assert gc.get_freeze_count() >= frozen + 5000 and policy.freezes == 1
    assert keep and few


def test_a_frozen_cycle_is_freed_by_the_idle_full_collection_only_when_due(policy):
    clock = policy.clock_ref
    policy.start()
    node = Node()
    bulk = [[i] for i in range(2000)]
    gc.collect()
    policy.tick(busy=True)  # frozen while alive
    assert policy.freezes == 1
    del bulk
    ref = weakref.ref(node)
    del node
    gc.collect()
    assert ref() is not None, "automatic collections do not walk frozen objects"
    clock.now += 30
    policy.tick(busy=False)
    assert ref() is not None and policy.full_collections == 0  # not due yet
    clock.now += 40
    policy.saw_input()
    clock.now += 1
    policy.tick(busy=False)
    assert ref() is not None and policy.full_collections == 0  # someone is typing
    clock.now += 5
    policy.tick(busy=True)
    assert policy.full_collections == 0  # busy: never a full collection
    policy.tick(busy=False)
    assert ref() is None and policy.full_collections == 1 and policy.last_freed >= 1
    assert gc.get_freeze_count() > 0  # the survivors are frozen again


def test_stop_gives_everything_back(policy):
    policy.start()
    policy.tick(busy=True)
    policy.stop()
    assert gc.get_freeze_count() == 0
    policy.tick(busy=True)  # after stop: does nothing
    assert gc.get_freeze_count() == 0


async def test_the_console_freezes_after_start_and_unfreezes_at_exit(tmp_path):
    from tests.tui_support import settle_until
    from tui.screenshots import demo_app

    app = demo_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle_until(app, pilot, lambda: app.gc_policy.started, "the gc policy started")
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0

"""When the console lets CPython's garbage collector walk the whole heap.

CPython's automatic full (generation-2) collection visits every tracked object. With a big
fleet's data in memory (2,000 hosts: ~800,000 objects) one takes 0.3-0.9 s, during which no key
is handled, and it comes back several times per refresh. It finds almost nothing: the console's
data are replaced whole on each refresh and freed by reference counting, not by the collector.

The policy (plain :mod:`gc`, no Textual):

- after start-up, and on a :meth:`GcPolicy.tick` while the console is busy (a refresh or an
  operation runs) once the oldest generation holds :attr:`freeze_at` unfrozen objects, it
  collects them (a short collection: only the unfrozen) and :func:`gc.freeze` moves the
  survivors into the permanent generation (a constant-time list splice). Automatic
  collections then visit only what was allocated since, which takes milliseconds.
- frozen objects are still freed by reference counting when they die; only a *cycle* of
  frozen objects that dies later escapes the automatic collections (Textual's rendered lines
  are such cycles: a Strip caches the list its own ``divide`` returned, holding itself), which
  is why freezing waits for a threshold instead of happening on every tick. So once the console has
  been idle (nothing running, no input for :attr:`idle_for` s) and :attr:`defrost_every` s have
  passed since the last full collection, :meth:`tick` unfreezes and runs one full collection
  (the pause the default policy takes several times per refresh, taken once, while nobody
  waits), then freezes the survivors again.
- :meth:`stop` unfreezes everything (an app that exits leaves the process as it found it).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


class GcPolicy:
    """Freeze while busy, collect fully only when idle. Call :meth:`start`, then :meth:`tick`
    periodically, :meth:`saw_input` on every key or click, and :meth:`stop` at exit."""

    def __init__(self, *, freeze_at: int = 10_000, defrost_every: float = 300.0, idle_for: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        #: Unfrozen objects in the oldest generation that make a busy tick freeze (what a
        #: collection walks is then never much more: 15-22 ms at 10,000 during the 2,000-host
        #: refreshes, where 20,000 gave 17-30 ms and a longer wait for a key behind two of them).
        self.freeze_at = freeze_at
        self.freezes = 0
        self.defrost_every = defrost_every
        self.idle_for = idle_for
        self.clock = clock
        self.started = False
        self.last_input = clock()
        self.last_full = clock()
        #: Full collections run by :meth:`tick` and what they freed (for the log and tests).
        self.full_collections = 0
        self.last_freed = 0

    def start(self) -> None:
        """Freeze what start-up made (modules, classes, the widget tree): it lives as long as
        the app, so no collection should ever walk it again."""
        gc.collect(1)  # young garbage first, so it is not frozen with the rest
        gc.freeze()
        self.started = True
        self.last_full = self.clock()

    def saw_input(self) -> None:
        """The user pressed a key or clicked: a full collection now would be felt."""
        self.last_input = self.clock()

    def tick(self, busy: bool) -> None:
        """Freeze when ``busy``; when idle long enough and a full collection is due, run it."""
        if not self.started:
            return
        if busy:
            if len(gc.get_objects(generation=2)) >= self.freeze_at:
                # Cycles that already died among the unfrozen go first (a collection of at
                # most freeze_at objects), so what is frozen is what is alive.
                gc.collect()
                gc.freeze()
                self.freezes += 1
            return
        now = self.clock()
        if now - self.last_full >= self.defrost_every and now - self.last_input >= self.idle_for:
            self.full_collect()

    def full_collect(self) -> int:
        """Unfreeze, collect every generation, freeze the survivors; returns objects freed."""
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        self.full_collections += 1
        self.last_freed = freed
        self.last_full = self.clock()
        return freed

    def stop(self) -> None:
        """Give every frozen object back to the collector."""
        if self.started:
            gc.unfreeze()
            self.started = False

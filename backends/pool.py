"""A bounded table of shared values: equal things a fleet's hosts print thousands of times
(an image row, a probe, a table cell) kept as one object.

Only for immutable values, or values every user treats as immutable: whoever gets one from a
pool shares it with every other host's data.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

#: Entries a pool holds at most; a full pool is emptied (values in use stay alive, only their
#: sharing with later equal values is lost), so a host printing endless distinct values costs
#: bounded memory.
POOL_MAX = 16_384


class Pool(Generic[K, V]):
    """``share(key, make)``: the value stored for ``key``, else ``make()`` stored and returned."""

    __slots__ = ("_items", "limit")

    def __init__(self, limit: int = POOL_MAX) -> None:
        self._items: dict[K, V] = {}
        self.limit = limit

    def share(self, key: K, make: Callable[[], V]) -> V:
        """The one value for ``key`` (made by ``make`` the first time)."""
        found = self._items.get(key)
        if found is not None:
            return found
        if len(self._items) >= self.limit:
            self._items.clear()
        value = self._items[key] = make()
        return value

    def __len__(self) -> int:
        return len(self._items)

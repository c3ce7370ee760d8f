"""The demo cluster: a simulated k0s cluster answering real k0s commands in real output formats.

``k0s-tui --demo`` runs through the same adapter and parsers as a real cluster, over
:class:`DemoTransport` (in-process) — or, for tests over real SSH, through the stand-in
``k0s`` executable of :mod:`backends.demo.standin` (see :func:`write_standin`).

Names are imported on first use so the stand-in executable starts without asyncio & co.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "DemoCluster": "backends.demo.cluster",
    "DemoTransport": "backends.demo.transport",
    "make_demo_transport": "backends.demo.transport",
    "demo_inventory": "backends.demo.transport",
    "demo_transports": "backends.demo.transport",
    "Reply": "backends.demo.commands",
    "answer": "backends.demo.commands",
    "write_standin": "backends.demo.launcher",
}
__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from backends.demo.cluster import DemoCluster
    from backends.demo.commands import Reply, answer
    from backends.demo.launcher import write_standin
    from backends.demo.transport import DemoTransport, demo_inventory, demo_transports, make_demo_transport


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'backends.demo' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)

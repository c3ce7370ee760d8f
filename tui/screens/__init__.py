"""Modal screens of the console.

Panes reach them as ``screens.<Name>`` (``from tui import screens``): a screen's module, and the
Textual widgets it uses, are imported when the screen is first opened rather than before the
console's first frame (start-up cost: ~15 ms that no frame needs until then).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Name -> the module of this package that defines it.
_MODULES = {
    "ConfirmScreen": "modals", "InputScreen": "modals", "TextScreen": "modals", "HelpScreen": "modals",
    "ChoiceScreen": "choice", "RestoreScreen": "restore", "NodeDetailsScreen": "node_details",
    "ContainerDetailsScreen": "container_details", "ServiceConfirmScreen": "service_confirm",
    "ServiceChoice": "service_confirm",
}


def __getattr__(name: str) -> Any:
    """Import the module defining ``name`` on first use (PEP 562)."""
    try:
        module = _MODULES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups are plain attributes
    return value

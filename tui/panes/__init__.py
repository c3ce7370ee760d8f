"""The pane registry: adding a pane is one class plus one line here."""

from __future__ import annotations

from tui.panes.backups import BackupsPane
from tui.panes.base import Pane
from tui.panes.certs import CertsPane
from tui.panes.config import ConfigPane
from tui.panes.containers import ContainersPane
from tui.panes.logs import LogsPane
from tui.panes.nodes import NodesPane
from tui.panes.sysinfo import SysinfoPane

#: Panes in tab order; keys 1..n switch to them, `:<pane_id>` and aliases open them.
PANES: list[type[Pane]] = [
    NodesPane,
    ContainersPane,
    SysinfoPane,
    BackupsPane,
    CertsPane,
    ConfigPane,
    LogsPane,
]


def pane_for_word(word: str) -> type[Pane] | None:
    """The pane a `:` word names (id or alias), if any."""
    for pane in PANES:
        if word == pane.pane_id or word in pane.aliases or word in pane.VERBS:
            return pane
    return None

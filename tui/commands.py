"""Command palette (ctrl+p) provider: pane jumps and the actions of the pane in view."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import K0sTuiApp


class K0sCommands(Provider):
    """Offers "Go to <pane>" for every pane and every enabled action of the current pane."""

    def _commands(self) -> list[tuple[str, str, object]]:
        from tui.panes import PANES

        app: K0sTuiApp = self.app  # type: ignore[assignment]
        out: list[tuple[str, str, object]] = []
        for pane in PANES:
            out.append((f"Go to {pane.title}", f":{pane.pane_id}", partial(app.action_show_pane, pane.pane_id)))
        try:
            pane = app.active_pane
        except Exception:  # noqa: BLE001 - the palette may open before the panes exist
            return out
        for binding in pane.BINDINGS:
            if pane.check_action(binding.action, ()) is False:
                continue
            out.append((f"{pane.title}: {binding.description}", f"key {binding.key}",
                        partial(pane.run_action, binding.action)))
        for bindings in pane._bindings.key_to_bindings.values():  # commands.toml entries, bound at start
            for b in bindings:
                if (b.id or "").startswith("user."):
                    out.append((f"{pane.title}: {b.description}", f"key {b.key} (commands.toml)",
                                partial(pane.run_action, b.action)))
        out.append(("Toggle activity panel", "operations and their progress", app.action_toggle_activity))
        out.append(("Refresh now", "snapshot every host", app.action_refresh_now))
        out.append(("Show key bindings", "?", app.action_help))
        return out

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

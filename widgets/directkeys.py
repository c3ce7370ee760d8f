"""Run a focused widget's own key bindings where the key arrives.

Textual tries a focused widget's (non-priority) bindings only after the key has bubbled
through every ancestor's message queue back to the App: here, table -> pane -> tab pane ->
switcher -> tabbed content -> screen -> app, one queue hop (at least one event-loop turn) each.
While a 2,000-host refresh keeps the loop busy those hops add up to a tenth of a second or more
per key. The widget's own bindings are the first the App would try anyway, so trying them in
the widget gives the same result without the detour.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


class DirectBindings:
    """Mixin for focusable widgets: their own bindings run on arrival (see module doc).

    Not a Widget subclass: a Widget base here would take part in CSS type matching and
    override the widget's real base (ScrollView's overflow rules, for one)."""

    async def _on_key(self: Widget, event: events.Key) -> None:
        # Widget._on_key (key_… methods) would run after this one: run it here, first, as
        # Textual does, and keep it from running twice.
        event.prevent_default()
        if await self.handle_key(event):
            return
        try:
            active = self.screen.active_bindings.get(event.key)
        except Exception:  # noqa: BLE001 - not on a screen (yet): the normal path decides
            return
        # Only this widget's own, enabled, non-priority binding (priority ones the App ran
        # before forwarding); everything else takes the normal way up.
        if active is None or active.node is not self or not active.enabled or active.binding.priority:
            return
        event.stop()
        await self.run_action(active.binding.action)

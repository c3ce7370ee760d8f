"""A modal that picks one of a few values (the Config pane's kube-proxy mode)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from tui.screens.modals import MODAL_CSS


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a few values (returns it, or None on cancel)."""

    DEFAULT_CSS = MODAL_CSS + """
    ChoiceScreen OptionList { height: auto; max-height: 12; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, title: str, choices: Sequence[str], *, current: str | None = None,
                 help_text: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.help_text = help_text

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            if self.help_text:
                yield Static(Text(self.help_text))
            yield OptionList(*[Option(Text(f"{c}  (current)" if c == self.current else c), id=c)
                               for c in self.choices], id="choices")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        ol = self.query_one("#choices", OptionList)
        ol.focus()
        if self.current in self.choices:
            ol.highlighted = self.choices.index(self.current)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

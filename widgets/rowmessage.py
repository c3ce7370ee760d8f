"""One line under a table showing the selected row's full message (the column a narrow
terminal cuts first)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class RowMessage(Static):
    """``key: message`` of the row under the cursor; empty when that row has none.

    Fed by its pane (on cursor moves and when the selected row changes); the text is kept as
    given (a :class:`~rich.text.Text` or plain string, never markup) and cut at the width.
    """

    DEFAULT_CSS = """
    RowMessage { height: 1; padding: 0 1; color: $text; background: $boost; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.key = ""
        self.message = ""

    def show(self, key: str, message: Text | str) -> None:
        """Show ``message`` of row ``key`` (only the first line; nothing when empty)."""
        text = message.copy() if isinstance(message, Text) else Text(str(message))
        plain = text.plain.splitlines()[0] if text.plain else ""
        if plain != text.plain:
            text = text[:len(plain)]
        if (key, plain) == (self.key, self.message):
            return
        self.key, self.message = key, plain
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if plain:
            line.append(f"{key}: ", style="bold")
            line.append_text(text)
        self.update(line, layout=False)  # one line of fixed height: no layout pass

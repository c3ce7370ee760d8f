"""Modal screens: confirmation (optionally typed), validated input, text/output, help."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Static

from widgets.safe import safe_str, safe_text
from widgets.style import status_text

MODAL_CSS = """
ModalScreen { align: center middle; }
ModalScreen > Vertical { width: 90%; max-width: 100; height: auto; max-height: 90%;
    border: thick $primary; background: $surface; padding: 0 1; }
ModalScreen .title { text-style: bold; height: auto; margin-bottom: 1; }
ModalScreen .targets { height: auto; max-height: 12; }
ModalScreen .problem { color: $error; height: auto; }
ModalScreen Horizontal.buttons { height: 3; align-horizontal: right; margin-top: 1; }
ModalScreen Button { margin-left: 1; }
ModalScreen VerticalScroll.body { height: auto; max-height: 30; }
"""


class ConfirmScreen(ModalScreen[bool]):
    """Ask before acting; names every target. With ``typed`` the user must type that text."""

    DEFAULT_CSS = MODAL_CSS
    # q cancels too (k9s habit); with a typed confirmation, q goes into the text field.
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel"),
                Binding("q", "cancel", "Cancel", show=False, id="modal.cancel_q")]

    def __init__(self, title: str, targets: Sequence[str], *, detail: str = "", typed: str | None = None,
                 confirm_label: str = "Confirm") -> None:
        super().__init__()
        # Titles, targets and details name hosts and files: controls made visible here, once.
        self.title_text = safe_str(title, line=True)
        self.targets = [safe_str(t, line=True) for t in targets]
        self.detail = safe_str(detail)
        self.typed = None if typed is None else safe_str(typed, line=True)
        self.confirm_label = safe_str(confirm_label, line=True)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            body = Text()
            for t in self.targets:
                body.append(f"  • {t}\n")
            if self.detail:
                body.append(self.detail)
            yield VerticalScroll(Static(body, markup=False), classes="targets")
            if self.typed is not None:
                yield Static(Text(f"Type {self.typed!r} to confirm:"))
                yield Input(placeholder=self.typed, id="typed")
            yield Static("", classes="problem", id="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#typed" if self.typed is not None else "#cancel").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self._try_confirm()
        else:
            self.dismiss(False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._try_confirm()

    def _try_confirm(self) -> None:
        if self.typed is not None and self.query_one("#typed", Input).value != self.typed:
            self.query_one("#problem", Static).update(f"the text typed is not {self.typed!r}")
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class InputScreen(ModalScreen[str | None]):
    """One line of input with a validator that explains rejected input (returns None on cancel)."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, title: str, *, value: str = "", placeholder: str = "", help_text: str = "",
                 validate: Callable[[str], str | None] | None = None) -> None:
        super().__init__()
        self.title_text = safe_str(title, line=True)
        self.value = safe_str(value, line=True)
        self.placeholder = safe_str(placeholder, line=True)
        self.help_text = safe_str(help_text)
        self.validate_fn = validate

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            if self.help_text:
                yield Static(Text(self.help_text))
            yield Input(value=self.value, placeholder=self.placeholder, id="value")
            yield Static("", classes="problem", id="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#value", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._submit()

    def _submit(self) -> None:
        value = self.query_one("#value", Input).value
        problem = self.validate_fn(value) if self.validate_fn else None
        if problem:
            self.query_one("#problem", Static).update(safe_text(problem))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Read-only text (details, command output); the body is updated as data arrives."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape", "close", "Back", id="modal.back"),
                Binding("q", "close", "Back", show=False, id="modal.back_q")]

    def __init__(self, title: str, body: Text | str = "") -> None:
        super().__init__()
        self.title_text = safe_str(title, line=True)
        self.body = Static(safe_text(body), markup=False, id="body")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            yield VerticalScroll(self.body, classes="body")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close")

    def set_body(self, body: Text | str) -> None:
        """Replace the text shown (plain strings are never markup)."""
        self.body.update(safe_text(body))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    """The key bindings in force, generated from the real (keymap-applied) bindings."""

    DEFAULT_CSS = MODAL_CSS + """
    HelpScreen DataTable { height: auto; max-height: 30; }
    """
    BINDINGS = [Binding("escape", "close", "Back", id="help.back"),
                Binding("q", "close", "Back", show=False, id="help.back_q")]

    def __init__(self, rows: Sequence[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = list(rows)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Key bindings (rebind by id in keymap.toml)", classes="title")
            table = DataTable(cursor_type="row", zebra_stripes=True)
            table.add_columns("Key", "Action", "Id")
            for key, desc, bid in self.rows:
                table.add_row(Text(key), Text(desc), Text(bid))
            yield table

    def action_close(self) -> None:
        self.dismiss(None)


def checks_text(app, checks) -> Text:
    """Restore preconditions as coloured lines (✓ / ✗ / ! for non-blocking)."""
    t = Text()
    for c in checks:
        level = "success" if c.ok else ("error" if c.blocking else "warning")
        mark = "✓" if c.ok else ("✗" if c.blocking else "!")
        t.append_text(status_text(app, f"{mark} {c.name}", level))  # status_text cleans
        t.append(f": {safe_str(c.detail, line=True)}\n")
    return t


#: Where OpenSSH keeps a host's public key of each type (what to fingerprint on the host).
_HOST_KEY_FILES = {"ssh-ed25519": "ssh_host_ed25519_key.pub", "ssh-rsa": "ssh_host_rsa_key.pub",
                   "ssh-dss": "ssh_host_dsa_key.pub"}


def host_key_file(key_type: str) -> str:
    """/etc/ssh/ssh_host_*_key.pub for a key type (ecdsa-sha2-* → the ecdsa file)."""
    name = "ssh_host_ecdsa_key.pub" if key_type.startswith("ecdsa") else _HOST_KEY_FILES.get(
        key_type, "ssh_host_ed25519_key.pub")
    return f"/etc/ssh/{name}"


class HostKeyScreen(ModalScreen[bool]):
    """Show an unknown SSH host key (host, address, type, SHA256 fingerprint) and ask whether to
    trust it. Dismisses True only on the Trust button; Cancel/escape is the default."""

    DEFAULT_CSS = MODAL_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="modal.cancel")]

    def __init__(self, host: str, address: str, key_type: str, fingerprint: str, *,
                 known_hosts: str = "", via: str = "") -> None:
        super().__init__()
        self.host = safe_str(host, line=True)
        self.address = safe_str(address, line=True)
        self.key_type = safe_str(key_type, line=True)
        self.fingerprint = safe_str(fingerprint, line=True)
        self.known_hosts = safe_str(known_hosts, line=True)
        self.via = safe_str(via, line=True)

    def body_text(self) -> Text:
        """What the screen says (every value taken literally)."""
        t = Text()
        rows = [("host", self.host), ("address", self.address), ("key type", self.key_type),
                ("fingerprint", self.fingerprint)]
        if self.via:
            rows.insert(1, ("bastion of", self.via))
        for label, value in rows:
            t.append(f"{label:>12}: ", style="bold")
            t.append(f"{value}\n")
        t.append("\n")
        t.append_text(status_text(self.app, "Compare this fingerprint with the host's own before trusting it", "warning",
                                  bold=True))
        t.append(", obtained out-of-band (its console, your provisioning logs), for example on the host:\n")
        t.append(f"    ssh-keygen -lf {host_key_file(self.key_type)}\n", style="bold")
        t.append("If they differ, do not trust it: someone may be intercepting the connection.\n")
        if self.known_hosts:
            t.append(f"\nTrust appends one line to {self.known_hosts}.\n")
        return t

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Unknown SSH host key: {self.host}"), classes="title")
            yield VerticalScroll(Static(self.body_text(), markup=False, id="hostkey-body"), classes="body")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Trust", id="trust", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "trust")

    def action_cancel(self) -> None:
        self.dismiss(False)

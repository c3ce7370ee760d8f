"""The confirm dialog of a start / stop / restart / rolling restart: what the cluster keeps.

Shows the targets, then the assessment (etcd quorum, API outage, Ready workers, hosts k0sctl
holds), offers draining Ready workers first (uncordon after start), and — when the action would
break quorum — confirms only after the operator types the override phrase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Input, Static

from backends.k0s.drain import DRAIN_GRACE_SECONDS, DRAIN_TIMEOUT_SECONDS
from backends.session.quorum import OVERRIDE_WORD, Assessment
from tui.screens.modals import MODAL_CSS, ConfirmScreen


@dataclass(frozen=True)
class ServiceChoice:
    """What the operator confirmed."""

    drain: bool
    force: bool


class ServiceConfirmScreen(ConfirmScreen):
    """Confirm a service action with its assessment; dismissed with a :class:`ServiceChoice`
    (False: cancelled). A ConfirmScreen (``targets``, ``#confirm``) with more to say."""

    DEFAULT_CSS = MODAL_CSS + """
    ServiceConfirmScreen .refusal { color: $error; text-style: bold; height: auto; }
    ServiceConfirmScreen .notes { height: auto; }
    ServiceConfirmScreen Checkbox { height: auto; }
    """
    def __init__(self, title: str, assessment: Assessment, *, confirm_label: str,
                 extra: Sequence[str] = ()) -> None:
        super().__init__(title, assessment.targets, confirm_label=confirm_label)
        self.assessment = assessment
        self.extra = list(extra)
        # The base class focuses the typed field when there is one (and handles the buttons).
        self.typed = OVERRIDE_WORD if assessment.refusal else None

    def compose(self) -> ComposeResult:
        a = self.assessment
        with Vertical():
            yield Static(Text(self.title_text), classes="title")
            body = Text()
            for t in a.targets:
                body.append(f"  • {t}\n")
            for h in a.locked:
                body.append(f"  • {h} (skipped)\n", style="dim")
            yield VerticalScroll(Static(body, markup=False), classes="targets")
            if a.refusal:
                yield Static(Text(a.refusal), classes="refusal", id="refusal")
            notes = Text()
            for line in [*a.notes, *a.locked.values(), *self.extra]:
                notes.append(f"{line}\n")
            yield Static(notes, classes="notes", id="notes", markup=False)
            if a.drainable or (a.operation == "start" and a.workload_targets) or a.operation == "rolling restart":
                yield Checkbox(f"drain Ready workers first (k0s kubectl drain, grace {DRAIN_GRACE_SECONDS}s, "
                               f"timeout {DRAIN_TIMEOUT_SECONDS}s); uncordon after start",
                               value=bool(a.drainable) or a.operation == "rolling restart", id="drain")
            if self.typed is not None:
                yield Static(Text(f"Type {OVERRIDE_WORD!r} to override (audited):"))
                yield Input(placeholder=OVERRIDE_WORD, id="typed")
            yield Static("", classes="problem", id="problem", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="error", disabled=not a.targets)

    def _try_confirm(self) -> None:
        force = False
        if self.typed is not None:
            if self.query_one("#typed", Input).value != self.typed:
                self.query_one("#problem", Static).update(f"the text typed is not {self.typed!r}")
                return
            force = True
        boxes = self.query("#drain")
        drain = bool(boxes) and boxes.first(Checkbox).value
        self.dismiss(ServiceChoice(drain=drain, force=force))

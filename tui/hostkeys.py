"""The console's SSH host-key review: `t` on a Nodes row.

An unknown key is shown (host, address, type, SHA256 fingerprint, how to check it on the host)
and appended to the app's known_hosts only on an explicit Trust; a changed key is explained
(where the old key is, how to remove it) and never offered for trust.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from rich.text import Text

from backends.transport.ssh.trust import HostKeyReview, removal_argv
from tui.console import WorkerKey
from tui.screens.modals import HostKeyScreen, TextScreen, host_key_file
from widgets.style import status_text

if TYPE_CHECKING:
    from tui.panes.nodes import NodesPane

def review_host_key(pane: "NodesPane", host: str) -> None:
    """Fetch ``host``'s key in a worker, then show the trust or the changed-key screen."""
    pane.console.start_once(WorkerKey("hostkey", host), _review(pane, host))


async def _review(pane: "NodesPane", host: str) -> None:
    app, session = pane.app, pane.session
    review = await session.hostkeys.review(host)  # unreachable, not SSH…: the error sink says so
    if review.changed:
        app.push_screen(TextScreen(f"SSH host key CHANGED: {host}", changed_text(pane, host, review)))
        return
    if review.trusted:
        app.notify(f"{review.spec.name}: key {review.fingerprint} is already trusted; reconnecting",
                   title=f"host key {host}", markup=False)
        pane.refresh_hosts([host])
        return
    via = host if review.spec.name != host else ""

    def answered(ok: bool | None) -> None:
        if ok:
            pane.console.start_once(WorkerKey("hostkey", host), _trust(pane, host, review))

    app.push_screen(HostKeyScreen(review.spec.name, review.address, review.key_type, review.fingerprint,
                                  known_hosts=str(session.hostkeys.key_file(host)), via=via), answered)


async def _trust(pane: "NodesPane", host: str, review: HostKeyReview) -> None:
    path = await pane.session.hostkeys.trust(host, review.public_key_line, review.spec)
    pane.app.notify(f"trusted {review.spec.name} ({review.fingerprint}) in {path}; reconnecting",
                    title=f"host key {host}", markup=False)
    pane.refresh_hosts([host])


def changed_text(pane: "NodesPane", host: str, review: HostKeyReview) -> Text:
    """Why a changed key is refused, where the old key is recorded and how to remove it."""
    t = Text()
    t.append_text(status_text(pane.app, f"{review.spec.name} presents a DIFFERENT host key than the one on record.",
                              "error", bold=True))
    t.append("\nThis is what an attacker intercepting the connection looks like; it also happens when the "
             "host was reinstalled or its SSH keys regenerated. k0s-tui never replaces a recorded key.\n\n")
    for label, value in (("host", review.spec.name), ("address", review.address),
                         ("presented now", f"{review.key_type} {review.fingerprint}")):
        t.append(f"{label:>14}: ", style="bold")
        t.append(f"{value}\n")
    t.append(f"{'old key in':>14}: ", style="bold")
    t.append(", ".join(str(p) for p in review.on_record) + "\n")
    t.append("\nOnly if you know why it changed, verify the new fingerprint on the host (for example "
             f"`ssh-keygen -lf {host_key_file(review.key_type)}`), then remove the old entry:\n")
    for path in review.on_record:
        t.append(f"    {shlex.join(removal_argv(review, path))}\n", style="bold")
    t.append(f"and press {pane.console.key_for('nodes.trust', 't')} on the row again to review and trust the new key.\n")
    return t

"""Cluster-aware flows the Nodes and Certificates panes share: the quorum-aware confirm of a
start/stop/restart, and the rolling restart (also the cluster-wide certificate renewal).

The dialog opens at once from what the session knows (latest snapshots, the last etcd member
list); the backend assesses again with fresh data and k0sctl's locks when the action runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.text import Text

from backends.session.core import HostResult
from tui import screens
from widgets.activity import Operation

if TYPE_CHECKING:  # the quorum rules load with the first assessment, not with the console
    from backends.session.quorum import Assessment


def confirm_service(pane, operation: str, hosts: list[str]) -> None:
    """Ask (naming every host, with what the cluster keeps), then run the service action."""
    a = pane.session.cluster.assess_known(operation, hosts)

    def go(choice: screens.ServiceChoice | bool | None) -> None:
        if choice:
            run_service(pane, operation, hosts, choice)

    pane.app.push_screen(screens.ServiceConfirmScreen(f"{operation.capitalize()} k0s on {len(hosts)} host(s)?", a,
                                              confirm_label=operation.capitalize()), go)


def _failures(pane, title: str, failed: Sequence[HostResult]) -> None:
    body = Text()
    for r in failed:
        body.append(f"── {r.host} ──\n", style="bold")
        body.append(r.error + "\n\n")
    pane.app.push_screen(screens.TextScreen(title, body))


def run_service(pane, operation: str, hosts: list[str], choice: screens.ServiceChoice | None = None) -> Operation:
    """The service action through the quorum check (no confirmation: callers ask first)."""
    choice = choice or screens.ServiceChoice(drain=False, force=False)

    async def job(op: Operation) -> list[HostResult]:
        results = await pane.session.cluster.service(operation, hosts, force=choice.force, drain=choice.drain)
        pane.announce("nodes", [r.host for r in results])
        failed = [r for r in results if not r.ok]
        if failed:
            _failures(pane, f"{operation} failed on {', '.join(r.host for r in failed)}", failed)
        return results
    return pane.console.start_operation(f"{operation} k0s", hosts, job, show=True)


def roll_assessment(pane, order: list[str], *, what: str) -> Assessment:
    """The dialog's view of a roll: the first host whose restart alone breaks quorum refuses."""
    from backends.session.quorum import Assessment, assess

    session = pane.session
    pic = session.cluster.known_picture()
    a = Assessment("rolling restart", list(order), list(order))
    for h in order:
        one = assess(pic, "restart", [h])
        if one.refused:
            a.refusal = one.refusal
            break
    deadline = session.cluster.host_deadline
    a.notes.append(f"{what}: one host at a time, controllers first; each must come back within "
                   f"{deadline:g}s (k0s running, kube-api answering, back in the etcd member list, "
                   "workers Ready and uncordoned) before the next starts.")
    a.notes.append("The roll stops at the first host that does not come back and leaves the rest "
                   "untouched; pressing the key again cancels after the current host.")
    return a


class RollState:
    """The roll in progress (one at a time per app): its cancel switch."""

    current: asyncio.Event | None = None


def confirm_roll(pane, hosts: list[str], *, renew: bool = False,
                 on_done: Callable[[list[str]], None] | None = None, title: str | None = None) -> None:
    """Confirm then run a rolling restart of ``hosts`` (controllers first). While one runs,
    asks whether to cancel it after the current host instead."""
    if RollState.current is not None and not RollState.current.is_set():
        event = RollState.current

        def stop(ok: bool | None) -> None:
            if ok:
                event.set()
        pane.app.push_screen(screens.ConfirmScreen("Cancel the rolling restart after the current host?", [],
                                           confirm_label="Cancel roll"), stop)
        return
    order = pane.session.cluster.roll_order(hosts)
    what = "Certificate renewal" if renew else "Rolling restart"
    a = roll_assessment(pane, order, what=what)

    def go(choice: screens.ServiceChoice | bool | None) -> None:
        if choice:
            run_roll(pane, order, choice, renew=renew, on_done=on_done)

    pane.app.push_screen(screens.ServiceConfirmScreen(title or f"{what} of {len(order)} host(s): {', '.join(order)}?",
                                              a, confirm_label="Roll"), go)


def run_roll(pane, order: list[str], choice: screens.ServiceChoice, *, renew: bool = False,
             on_done: Callable[[list[str]], None] | None = None) -> Operation:
    """Run the roll as one tracked operation: per-host notes in the activity panel."""
    cancel = asyncio.Event()
    RollState.current = cancel

    async def job(op: Operation) -> list[HostResult]:
        def progress(host: str, index: int, total: int, note: str) -> None:
            done = 1.0 if note == "back" else 0.0
            pane.console.progress(op, host, done, 1.0, note)
        try:
            result = await pane.session.cluster.rolling_restart(
                order, force=choice.force, drain=choice.drain, progress=progress, cancel=cancel, renew=renew)
        finally:
            if RollState.current is cancel:
                RollState.current = None
        for h in result.untouched:
            pane.console.progress(op, h, 0.0, 1.0, "left untouched")
        pane.announce("nodes", order)
        if on_done is not None:
            on_done([s.host for s in result.steps])
        out = [HostResult(s.host, s.ok, error="" if s.ok else
                          f"{s.message}" + (f" (gate: {s.failed_gate})" if s.failed_gate else ""))
               for s in result.steps]
        if not result.ok:
            pane.app.push_screen(screens.TextScreen("Rolling restart " + ("cancelled" if result.cancelled else "stopped"),
                                            Text(result.summary())))
        return out
    return pane.console.start_operation("certificate renewal" if renew else "rolling restart", order, job,
                                        show=True)


__all__ = ["confirm_roll", "confirm_service", "run_roll", "run_service"]

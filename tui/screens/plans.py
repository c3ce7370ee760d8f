"""`:plans` — k0s autopilot's Plan objects: plan state, per-node command state, target version.

Read only: it never creates, edits or deletes a plan. A cluster without the autopilot CRD
says "no autopilot". `r` reads the plans again.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding

from backends.k0s.autopilot import PlansResult
from backends.session.autopilot import autopilot_plans
from backends.session.session import ClusterSession
from tui.screens.report import ReportScreen
from widgets.style import status_text
from widgets.table import Col, ResourceTable

COLUMNS = [Col("plan", "Plan"), Col("command", "Command"), Col("version", "Version"), Col("role", "Role"),
           Col("node", "Node"), Col("state", "State"), Col("updated", "Updated"), Col("note", "Description")]

#: Plan / command states (autopilot's words) -> status level.
PLAN_LEVELS = {"Completed": "success", "Schedulable": "running-op", "SchedulableWait": "running-op",
               "Warning": "warning", "IncompleteTargets": "error", "Restricted": "error",
               "ApplyFailed": "error"}
#: Target (signal node) states -> status level.
TARGET_LEVELS = {"SignalCompleted": "success", "SignalSent": "running-op", "SignalPending": "pending",
                 "SignalMissingNode": "error", "SignalMissingPlatform": "error", "SignalApplyFailed": "error"}


def plan_level(state: str) -> str:
    return PLAN_LEVELS.get(state, "warning")


def target_level(state: str) -> str:
    return TARGET_LEVELS.get(state, "warning")


class PlansScreen(ReportScreen):
    """Autopilot plans, one row per (plan, command, target node)."""

    TITLE_TEXT = "Autopilot plans (read only)"
    LOADING_TEXT = "asking a controller for `kubectl get plans`…"
    COLUMNS = COLUMNS
    BINDINGS = [
        Binding("escape", "close", "Back", id="plans.back"),
        Binding("q", "close", "Back", show=False, id="plans.back_q"),
        Binding("r", "reload", "Reload", id="plans.reload"),
    ]

    def __init__(self, session: ClusterSession) -> None:
        super().__init__(session)
        self.result: PlansResult | None = None

    async def fetch(self) -> PlansResult:
        return await autopilot_plans(self.session)

    def failed(self) -> None:
        self.result = None

    def show(self, result: PlansResult) -> None:
        """Fill the summary and the table from ``result``."""
        self.result = result
        app = self.app
        table = self.query_one(ResourceTable)
        keys: list[str] = []
        if not result.available:
            table.retain([])
            self.status(status_text(app, f"no autopilot: the cluster has no Plan resource "
                                          f"(autopilot.k0sproject.io), asked on {result.host}", "muted"))
            return
        summary = Text(end="")
        if not result.plans:
            summary.append(f"autopilot is installed; no plans (asked on {result.host})")
        for n, plan in enumerate(result.plans):
            if n:
                summary.append("\n")
            targets = [t for c in plan.commands for t in c.targets]
            done = sum(t.state == "SignalCompleted" for t in targets)
            summary.append(f"plan {plan.name}", style="bold")
            summary.append(f" (id {plan.id or '-'}): ")
            summary.append_text(status_text(app, plan.state or "no state yet", plan_level(plan.state), bold=True))
            summary.append(f"   → {', '.join(plan.versions) or 'no version'}   {done} of {len(targets)} nodes done")
            for cmd in plan.commands:
                for t in cmd.targets:
                    key = f"{plan.name}\x1f{cmd.index}\x1f{t.role}\x1f{t.name}"
                    keys.append(key)
                    table.upsert(key, {
                        "plan": plan.name, "command": f"{cmd.index} {cmd.kind}", "version": cmd.version or "-",
                        "role": t.role, "node": t.name,
                        "state": status_text(app, t.state or "-", target_level(t.state)),
                        "updated": t.updated or "-",
                        "note": Text((t.description or "").splitlines()[0] if t.description else "", end=""),
                    })
        table.retain(keys)
        self.status(summary)

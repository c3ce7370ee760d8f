"""The cluster's autopilot Plans, asked of the first controller that answers. Read only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from backends.errors import BackendError
from backends.k0s.autopilot import PlansResult, fetch_plans

if TYPE_CHECKING:
    from backends.session.session import ClusterSession


async def autopilot_plans(session: ClusterSession) -> PlansResult:
    """Plans from the first controller that answers `k0s kubectl get plans -o json`.

    ``available`` is False on a cluster without autopilot (the Plan CRD is absent). Raises
    BackendError (every controller's reason) when none answers.
    """
    errors: list[str] = []
    for name in session.controllers():
        try:
            return await fetch_plans(session.host(name))
        except BackendError as exc:
            errors.append(f"{name}: {exc.message}")
    raise BackendError("", "; ".join(errors) or "no controller in the inventory to ask for plans")

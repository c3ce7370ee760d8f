"""k0s autopilot's Plan objects, read on a controller (`k0s kubectl get plans -o json`). Read only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backends.errors import BackendError
from backends.k0s import parsers
from backends.k0s.parsers.autopilot import Plan

if TYPE_CHECKING:
    from backends.k0s.host import K0sHost

PLANS_TIMEOUT = 30.0


@dataclass
class PlansResult:
    """Plans of the cluster as seen from one controller; ``available`` False: no autopilot CRD."""

    host: str
    available: bool
    plans: list[Plan] = field(default_factory=list)


async def fetch_plans(host: K0sHost) -> PlansResult:
    """The autopilot Plans seen through ``host`` (a controller).

    A cluster without autopilot (kubectl: ``the server doesn't have a resource type "plans"``)
    gives ``available=False``; other failures raise the adapter's typed errors.
    """
    if not host.spec.is_controller:
        raise BackendError(host.name, "kubectl runs on controllers only")
    result = await host.run_k0s("kubectl", *host._data_dir_args(), "get", "plans", "-o", "json",
                                timeout=PLANS_TIMEOUT)
    if not result.ok and parsers.is_plans_absent(result.stderr_text):
        return PlansResult(host=host.name, available=False)
    host._raise_if_not_running(result)
    host._require_ok(result)
    plans = host._parse("k0s kubectl get plans", parsers.parse_plans, result.stdout_text)
    return PlansResult(host=host.name, available=True, plans=plans)

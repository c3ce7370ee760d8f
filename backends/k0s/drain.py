"""`k0s kubectl drain` / `uncordon` argv, as k0sctl runs them before and after work on a node.

k0sctl's defaults (its ``spec.options.drain``): force, a 120 s grace period, a 5 minute timeout,
emptyDir data deleted, DaemonSet pods ignored — in that order on its command line. The node
name comes last, after ``--`` so a name can never be read as a flag.
"""

from __future__ import annotations

#: Seconds each pod gets to terminate (k0sctl: ``gracePeriod: 120s``).
DRAIN_GRACE_SECONDS = 120
#: How long kubectl waits for the evictions (k0sctl: ``timeout: 300s``).
DRAIN_TIMEOUT_SECONDS = 300


def drain_args(node: str, *, grace: int = DRAIN_GRACE_SECONDS, timeout: int = DRAIN_TIMEOUT_SECONDS) -> list[str]:
    """The ``kubectl`` arguments (after ``k0s kubectl [--data-dir D]``) that drain ``node``."""
    return ["drain", "--force", f"--grace-period={grace}", f"--timeout={timeout}s",
            "--delete-emptydir-data", "--ignore-daemonsets", "--", node]


def uncordon_args(node: str) -> list[str]:
    """The ``kubectl`` arguments that make ``node`` schedulable again."""
    return ["uncordon", "--", node]

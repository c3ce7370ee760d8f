"""Which containers use an image, and whether it is the pause image of running pod sandboxes
(what removing an image by digest must warn about or refuse)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from backends.models import Container, Image

#: The CRI sandbox ("pause") image by name: k0s ships quay.io/k0sproject/pause, upstream
#: registry.k8s.io/pause; any repository whose last path element is `pause`.
_PAUSE = re.compile(r"(?:^|/)pause(?::[^/@]*)?(?:@sha256:[0-9a-f]+)?$")
#: Sandbox states that mean "running".
_LIVE_SANDBOX = {"ready", "running"}
_LIVE_CONTAINER = {"running", "created", "paused", "pausing"}


def is_pause_ref(ref: str) -> bool:
    """Whether ``ref`` names a pause (pod sandbox) image."""
    return bool(_PAUSE.search(ref))


@dataclass
class RemovalPlan:
    """What removing the image ``digest`` from ``host`` would do and touch."""

    host: str
    digest: str
    refs: list[str]  # every reference to that digest on the host (all are removed)
    users: list[Container] = field(default_factory=list)  # containers using it (any state)
    sandboxes: list[Container] = field(default_factory=list)  # live sandboxes, when it is the pause image

    @property
    def pause_name(self) -> str:
        """The pause image's tagged name (what the user types to confirm), "" when not pause."""
        if not self.sandboxes:
            return ""
        tagged = [r for r in self.refs if is_pause_ref(r) and "@" not in r and not r.startswith("sha256:")]
        return (tagged or self.refs)[0]

    @property
    def running_users(self) -> list[Container]:
        return [c for c in self.users if c.state in _LIVE_CONTAINER]


def plan_removal(host: str, digest: str, images: Iterable[Image], containers: Iterable[Container]) -> RemovalPlan:
    """Every ref of ``digest`` among ``images``, the containers using one of them (by ref or
    digest), and — for a pause image — the live pod sandboxes (a gRPC sandbox row has no image:
    every live sandbox counts then; a `ctr` sandbox row names its image)."""
    refs = [img.ref for img in images if img.digest == digest]
    names = set(refs) | {digest}
    containers = list(containers)
    users = [c for c in containers if c.kind != "sandbox" and c.image in names]
    sandboxes: list[Container] = []
    if any(is_pause_ref(r) for r in refs):
        sandboxes = [c for c in containers if c.kind == "sandbox" and c.state in _LIVE_SANDBOX | {"running"}
                     and (not c.image or c.image in names)]
        # `ctr` lists sandboxes as plain containers running the pause image
        sandboxes += [c for c in containers if c.kind != "sandbox" and c.image in names and c.state == "running"
                      and c not in sandboxes]
        users = [c for c in users if c not in sandboxes]
    return RemovalPlan(host=host, digest=digest, refs=refs, users=users, sandboxes=sandboxes)

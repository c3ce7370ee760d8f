"""The demo's airgap image lists (`k0s airgap list-images [--all]`) and its autopilot Plan
(`k0s kubectl get plans -o json`, in the shapes of ``autopilot.k0sproject.io/v1beta2``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from backends.demo.formats import go_json, rfc3339
from backends.demo.state import _SYSTEM_IMAGES, CURRENT_VERSION, DemoNode, minor_of

#: The one image a demo node lacks (the airgap diff finds it): node -> image name.
LACKING = {"worker-2": "quay.io/k0sproject/cni-node"}
#: Optional components `--all` adds, by k0s minor: Calico (the config uses kube-router).
_OPTIONAL = {
    "1.33": [("quay.io/k0sproject/calico-cni", "v3.29.4-0"), ("quay.io/k0sproject/calico-node", "v3.29.4-0"),
             ("quay.io/k0sproject/calico-kube-controllers", "v3.29.4-0")],
    "1.31": [("quay.io/k0sproject/calico-cni", "v3.28.2-0"), ("quay.io/k0sproject/calico-node", "v3.28.2-0"),
             ("quay.io/k0sproject/calico-kube-controllers", "v3.28.2-0")],
}
#: Images of components the default config leaves off (node-local load balancing's envoy).
_OFF_BY_DEFAULT = ("envoy-distroless",)


def airgap_images(version: str, *, all_images: bool) -> list[str]:
    """What `k0s airgap list-images [--all]` prints for a controller on ``version``."""
    minor = minor_of(version)
    system = _SYSTEM_IMAGES.get(minor, _SYSTEM_IMAGES["1.33"])
    out = [f"{name}:{tag}" for name, tag, _size in system
           if all_images or name.rsplit("/", 1)[-1] not in _OFF_BY_DEFAULT]
    if all_images:
        out += [f"{name}:{tag}" for name, tag in _OPTIONAL.get(minor, _OPTIONAL["1.33"])]
    return out


# Target states of the plan in progress, by node: controllers done first, then workers.
_WORKER_STATES = ("SignalCompleted", "SignalCompleted", "SignalSent", "SignalPending", "SignalPending")


def plans_json(nodes: list[DemoNode], now: datetime) -> str:
    """One Plan in progress: every node to CURRENT_VERSION; controllers done, workers under way."""
    created = now - timedelta(minutes=42)
    controllers = [n for n in nodes if n.is_controller]
    workers = [n for n in nodes if not n.is_controller]

    def target(n: DemoNode, state: str, minutes: int) -> dict:
        return {"name": n.name, "state": state, "lastUpdatedTimestamp": rfc3339(now - timedelta(minutes=minutes))}

    platforms = {p: {"url": f"https://github.com/k0sproject/k0s/releases/download/{CURRENT_VERSION}/"
                            f"k0s-{CURRENT_VERSION}-{p.split('-')[1]}",
                     "sha256": "0" * 64}
                 for p in ("linux-amd64", "linux-arm64")}
    plan = {
        "apiVersion": "autopilot.k0sproject.io/v1beta2", "kind": "Plan",
        "metadata": {"creationTimestamp": rfc3339(created), "generation": 1, "name": "autopilot",
                     "resourceVersion": "48213", "uid": "7d1c5b0e-3a58-4d47-9f8e-0c2a61e4b1d9"},
        "spec": {
            "id": f"upgrade-{CURRENT_VERSION.split('+')[0]}", "timestamp": "now",
            "commands": [{"k0supdate": {
                "version": CURRENT_VERSION, "platforms": platforms,
                "targets": {
                    "controllers": {"discovery": {"static": {"nodes": [c.name for c in controllers]}},
                                    "limits": {"concurrent": 1}},
                    "workers": {"discovery": {"selector": {}}, "limits": {"concurrent": 2}}}}}],
        },
        "status": {"state": "SchedulableWait", "commands": [{
            "id": 0, "state": "SchedulableWait",
            "k0supdate": {
                "controllers": [target(c, "SignalCompleted", 40 - 4 * i) for i, c in enumerate(controllers)],
                "workers": [target(w, _WORKER_STATES[min(i, len(_WORKER_STATES) - 1)], 20 - i)
                            for i, w in enumerate(workers)]}}]},
    }
    return go_json({"apiVersion": "v1", "items": [plan], "kind": "List",
                    "metadata": {"resourceVersion": ""}}, indent=4) + "\n"


NO_PLANS = 'error: the server doesn\'t have a resource type "plans"\n'

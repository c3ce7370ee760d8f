"""Airgap diff: the images a controller's config needs (`k0s airgap list-images`) that each
node lacks, by normalised reference and, where the needed reference pins one, by digest."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backends.errors import BackendError
from backends.images.containerd.refs import normalize_ref
from backends.k0s.airgap import list_airgap_images
from backends.models import Image

if TYPE_CHECKING:
    from backends.session.session import ClusterSession


@dataclass
class HostAirgap:
    """One host against the needed list: what it lacks (``missing``) and how many it has."""

    host: str
    role: str
    missing: list[str] = field(default_factory=list)
    present: int = 0
    #: Why a missing image counts as missing when the node has its name (a different digest).
    reasons: dict[str, str] = field(default_factory=dict)
    version: str | None = None
    error: str = ""  # the node's images could not be listed
    skipped: str = ""  # not compared (a controller without workloads runs no pods)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.error


@dataclass
class AirgapReport:
    """The needed list (from ``source``, a controller) and every host's comparison."""

    source: str
    source_version: str | None
    needed: list[str]
    hosts: list[HostAirgap]
    all_images: bool = False

    @property
    def missing_any(self) -> bool:
        return any(h.missing for h in self.hosts)


def _split(ref: str) -> tuple[str, str]:
    """Normalised ``name:tag`` (or ``name`` when only a digest is given) and the digest."""
    name, _, digest = normalize_ref(ref).partition("@")
    return name, digest


def compare_images(needed: Iterable[str], images: Iterable[Image]) -> tuple[list[str], int, dict[str, str]]:
    """(missing refs, count present, reasons) of one node's ``images`` against ``needed``.

    A needed ``repo:tag`` is present when the node has that name after normalisation
    (``nginx`` = ``docker.io/library/nginx:latest``). A needed reference carrying a digest
    (``repo:tag@sha256:…`` or ``repo@sha256:…``) is present only when the node has an image
    with that digest; a node holding the tag with another digest gets a reason saying so.
    """
    by_name: dict[str, set[str]] = {}
    digests: set[str] = set()
    for img in images:
        if img.ref.startswith("sha256:"):
            continue  # a bare config id: no name to match
        name, ref_digest = _split(img.ref)
        if ref_digest:
            digests.add(ref_digest)
            continue
        by_name.setdefault(name, set()).add(img.digest)
        if img.digest:
            digests.add(img.digest)
    missing: list[str] = []
    reasons: dict[str, str] = {}
    present = 0
    for ref in needed:
        name, digest = _split(ref)
        if digest:
            if digest in digests:
                present += 1
                continue
            missing.append(ref)
            other = sorted(d for d in by_name.get(name, set()) if d and d != digest)
            if other:
                reasons[ref] = f"{name} is there with digest {other[0][:19]}…, not {digest[:19]}…"
        elif name in by_name:
            present += 1
        else:
            missing.append(ref)
    return missing, present, reasons


async def _node_images(session: ClusterSession, name: str) -> list[Image]:
    """Every image ref of one node (the one line to change when images move to a service)."""
    data = await session.images.host_images(name)
    return [img for group in data.groups for img in group.refs]


async def _needed(session: ClusterSession, all_images: bool) -> tuple[str, list[str]]:
    errors: list[str] = []
    for name in session.controllers():
        try:
            return name, await list_airgap_images(session.host(name), all_images=all_images)
        except BackendError as exc:
            errors.append(f"{name}: {exc.message}")
    if not errors:
        raise BackendError("", "no controller in the inventory to run `k0s airgap list-images` on")
    raise BackendError("", "`k0s airgap list-images` failed on every controller: " + "; ".join(errors))


async def airgap_report(session: ClusterSession, *, all_images: bool = False,
                        hosts: Sequence[str] | None = None) -> AirgapReport:
    """Compare what the first answering controller's config needs with every node's images.

    Hosts that run no workloads (controllers without a worker) are listed as skipped. A node
    whose images cannot be listed gets ``error`` (never raises for one host); raises
    BackendError only when no controller gives the list.
    """
    source, needed = await _needed(session, all_images)
    names = list(hosts if hosts is not None else session.host_names)

    async def one(name: str) -> HostAirgap:
        spec = session.spec(name)
        snap = session.nodes.snapshot_of(name)
        out = HostAirgap(host=name, role=spec.role, version=snap.version if snap else None)
        if not spec.runs_workloads and spec.role != "unknown":
            out.skipped = "controller without workloads: runs no pods"
            return out
        try:
            images = await _node_images(session, name)
        except BackendError as exc:
            out.error = exc.message
            return out
        out.missing, out.present, out.reasons = compare_images(needed, images)
        return out

    limit = asyncio.Semaphore(session.fleet_limit or len(names) or 1)

    async def bounded(name: str) -> HostAirgap:
        async with limit:
            return await one(name)

    results = await asyncio.gather(*(bounded(n) for n in names))
    source_snap = session.nodes.snapshot_of(source)
    return AirgapReport(source=source, source_version=source_snap.version if source_snap else None,
                        needed=needed, hosts=list(results), all_images=all_images)


def version_note(report: AirgapReport, host: HostAirgap) -> str:
    """Why a node may lack much: it runs another k0s than the controller that made the list."""
    if host.version and report.source_version and host.version != report.source_version:
        return f"runs {host.version}; the list is for {report.source_version}"
    return ""


def report_json(report: AirgapReport) -> dict:
    """The report as plain JSON data (headless ``airgap --json``)."""
    return {
        "source": report.source, "source_version": report.source_version, "all": report.all_images,
        "needed": list(report.needed),
        "hosts": [{"host": h.host, "role": h.role, "version": h.version, "missing": list(h.missing),
                   "present": h.present, "reasons": dict(h.reasons), "error": h.error or None,
                   "skipped": h.skipped or None} for h in report.hosts],
    }

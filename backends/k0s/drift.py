"""Upgrade drift: which hosts run a k0s older (or newer) than the fleet's target version.

The target is k0sctl.yaml's ``spec.k0s.version`` when the inventory has one, otherwise the
newest version running in the fleet. Pure functions; no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# v1.31.2+k0s.0, 1.31.2, v1.30.0-rc.1+k0s.0, v1.33.3+k0s (kubelet's form)
_VERSION = re.compile(
    r"^v?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?(?:-([0-9A-Za-z.-]{1,64}))?(?:\+k0s(?:\.(\d{1,6}))?)?$")

VersionKey = tuple[int, int, int, tuple[tuple[int, int | str], ...], int]

#: How each source of the target reads in the UI.
SOURCE_LABELS = {"inventory": "k0sctl.yaml spec.k0s.version", "fleet": "newest in the fleet", "": "none"}


def version_key(version: str | None) -> VersionKey | None:
    """An ordering key for a k0s version, None when it is not one.

    ``v1.30.0-rc.1+k0s.0`` < ``v1.30.0-rc.2+k0s.0`` < ``v1.30.0+k0s.0`` < ``v1.30.0+k0s.1``:
    a pre-release sorts before its release, its dot-separated parts compared as semver does
    (numbers numerically and before words); the ``k0s.N`` build number orders last.
    """
    if not isinstance(version, str) or len(version) > 128:
        return None
    return _version_key(version)


# A fleet runs a handful of distinct versions: parse each once (the header recomputes the
# drift after every burst of snapshots; 2,000 hosts went from 6.5 to 0.3 ms, bench/drift_airgap.py).
@functools.lru_cache(maxsize=512)
def _version_key(version: str) -> VersionKey | None:
    m = _VERSION.match(version.strip())
    if not m:
        return None
    major, minor, patch, pre, build = m.groups()
    if pre:
        parts = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
        pre_key: tuple[tuple[int, int | str], ...] = ((0, 0), *parts)
    else:
        pre_key = ((2, 0),)  # a release sorts after every pre-release of the same x.y.z
    return int(major), int(minor), int(patch or 0), pre_key, int(build or 0)


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as ``a`` is older than, equal to or newer than ``b`` (ValueError if either
    is not a version)."""
    ka, kb = version_key(a), version_key(b)
    if ka is None or kb is None:
        raise ValueError(f"not a k0s version: {a if ka is None else b!r}")
    return (ka > kb) - (ka < kb)


@dataclass
class Drift:
    """Where the fleet stands against its target k0s version."""

    target: str | None
    source: str  # "inventory" (spec.k0s.version), "fleet" (newest running), or "" (no versions)
    total: int
    behind: list[str] = field(default_factory=list)
    ahead: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # no version learnt (yet), or unreadable

    @property
    def level(self) -> str:
        """"warning" when hosts are behind or ahead, "success" when all are on target, "muted"
        when nothing is known."""
        if self.target is None:
            return "muted"
        return "warning" if self.behind or self.ahead else "success"

    def summary(self) -> str:
        """``3 of 8 hosts behind v1.33.3+k0s.0`` (or ``all 8 hosts on …``; unknown ones counted
        apart, never as behind)."""
        if self.target is None:
            return "k0s versions unknown"
        noun = "host" if self.total == 1 else "hosts"
        if len(self.unknown) == self.total:
            return f"target {self.target}, no versions yet"
        if not self.behind and not self.ahead and not self.unknown:
            text = f"all {self.total} {noun} on {self.target}"
        else:
            text = f"{len(self.behind)} of {self.total} {noun} behind {self.target}"
            if self.ahead:
                text += f", {len(self.ahead)} ahead"
        if self.unknown:
            text += f" ({len(self.unknown)} unknown)"
        return text


def fleet_drift(versions: Mapping[str, str | None], target: str | None = None) -> Drift:
    """Compare each host's k0s version (host -> version, None unknown) with ``target``.

    ``target`` is the inventory's ``spec.k0s.version``; when None (or not a version) the
    newest version found in ``versions`` is the target. Hosts whose version cannot be read
    count as unknown, never as behind.
    """
    keys = {host: version_key(v) for host, v in versions.items()}
    source = "inventory"
    target_key = version_key(target)
    if target_key is None:
        known = [(k, versions[h]) for h, k in keys.items() if k is not None]
        if not known:
            return Drift(target=None, source="", total=len(versions), unknown=list(versions))
        target_key, target = max(known, key=lambda kv: kv[0])
        source = "fleet"
    out = Drift(target=target.strip() if target else target, source=source, total=len(versions))
    for host, key in keys.items():
        if key is None:
            out.unknown.append(host)
        elif key < target_key:
            out.behind.append(host)
        elif key > target_key:
            out.ahead.append(host)
    return out

"""Parsers of real k0s output: pure functions from text to the dataclasses of backends.models.

Every parser raises :class:`ParseError` (a ValueError with ``.excerpt``) and nothing else on
input it cannot read. Formats follow what k0s prints, 1.21 through current.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from backends.k0s.parsers._common import ParseError, strip_ansi
from backends.k0s.parsers.cluster import parse_kube_nodes, parse_member_list, parse_timestamp
from backends.k0s.parsers.ctr import (
    group_images,
    parse_ctr_images,
    parse_ctr_images_quiet,
    parse_label_output,
    parse_pull_progress,
    parse_size,
)
from backends.k0s.parsers.status import is_not_running, parse_status, parse_version, version_tuple
from backends.k0s.parsers.sysinfo import parse_sysinfo

if TYPE_CHECKING:
    from backends.k0s.parsers.airgap import parse_airgap_images
    from backends.k0s.parsers.autopilot import Plan, PlanCommand, PlanTarget, is_plans_absent, parse_plans

#: Parsers no start-up step needs, loaded on first access (the autopilot one: ~2 ms of
#: dataclasses and patterns): name -> module.
_LAZY = {"parse_airgap_images": "airgap", "Plan": "autopilot", "PlanCommand": "autopilot",
         "PlanTarget": "autopilot", "is_plans_absent": "autopilot", "parse_plans": "autopilot"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ParseError",
    "Plan",
    "PlanCommand",
    "PlanTarget",
    "is_plans_absent",
    "parse_airgap_images",
    "parse_plans",
    "group_images",
    "is_not_running",
    "parse_ctr_images",
    "parse_ctr_images_quiet",
    "parse_kube_nodes",
    "parse_label_output",
    "parse_member_list",
    "parse_pull_progress",
    "parse_size",
    "parse_status",
    "parse_sysinfo",
    "parse_timestamp",
    "parse_version",
    "strip_ansi",
    "version_tuple",
]

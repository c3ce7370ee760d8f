"""Headless ``k0s-tui airgap [--all] [--json]``: per host, the images the config needs that the
node lacks (``missing``) and how many it has (``present``).

Exit status: 0 when no node lacks anything, 3 when some node lacks an image, 1 when the list
could not be had or a node's images could not be read (and nothing is known missing).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, TextIO

from backends.errors import BackendError
from backends.session.airgap import AirgapReport, airgap_report, report_json, version_note

if TYPE_CHECKING:
    from backends.session.session import ClusterSession

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_MISSING = 3

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: object) -> str:
    return _CONTROL.sub("?", "" if text is None else str(text))


def exit_status(report: AirgapReport) -> int:
    """3 when something is missing, else 1 when a host failed, else 0."""
    if report.missing_any:
        return EXIT_MISSING
    return EXIT_FAILED if any(h.error for h in report.hosts) else EXIT_OK


def render_text(report: AirgapReport) -> str:
    """HOST/STATE/DETAIL lines, control characters replaced."""
    head = (f"needed: {len(report.needed)} images (`k0s airgap list-images{' --all' if report.all_images else ''}`"
            f" on {report.source}, {report.source_version or 'version unknown'})")
    rows = [["HOST", "STATE", "DETAIL"]]
    for h in report.hosts:
        if h.skipped:
            rows.append([h.host, "skipped", h.skipped])
        elif h.error:
            rows.append([h.host, "error", h.error.splitlines()[0] if h.error else ""])
        elif h.missing:
            note = version_note(report, h)
            rows.append([h.host, "missing", f"{h.present} present, {len(h.missing)} missing"
                         + (f" ({note})" if note else "")])
            rows += [["", "", f"  lacks {ref}" + (f" ({h.reasons[ref]})" if ref in h.reasons else "")]
                     for ref in h.missing]
        else:
            rows.append([h.host, "ok", f"{h.present} present"])
    rows = [[_clean(c) for c in row] for row in rows]
    w0, w1 = (max(len(r[i]) for r in rows) for i in range(2))
    return _clean(head) + "\n" + "".join(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]}".rstrip() + "\n" for r in rows)


async def run_airgap(session: ClusterSession, *, as_json: bool, out: TextIO, all_images: bool = False) -> int:
    """Snapshot the fleet (roles and versions), compare, print; returns the exit status."""
    try:
        await session.nodes.refresh()
        try:
            report = await airgap_report(session, all_images=all_images)
        except BackendError as exc:
            if as_json:
                json.dump({"error": {"kind": exc.kind, "message": exc.message}}, out, indent=2)
                out.write("\n")
            else:
                out.write(f"k0s-tui: airgap: {_clean(exc.message)}\n")
            return EXIT_FAILED
    finally:
        await session.close()
    if as_json:
        json.dump(report_json(report), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        out.write(render_text(report))
    return exit_status(report)

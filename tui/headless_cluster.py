"""Headless cluster verbs (cron, CI): the same gates as the console, no prompts.

- ``backups``: this cluster's archives in the catalog (read-only).
- ``backup [--keep N]``: a cluster backup into the catalog (verified), then retention of this
  cluster's archives.
- ``stop|start|restart HOST…`` (``--drain``: drain Ready workers first / uncordon after start).
- ``rolling-restart [--controllers|--workers|HOST…] [--renew-certs]``: one host at a time,
  controllers first, each gated; stops at the first host that does not come back.

``--force`` overrides a quorum refusal (audited). Output: one line per host (or archive), or one
JSON object with ``--json``. Exit status: 0 all well; 1 an action failed or a host could not be
reached; 3 refused by a check (quorum, a k0sctl lock on a host); 2 is the command line's.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, TextIO

from backends.errors import BackendError
from backends.session.clusterops import REFUSAL_GATES
from backends.session.quorum import HostLocked, QuorumRefused

if TYPE_CHECKING:
    from backends.session.session import ClusterSession

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CHECK = 3

SERVICE_VERBS = ("stop", "start", "restart")
ROLL_VERB = "rolling-restart"
#: Verbs that change something (not read-only unless --readonly).
MUTATING_VERBS = ("backup", *SERVICE_VERBS, ROLL_VERB)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _clean(text: object) -> str:
    return _CONTROL.sub("?", "" if text is None else str(text))


def _emit(out: TextIO, as_json: bool, obj: dict[str, Any], lines: list[list[str]]) -> None:
    if as_json:
        json.dump(obj, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return
    rows = [[_clean(c) for c in row] for row in lines]
    if rows:
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in rows)
        for r in rows:
            out.write(f"{r[0]:<{w0}}  {r[1]:<{w1}}  {r[2]}".rstrip() + "\n")
    out.flush()


async def learn_roles(session: "ClusterSession") -> None:
    """Hosts of unknown role (``--ssh``, local) are asked `k0s status`, which says what they are."""
    unknown = [h for h in session.host_names if session.spec(h).role == "unknown"]
    if unknown:
        await session.nodes.refresh(names=unknown)


async def run_backups(session: "ClusterSession", *, as_json: bool, out: TextIO) -> int:
    """List this cluster's archives, newest first."""
    entries = session.backups.list()
    obj = {"cluster": session.backups.cluster, "directory": str(session.backups.directory),
           "archives": [{"file": e.file, "cluster": e.cluster, "source_host": e.source_host,
                         "created": e.created.isoformat(), "size": e.size, "storage": e.storage,
                         "sha256": e.sha256, "verified": e.verified, "k0s_version": e.k0s_version}
                        for e in entries]}
    lines = [["FILE", "VERIFIED", "DETAIL"]] + [
        [e.file, "yes" if e.verified else "no",
         f"{e.created.isoformat()} {e.size} bytes from {e.source_host} ({e.storage_label})"] for e in entries]
    _emit(out, as_json, obj, lines)
    return EXIT_OK


async def run_backup(session: "ClusterSession", *, keep: int | None, as_json: bool, out: TextIO) -> int:
    """Back the cluster up into the catalog (verified); then keep this cluster's newest ``keep``."""
    obj: dict[str, Any] = {"verb": "backup", "cluster": session.backups.cluster}
    await learn_roles(session)
    try:
        entry = await session.backups.backup_now()
    except BackendError as exc:
        obj.update(ok=False, error={"kind": exc.kind, "message": exc.message})
        _emit(out, as_json, obj, [[exc.host or "-", "ERROR", exc.message]])
        return EXIT_FAILED
    obj.update(ok=entry.verified, file=entry.file, source_host=entry.source_host, size=entry.size,
               sha256=entry.sha256, verified=entry.verified)
    lines = [[entry.source_host, "ok" if entry.verified else "UNVERIFIED",
              f"{entry.file} {entry.size} bytes sha256 {entry.sha256[:12]}"]]
    if keep is not None:
        deleted = await session.backups.apply_retention(keep)
        obj["deleted"] = [e.file for e in deleted]
        lines += [["-", "deleted", e.file] for e in deleted]
    _emit(out, as_json, obj, lines)
    return EXIT_OK if entry.verified else EXIT_FAILED


def _refusal(out: TextIO, as_json: bool, verb: str, hosts: list[str], exc: BackendError) -> int:
    _emit(out, as_json, {"verb": verb, "ok": False, "hosts": hosts,
                         "refused": {"kind": exc.kind, "message": exc.message}},
          [[", ".join(hosts), "REFUSED", exc.message]])
    return EXIT_CHECK


async def run_service(session: "ClusterSession", verb: str, hosts: list[str], *, force: bool, drain: bool,
                      as_json: bool, out: TextIO) -> int:
    """start / stop / restart ``hosts`` through the quorum check."""
    await learn_roles(session)
    assessment = None if session.readonly else await session.cluster.assess(verb, hosts)
    try:
        results = await session.cluster.service(verb, hosts, force=force, drain=drain, assessment=assessment)
    except QuorumRefused as exc:
        return _refusal(out, as_json, verb, hosts, exc)
    notes = assessment.notes if assessment is not None else []
    locked = [r for r in results if r.kind == HostLocked.kind]
    failed = [r for r in results if not r.ok and r.kind != HostLocked.kind]
    obj = {"verb": verb, "ok": not failed and not locked, "force": force, "notes": notes,
           "hosts": [{"host": r.host, "ok": r.ok, **({"error": {"kind": r.kind or "error", "message": r.error}}
                                                     if not r.ok else {})} for r in results]}
    lines = [[r.host, "ok" if r.ok else ("SKIPPED" if r.kind == HostLocked.kind else "ERROR"), r.error or verb]
             for r in results] + [["-", "note", n] for n in notes]
    _emit(out, as_json, obj, lines)
    if failed:
        return EXIT_FAILED
    return EXIT_CHECK if locked else EXIT_OK


async def run_roll(session: "ClusterSession", hosts: list[str] | None, *, force: bool, renew: bool,
                   as_json: bool, out: TextIO, only: str | None = None) -> int:
    """Rolling restart of ``hosts`` (None: all; ``only`` "controllers"/"workers": those), or with
    ``renew`` and no hosts the controllers whose leaves expire within the warning window; one
    line per host as each comes back."""
    await learn_roles(session)
    if only is not None:
        hosts = [n for n in session.host_names if session.spec(n).is_controller == (only == "controllers")]
    if renew and hosts is None:
        hosts = await session.cluster.renew_candidates()
        if not hosts:
            _emit(out, as_json, {"verb": ROLL_VERB, "ok": True, "steps": [], "untouched": [],
                                 "summary": "no controller certificate expires within the warning window"},
                  [["-", "ok", "no controller certificate expires within the warning window"]])
            return EXIT_OK

    def progress(host: str, index: int, total: int, note: str) -> None:
        if not as_json and (note == "back" or note.startswith("FAILED")):
            _emit(out, False, {}, [[host, "ok" if note == "back" else "FAILED", f"{index + 1}/{total} {note}"]])

    result = await session.cluster.rolling_restart(hosts, force=force, progress=progress, renew=renew)
    stopped = result.stopped_at
    obj = {"verb": ROLL_VERB, "ok": result.ok, "order": result.order, "renew_certs": renew,
           "steps": [{"host": s.host, "ok": s.ok, "failed_gate": s.failed_gate, "message": s.message,
                      "seconds": round(s.seconds, 3)} for s in result.steps],
           "untouched": result.untouched, "summary": result.summary()}
    if renew:
        obj["certificates"] = {h: (e.isoformat() if (e := session.certs.expiry_of(h)) else None)
                               for h in result.order if session.spec(h).is_controller}
    _emit(out, as_json, obj, [["-", "done" if result.ok else "STOPPED", result.summary()]])
    if stopped is not None and stopped.failed_gate in REFUSAL_GATES:
        return EXIT_CHECK
    return EXIT_OK if result.ok else EXIT_FAILED

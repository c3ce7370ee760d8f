"""Backups: the local catalog, cluster backup from the first running controller (k0sctl's way),
verify, delete, retention and restore — every change through the gate."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from backends.k0s.backups import (
    BackupCatalog,
    BackupEntry,
    BackupProgress,
    Check,
    cluster_backup,
    restore,
    restore_preconditions,
)
from backends.errors import BackendError, K0sNotRunning
from backends.session.clusterid import cluster_id
from backends.session.core import SessionCore

ProgressFn = Callable[[BackupProgress], None]


class BackupsService:
    """The backup catalog of this console (``--backup-dir``) and the actions on it."""

    def __init__(self, core: SessionCore, catalog: BackupCatalog) -> None:
        self.core = core
        self.catalog = catalog
        #: The catalog key of this session's cluster (archives of other clusters are kept apart).
        self.cluster = cluster_id(core.inventory)

    @property
    def directory(self) -> Path:
        """Where the archives and their sidecars live."""
        return self.catalog.dir

    def list(self, *, all_clusters: bool = False) -> list[BackupEntry]:
        """This cluster's archives (``all_clusters``: every cluster's), newest first."""
        entries = self.catalog.list()
        return entries if all_clusters else [e for e in entries if e.cluster == self.cluster]

    def newest(self) -> BackupEntry | None:
        """The newest archive of this cluster (None when there is none)."""
        entries = self.list()
        return entries[0] if entries else None

    async def backup_now(self, progress: ProgressFn | None = None) -> BackupEntry:
        """Back the cluster up from its first running controller into the catalog."""
        tried: list[str] = []

        def cb(p: BackupProgress) -> None:
            if p.host and p.host not in tried:
                tried.append(p.host)
            if progress is not None:
                progress(p)

        async with self.core.mutation("backup", self.core.controllers()) as m:
            try:
                entry = await cluster_backup(list(self.core.hosts.values()), self.catalog, cb,
                                             cluster=self.cluster, now=self.core.clock)
            except BaseException:
                m.hosts = tried or m.hosts
                raise
            m.hosts = [entry.source_host]
            m.details.update(file=entry.file, sha256=entry.sha256)
            return entry

    async def verify(self, entry: BackupEntry) -> BackupEntry:
        """Verify an archive again (in a thread: it hashes the whole file); records the outcome."""
        async with self.core.mutation("verify backup", [], {"file": entry.file}) as m:
            out = await asyncio.to_thread(self.catalog.reverify, entry)
            if not out.verified:
                m.fail(out.verify_error or "verification failed")
            return out

    async def delete(self, entry: BackupEntry) -> None:
        """Remove an archive and its record from the catalog."""
        async with self.core.mutation("delete backup", [], {"file": entry.file}):
            self.catalog.delete(entry)

    def retention_plan(self, keep_newest: int) -> list[BackupEntry]:
        """The archives :meth:`apply_retention` would delete: this cluster's beyond the newest
        ``keep_newest`` >= 1 (other clusters' archives, and unreadable rows, are never touched)."""
        return self.catalog.retention_plan(keep_newest, cluster=self.cluster)

    async def apply_retention(self, keep_newest: int) -> list[BackupEntry]:
        """Keep this cluster's newest ``keep_newest`` archives; returns the deleted ones."""
        async with self.core.mutation("backup retention", [], {"keep": keep_newest,
                                                               "cluster": self.cluster}) as m:
            deleted = self.catalog.apply_retention(keep_newest, cluster=self.cluster)
            m.details.update(deleted=len(deleted), files=",".join(e.file for e in deleted))
            return deleted

    async def _cluster_checks(self, entry: BackupEntry, target: str) -> None:
        """Raise when the archive is another cluster's or another controller runs k0s."""
        checks = await self.cluster_checks(entry, target)
        failed = [c for c in checks if c.blocking and not c.ok]
        if failed:
            raise BackendError(target, "restore refused: " + "; ".join(f"{c.name}: {c.detail}" for c in failed))

    async def preconditions(self, entry: BackupEntry, target: str) -> list[Check]:
        """Restore preconditions of ``entry`` on ``target`` (read-only; nothing changes): the
        archive's own, then "the archive is this cluster's" and "the other controllers are
        stopped" (k0s restores one controller; the others rejoin it afterwards)."""
        return [*await restore_preconditions(self.core.hosts[target], entry, self.catalog),
                *await self.cluster_checks(entry, target)]

    async def cluster_checks(self, entry: BackupEntry, target: str) -> list[Check]:
        """The cluster-level preconditions: the archive's cluster, the other controllers stopped."""
        checks: list[Check] = []
        checks.append(Check("archive of this cluster", entry.cluster == self.cluster,
                            f"archive of {entry.cluster or '?'}, this cluster is {self.cluster}"))
        others = [h for h in self.core.controllers() if h != target]
        running: list[str] = []
        unknown: list[str] = []

        async def state(name: str) -> None:
            try:
                await self.core.hosts[name].status()
                running.append(name)
            except K0sNotRunning:
                pass
            except BackendError as exc:
                unknown.append(f"{name} ({exc.message})")

        await asyncio.gather(*(state(h) for h in others))
        if running or unknown:
            what = (f"k0s runs on {', '.join(sorted(running))}" if running else "") + \
                   ("; " if running and unknown else "") + \
                   (f"state unknown: {', '.join(sorted(unknown))}" if unknown else "")
            checks.append(Check("other controllers stopped", False,
                                f"{what}: stop every other controller first (they rejoin after the restore)"))
        else:
            checks.append(Check("other controllers stopped", True,
                                "no other controller runs k0s" if others else "the only controller"))
        return checks

    def next_steps(self, target: str) -> list[str]:
        """What the operator does after a restore on ``target``."""
        steps = [f"start k0s on {target} (Nodes: select it, `u`) and wait until it is running"]
        others = [h for h in self.core.controllers() if h != target]
        if others:
            steps.append(f"re-join the other controllers ({', '.join(others)}): on each, `k0s reset`, then "
                         "install it again with a fresh controller join token from "
                         f"{target} (`k0s token create --role=controller`), or re-run `k0sctl apply`")
        steps.append("start the workers that were stopped; check the Nodes pane until all are Ready")
        return steps

    async def restore(self, entry: BackupEntry, target: str, progress: ProgressFn | None = None) -> str:
        """Restore ``entry`` on controller ``target`` (preconditions enforced); returns its output."""
        async with self.core.mutation("restore", [target], {"file": entry.file, "cluster": entry.cluster}):
            await self.core.hosts[target].ensure_stopped("restore")  # the target's own state first
            await self._cluster_checks(entry, target)
            result = await restore(self.core.hosts[target], entry, progress, self.catalog)
        out = (result.stdout_text + "\n" + result.stderr_text).strip()
        return out or f"k0s restore finished (exit {result.exit_status})"

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
from backends.session.core import SessionCore

ProgressFn = Callable[[BackupProgress], None]


class BackupsService:
    """The backup catalog of this console (``--backup-dir``) and the actions on it."""

    def __init__(self, core: SessionCore, catalog: BackupCatalog) -> None:
        self.core = core
        self.catalog = catalog

    @property
    def directory(self) -> Path:
        """Where the archives and their sidecars live."""
        return self.catalog.dir

    def list(self) -> list[BackupEntry]:
        """The catalog, newest first."""
        return self.catalog.list()

    def newest(self) -> BackupEntry | None:
        """The newest archive of the catalog (None when it is empty)."""
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
                                             cluster=self.core.name, now=self.core.clock)
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
        """The archives :meth:`apply_retention` would delete (newest ``keep_newest`` >= 1 kept per cluster)."""
        return self.catalog.retention_plan(keep_newest)

    async def apply_retention(self, keep_newest: int) -> list[BackupEntry]:
        """Keep the newest ``keep_newest`` archives per cluster; returns the deleted ones."""
        async with self.core.mutation("backup retention", [], {"keep": keep_newest}) as m:
            deleted = self.catalog.apply_retention(keep_newest)
            m.details.update(deleted=len(deleted), files=",".join(e.file for e in deleted))
            return deleted

    async def preconditions(self, entry: BackupEntry, target: str) -> list[Check]:
        """Restore preconditions of ``entry`` on ``target`` (read-only; nothing changes)."""
        return await restore_preconditions(self.core.hosts[target], entry, self.catalog)

    async def restore(self, entry: BackupEntry, target: str, progress: ProgressFn | None = None) -> str:
        """Restore ``entry`` on controller ``target`` (preconditions enforced); returns its output."""
        async with self.core.mutation("restore", [target], {"file": entry.file}):
            result = await restore(self.core.hosts[target], entry, progress, self.catalog)
        out = (result.stdout_text + "\n" + result.stderr_text).strip()
        return out or f"k0s restore finished (exit {result.exit_status})"

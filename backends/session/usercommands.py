"""Running user commands (commands.toml) on hosts of a session: refused in read-only when
mutating, every argv rendered before anything runs, over each host's own transport, audited."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from backends.errors import BackendError, ValidationError
from backends.hosts.usercommands import UserCommand, render_all
from backends.session.core import SessionCore


@dataclass
class CommandRun:
    """How one row's command ended (``error`` set when it could not run at all)."""

    host: str
    argv: list[str]
    exit_status: int | None = None
    stdout: str = ""
    stderr: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.exit_status == 0


def audit_operation(cmd: UserCommand) -> str:
    """The audit log's operation name of a user command."""
    return f"user command {cmd.name}"


async def run_user_command(session: SessionCore, cmd: UserCommand,
                           rows: Sequence[Mapping[str, str]]) -> list[CommandRun]:
    """Run ``cmd`` once per row (each row names its ``host``), all at once, through the
    session's mutation gate (a read-only session refuses a mutating command before anything
    runs; every run, mutating or not, is audited with the exact argvs).

    Raises ReadOnlyRefused, AuditUnavailable, or ValidationError (nothing run) when a row
    cannot be rendered or names an unknown host.
    """
    hosts = list(dict.fromkeys(str(r.get("host", "")) for r in rows))
    unknown = [h for h in hosts if h not in session.hosts]
    if unknown:
        raise ValidationError(f"{cmd.name}: unknown host(s) {', '.join(unknown)}")
    argvs = render_all(cmd, rows)

    async def one(host: str, argv: list[str]) -> CommandRun:
        try:
            res = await session.hosts[host].transport.run(argv, sudo=cmd.sudo, timeout=cmd.timeout)
        except BackendError as exc:
            return CommandRun(host, argv, error=exc.message)
        return CommandRun(host, argv, res.exit_status, res.stdout.decode("utf-8", "replace"),
                          res.stderr.decode("utf-8", "replace"))

    details: dict[str, object] = {"argv": json.dumps(argvs, ensure_ascii=False),
                                  "mutating": str(cmd.mutating).lower(), "sudo": str(cmd.sudo).lower()}
    async with session.mutation(audit_operation(cmd), hosts, details, allow_readonly=not cmd.mutating) as m:
        runs = list(await asyncio.gather(*(one(str(r["host"]), a) for r, a in zip(rows, argvs))))
        failed = [r for r in runs if not r.ok]
        if failed:
            m.fail("; ".join(f"{r.host}: {r.error or f'exit {r.exit_status}'}" for r in failed))
    return runs

"""Typed errors raised by transports and adapters.

Every error names the host it concerns and says why, in words an operator can act on.
The UI shows ``str(error)``; nothing here may contain secrets.
"""

from __future__ import annotations


class BackendError(Exception):
    """Base of every error a backend raises on purpose."""

    kind = "error"

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}" if host else message)
        self.host = host
        self.message = message


class HostUnreachable(BackendError):
    """The host could not be reached (refused, no route, DNS, connection dropped)."""

    kind = "unreachable"


class ConnectTimeout(HostUnreachable):
    """Connecting or logging in took longer than the connect/login timeout."""

    kind = "connect-timeout"


class AuthFailed(BackendError):
    """The SSH server refused every key/agent identity offered."""

    kind = "auth-failed"


class HostKeyUnknown(BackendError):
    """The host's key is in no known_hosts file; it can be trusted explicitly."""

    kind = "host-key-unknown"

    def __init__(self, host: str, fingerprint: str, key_type: str = "") -> None:
        super().__init__(
            host,
            f"host key {key_type} {fingerprint} is not known; "
            "verify the fingerprint and trust it to connect",
        )
        self.fingerprint = fingerprint
        self.key_type = key_type


class HostKeyChanged(BackendError):
    """The host presented a key other than the one on record: possible attack. Never accepted."""

    kind = "host-key-changed"

    def __init__(self, host: str, fingerprint: str = "", detail: str = "") -> None:
        msg = "REMOTE HOST KEY CHANGED: the host presented a different key than the one on record"
        if fingerprint:
            msg += f" (now {fingerprint})"
        msg += "; refusing to connect. Remove the old entry only if you know why it changed"
        if detail:
            msg += f" ({detail})"
        super().__init__(host, msg)
        self.fingerprint = fingerprint


class CommandTimeout(BackendError):
    """A command ran longer than its timeout and was abandoned."""

    kind = "timeout"


class SudoPasswordRequired(BackendError):
    """``sudo -n`` refused because a password would be needed."""

    kind = "sudo-password"


class CommandFailed(BackendError):
    """A command exited non-zero where success was required."""

    kind = "command-failed"

    def __init__(self, host: str, argv: list[str] | tuple[str, ...], exit_status: int | None,
                 stderr: str = "", stdout: str = "") -> None:
        detail = (stderr or stdout).strip()
        if len(detail) > 2000:
            detail = detail[:2000] + "…"
        name = argv[0] if argv else "command"
        sub = " ".join(argv[1:3]) if len(argv) > 1 else ""
        super().__init__(host, f"`{name} {sub}`".replace(" `", "`") + f" exited {exit_status}"
                         + (f": {detail}" if detail else ""))
        self.argv = list(argv)
        self.exit_status = exit_status
        self.stderr = stderr
        self.stdout = stdout


class ReadOnlyRefused(BackendError):
    """A mutating operation was asked for while the console runs read-only."""

    kind = "readonly"

    def __init__(self, host: str, operation: str) -> None:
        super().__init__(host, f"refused `{operation}`: k0s-tui runs read-only (--readonly)")
        self.operation = operation


class AuditUnavailable(BackendError):
    """The audit log cannot be written: the action it would record is refused."""

    kind = "audit"


class K0sNotInstalled(BackendError):
    """No k0s binary at the configured path on that host."""

    kind = "not-installed"


class K0sNotRunning(BackendError):
    """k0s is installed but its service/process is not running."""

    kind = "not-running"


class K0sRunning(BackendError):
    """k0s runs where it must be stopped first (restore, reset)."""

    kind = "running"


class BackupError(BackendError):
    """A backup archive is unreadable or incomplete, or a backup/restore step failed."""

    kind = "backup"


class OutputParseError(BackendError):
    """A host's command output could not be read (wraps parsers.ParseError with the host)."""

    kind = "parse-error"


class ValidationError(ValueError):
    """User input (an image ref, a label, a config value) that is refused before sending."""


class ConnectionLost(HostUnreachable):
    """An open SSH connection dropped (host down, sshd restarted, network cut) mid-operation."""

    kind = "connection-lost"

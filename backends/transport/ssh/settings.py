"""SSH options shared by every host of a session (known_hosts files, keys, timeouts, limits)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from backends.errors import BackendError
from backends.paths import xdg_data_dir
from backends.privatefile import UnsafeFile, check_private
from backends.transport.ssh.bastion import BastionPool
from backends.transport.ssh.budget import ConnectionBudget


def default_user_known_hosts() -> tuple[Path, ...]:
    """The user's OpenSSH known_hosts (read, never written)."""
    return (Path.home() / ".ssh" / "known_hosts",)


def default_app_known_hosts() -> Path:
    """$XDG_DATA_HOME/k0s-tui/known_hosts: where keys the user trusted in the console go."""
    return xdg_data_dir() / "known_hosts"


@dataclass
class SSHSettings:
    """SSH options shared by every host of a session.

    Tests pass their own known_hosts files, ``use_ssh_config=False``, explicit ``client_keys``
    and ``use_agent=False`` so nothing of the user's ``~/.ssh`` is read. One ``SSHSettings``
    belongs to one event loop (its semaphore binds to the loop on first contention).
    """

    #: known_hosts files read for checking (besides ``app_known_hosts``).
    known_hosts: tuple[Path, ...] = field(default_factory=default_user_known_hosts)
    #: The app's own known_hosts: always read, and where trusted keys are appended.
    app_known_hosts: Path = field(default_factory=default_app_known_hosts)
    #: Honour OpenSSH client config files.
    use_ssh_config: bool = True
    #: Config files to read when ``use_ssh_config``; empty = asyncssh's default ~/.ssh/config.
    ssh_config_files: tuple[Path, ...] = ()
    #: Client private keys; None = asyncssh defaults (~/.ssh/id_*, config IdentityFile).
    #: A host's own ``key_path`` (k0sctl ``keyPath``) wins over this.
    client_keys: tuple[str, ...] | None = None
    #: Offer the identities of the SSH agent ($SSH_AUTH_SOCK).
    use_agent: bool = True
    connect_timeout: float = 10.0
    login_timeout: float = 15.0
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    #: Concurrent channels per connection (OpenSSH allows 10 by default).
    max_sessions: int = 8
    #: Cipher preference: AES-GCM first (asyncssh builds a new cipher object per packet for
    #: chacha20, measurably slower on a warm fleet refresh); the others stay as fallbacks.
    encryption_algs: tuple[str, ...] = (
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
        "aes128-ctr", "aes192-ctr", "aes256-ctr",
    )
    #: Commands asked of one host in the same event-loop turn run as one session (one ``sh``
    #: script; see :mod:`backends.transport.batching`): a refresh costs the host one sshd child and one
    #: shell instead of one per command.
    batch_commands: bool = True
    #: One shared connection per bastion for every host behind it (backends.transport.ssh.bastion).
    bastions: BastionPool = field(default_factory=BastionPool)
    #: Bounds concurrent SSH handshakes across all hosts using these settings.
    handshake_limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))
    #: Open connections kept under the descriptor limit (LRU idle ones closed beyond it).
    budget: ConnectionBudget = field(default_factory=ConnectionBudget)

    def known_hosts_files(self) -> list[Path]:
        """Every known_hosts file consulted, the app's last."""
        files = [Path(p).expanduser() for p in self.known_hosts]
        app = Path(self.app_known_hosts).expanduser()
        try:  # keys trusted in the console: a symlink or a file others can write is not ours
            check_private(app, "known_hosts file")
        except UnsafeFile as exc:
            raise BackendError("", str(exc)) from None
        return files + ([app] if app not in files else [])

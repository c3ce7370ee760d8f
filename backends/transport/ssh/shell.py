"""An interactive shell on a host: the user's own ``ssh -t``, reaching it exactly as the console does.

:func:`shell_command` is pure: from the host's :class:`SSHTarget` and the console's
:class:`SSHSettings` it builds the argv and the text of a small ssh_config file the caller
writes to ``config_path``. The file is passed with ``-F`` because OpenSSH hands ``-F`` (and not
``-o`` options) on to the ssh it runs for ``-J``: so the jump host too is checked against the
known_hosts files the console trusts, with StrictHostKeyChecking=yes, and gets its own key.
The user's ssh_config still applies (``Include``d last: the first value of a keyword wins).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from backends.hosts.spec import SSHTarget


@dataclass(frozen=True)
class ShellCommand:
    """What to run: ``argv``, after writing ``config_text`` to the ``-F`` path in it."""

    argv: list[str]
    config_text: str


def _q(value: str) -> str:
    """A value for ssh_config: double-quoted; a value with quotes or line breaks is refused."""
    if any(c in value for c in '"\n\r\0'):
        raise ValueError(f"cannot pass {value!r} to ssh_config")
    return f'"{value}"'


def _hostname(address: str) -> str:
    if any(c.isspace() or c in '"\0' for c in address) or address.startswith("-") or not address:
        raise ValueError(f"not a host address: {address!r}")
    return address


def shell_command(target: SSHTarget, *, known_hosts: Sequence[Path], config_path: Path,
                  user_configs: Sequence[Path] = (), use_user_config: bool = True,
                  ssh: str = "ssh") -> ShellCommand:
    """argv ``ssh -F CONFIG -t -p PORT -l USER [-i KEY] [-J USER@BASTION:PORT] -- ADDRESS``.

    ``known_hosts``: every file the console checks keys against (the app's own included).
    ``user_configs``: ssh_config files the console reads (default ``~/.ssh/config`` when
    ``use_user_config``). Raises ValueError for an address or path ssh could misread.
    """
    address = _hostname(target.address)
    lines = ["# written by k0s-tui for one interactive shell",
             "Host *",
             "  StrictHostKeyChecking yes",
             "  UserKnownHostsFile " + " ".join(_q(str(p)) for p in known_hosts)]
    bastion = target.bastion
    if bastion is not None:
        lines += [f"Host {_hostname(bastion.address)}", f"  User {_q(bastion.user)}", f"  Port {int(bastion.port)}"]
        if bastion.key_path:
            lines.append(f"  IdentityFile {_q(str(Path(bastion.key_path).expanduser()))}")
    if use_user_config:
        lines.append("Match all")
        for cfg in (user_configs or (Path("~/.ssh/config"),)):
            lines.append(f"Include {_q(str(Path(cfg).expanduser()))}")
    argv = [ssh, "-F", str(config_path), "-t", "-p", str(int(target.port)), "-l", target.user]
    if target.key_path:
        argv += ["-i", str(Path(target.key_path).expanduser())]
    if bastion is not None:
        argv += ["-J", f"{bastion.user}@{_hostname(bastion.address)}:{int(bastion.port)}"]
    argv += ["--", address]
    return ShellCommand(argv, "\n".join(lines) + "\n")

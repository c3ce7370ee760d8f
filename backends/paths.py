"""XDG base directories for k0s-tui (config, data, state), honouring the XDG_* variables."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "k0s-tui"


def _xdg(var: str, fallback: str) -> Path:
    # The spec says relative values are invalid and must be ignored.
    value = os.environ.get(var, "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / APP_NAME


def xdg_config_dir() -> Path:
    """$XDG_CONFIG_HOME/k0s-tui (default ~/.config/k0s-tui). Not created here."""
    return _xdg("XDG_CONFIG_HOME", ".config")


def default_commands_path() -> Path:
    """$XDG_CONFIG_HOME/k0s-tui/commands.toml (user commands; see backends.hosts.usercommands)."""
    return xdg_config_dir() / "commands.toml"


def xdg_data_dir() -> Path:
    """$XDG_DATA_HOME/k0s-tui (default ~/.local/share/k0s-tui). Not created here."""
    return _xdg("XDG_DATA_HOME", ".local/share")


def xdg_state_dir() -> Path:
    """$XDG_STATE_HOME/k0s-tui (default ~/.local/state/k0s-tui). Not created here."""
    return _xdg("XDG_STATE_HOME", ".local/state")

"""The user keymap: $XDG_CONFIG_HOME/k0s-tui/keymap.toml, binding id -> keys.

Format (TOML; every binding's id is listed by `?` in the app)::

    [keymap]
    "nodes.stop" = "X"
    "app.activity" = "A,f2"      # several keys: comma separated

A top-level table without ``[keymap]`` is accepted too. Unknown ids are reported, not fatal.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from backends.paths import xdg_config_dir


def default_keymap_path() -> Path:
    """$XDG_CONFIG_HOME/k0s-tui/keymap.toml."""
    return xdg_config_dir() / "keymap.toml"


MAX_KEYMAP_CHARS = 256 * 1024


class KeymapError(ValueError):
    """The keymap file could not be read; the message says where and why."""


def load_keymap(path: Path | None = None) -> dict[str, str]:
    """Binding id -> key string from ``path`` (default location); {} when there is no file."""
    path = path or default_keymap_path()
    try:
        text = path.read_text(encoding="utf-8")
        if len(text) > MAX_KEYMAP_CHARS:
            raise KeymapError(f"{path}: larger than {MAX_KEYMAP_CHARS // 1024} KiB; not a keymap")
        data = tomllib.loads(text)
    except FileNotFoundError:
        return {}
    except RecursionError:  # tomllib recurses per nesting level: a deep array is an error, not a crash
        raise KeymapError(f"{path}: nested too deeply") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KeymapError(f"{path}: {exc}") from exc
    table = data.get("keymap", data)
    if not isinstance(table, dict):
        raise KeymapError(f"{path}: [keymap] must be a table of id = \"keys\"")
    out: dict[str, str] = {}
    for bid, keys in table.items():
        if isinstance(keys, list):
            keys = ",".join(str(k) for k in keys)
        if not isinstance(keys, str) or not keys.strip() or not keys.isprintable():
            raise KeymapError(f"{path}: {bid!r} must map to a key string such as \"x\" or \"ctrl+x\"")
        out[str(bid)] = keys.strip()
    return out

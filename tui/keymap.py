"""The user keymap: $XDG_CONFIG_HOME/k0s-tui/keymap.toml, binding id -> keys.

Format (TOML; every binding's id is listed by `?` in the app)::

    [keymap]
    "nodes.stop" = "X"
    "app.activity" = "f2,f3"     # several keys: comma separated

A top-level table without ``[keymap]`` is accepted too. Unknown ids and keys bound twice are
reported as warnings (:func:`keymap_warnings`), not fatal: the rest of the file still applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from textual.keys import _character_to_key

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
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise KeymapError(f"{path}: {exc}") from exc
    import tomllib  # only with a file to read (most starts have none)

    try:
        if len(text) > MAX_KEYMAP_CHARS:
            raise KeymapError(f"{path}: larger than {MAX_KEYMAP_CHARS // 1024} KiB; not a keymap")
        data = tomllib.loads(text)
    except RecursionError:  # tomllib recurses per nesting level: a deep array is an error, not a crash
        raise KeymapError(f"{path}: nested too deeply") from None
    except tomllib.TOMLDecodeError as exc:
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


#: One layer of a binding chain: (binding id, default keys) pairs of one class's BINDINGS.
Layer = Sequence[tuple[str, str]]


def normalize_keys(keys: str) -> list[str]:
    """The keys of a comma-separated key string in Textual's long form ("?" -> "question_mark")."""
    out = []
    for key in keys.split(","):
        key = key.strip()
        if key:
            out.append(_character_to_key(key) if len(key) == 1 else key)
    return out


def keymap_warnings(
    keymap: Mapping[str, str],
    chains: Mapping[str, Sequence[Layer]],
    path: Path | str,
) -> list[str]:
    """Problems of a user ``keymap`` against the app's bindings, one message per problem.

    ``chains`` maps a scope's name (a pane, a screen) to the layers of bindings in force there,
    e.g. app, pane, focused table. Reported: ids no binding has, and a key that runs two different
    ids in one scope when the user's keymap caused it (two ids given one key, or a user key that
    takes another binding's key). Clashes among defaults of different layers are deliberate
    shadowing (a screen's escape over the app's) and are not reported; within one layer they are.
    """
    known = {bid for layers in chains.values() for layer in layers for bid, _ in layer}
    warnings = [
        f"{path}: unknown binding id {bid!r} (key {keys!r}); `?` lists the ids"
        for bid, keys in keymap.items() if bid not in known
    ]
    reported: set[tuple[str, frozenset[str]]] = set()
    for scope, layers in chains.items():
        by_key: dict[str, dict[str, int]] = {}  # key -> {id: layer index}
        for depth, layer in enumerate(layers):
            for bid, default in layer:
                for key in normalize_keys(keymap.get(bid, default)):
                    by_key.setdefault(key, {}).setdefault(bid, depth)
        for key, ids in by_key.items():
            if len(ids) < 2:
                continue
            user_made = any(bid in keymap for bid in ids)
            same_layer = len(set(ids.values())) < len(ids)
            pair = (key, frozenset(ids))
            if (user_made or same_layer) and pair not in reported:
                reported.add(pair)
                names = " and ".join(repr(b) for b in sorted(ids))
                warnings.append(f"{path}: key {key!r} is bound to both {names} ({scope})")
    return warnings


def class_layer(cls: type) -> list[tuple[str, str]]:
    """(id, keys) of the bindings with an id that a Textual class (and its bases) declares."""
    out: list[tuple[str, str]] = []
    for bindings in cls._merged_bindings.key_to_bindings.values():  # type: ignore[attr-defined]
        out.extend((b.id, b.key) for b in bindings if b.id)
    return out


def app_chains(app_cls: type) -> dict[str, list[list[tuple[str, str]]]]:
    """The console's binding chains: each pane (app, pane, its table) and each of its screens."""
    from textual.screen import Screen

    from tui.panes import PANES
    from widgets.table import ResourceTable

    def subclasses(cls: type) -> list[type]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    app = class_layer(app_cls)
    chains = {f"{p.title} pane": [app, class_layer(p), class_layer(ResourceTable)] for p in PANES}
    for screen in sorted({c for c in subclasses(Screen) if c.__module__.startswith("tui.")},
                         key=lambda c: c.__name__):
        chains[screen.__name__] = [app, class_layer(screen)]
    return chains

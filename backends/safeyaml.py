"""YAML and JSON loading that always ends: bounded size, nodes, depth and alias expansion.

pyyaml expands aliases while it constructs, so a few hundred bytes of nested anchors
("billion laughs") become gigabytes, and its composer recurses once per nesting level, so
100,000 ``[`` raise ``RecursionError`` (or overflow the C stack of the libyaml binding). Both
are stopped *before* composing: :func:`check_events` walks the parser's event stream (a state
machine, no recursion, linear in the input) and counts what the document would expand to.

Two policies:

- host output (:func:`load_host_yaml`): k0s never prints anchors or aliases, so any anchor or
  alias is refused outright; with the size, node and depth bounds the parse is linear in an
  input of at most ``HOST_MAX_BYTES`` and takes milliseconds, which is why it may run on the
  event loop (see docs/security.md);
- files the operator edits (:func:`load_file_yaml`): anchors and aliases are legal YAML and
  kept, but the *expanded* node count and depth are bounded; duplicate keys are refused
  (pyyaml would silently keep the last one).

Every refusal is :class:`UnsafeYAML` (a ``ValueError``) naming the line; callers turn it into
their own error type.

pyyaml (with its C loader, ~15 ms) is imported by the first document loaded, here and where
callers catch ``yaml.YAMLError``: the console's first frame loads none, and the first refresh
comes just after it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

HOST_MAX_BYTES = 64 * 1024  # `k0s status` is well under 4 KiB
HOST_MAX_NODES = 5_000
MAX_DEPTH = 64
FILE_MAX_NODES = 200_000
JSON_MAX_DEPTH = 200



@functools.cache
def _c_loader() -> type:
    """pyyaml's SafeLoader, its C implementation when built."""
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UnsafeYAML(ValueError):
    """A document refused before loading: too big, too deep, aliases, duplicate keys."""


def _line(event: Any) -> str:
    mark = getattr(event, "start_mark", None)
    return f"line {mark.line + 1}: " if mark is not None else ""


def check_events(text: str, *, loader: type | None = None, allow_aliases: bool,
                 max_nodes: int, max_depth: int = MAX_DEPTH) -> None:
    """Refuse ``text`` when its documents would expand past ``max_nodes`` nodes or
    ``max_depth`` levels, or (``allow_aliases=False``) when it holds any anchor or alias.

    The expanded size is exact: an anchored node's subtree size and depth are recorded when
    it closes, and each alias adds them, so nested anchors are priced at what they would
    cost pyyaml. A syntax error is ``yaml.YAMLError`` from the scan itself, so nothing
    malformed ever reaches the (recursive) composer.
    """
    import yaml

    loader = loader or _c_loader()
    sizes: dict[str, tuple[int, int]] = {}   # anchor -> (nodes, extra depth)
    stack: list[tuple[str | None, int, int]] = []  # (anchor, nodes at start, deepest inside)
    nodes = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            if not allow_aliases:
                raise UnsafeYAML(f"{_line(event)}YAML alias *{event.anchor} refused in host output")
            size, extra = sizes.get(event.anchor, (1, 0))
            nodes += size
            reach = len(stack) + extra
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            anchor = event.anchor
            if anchor is not None and not allow_aliases:
                raise UnsafeYAML(f"{_line(event)}YAML anchor &{anchor} refused in host output")
            if isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if anchor is not None:
                    sizes[anchor] = (1, 0)
                reach = len(stack)
            else:
                stack.append((anchor, nodes, len(stack) + 1))
                nodes += 1
                reach = len(stack)
        elif isinstance(event, yaml.CollectionEndEvent) and stack:
            anchor, start, deepest = stack.pop()
            if anchor is not None:
                sizes[anchor] = (nodes - start, deepest - (len(stack) + 1))
            reach = deepest
        else:
            continue
        if stack:
            a, s, deepest = stack[-1]
            if reach > deepest:
                stack[-1] = (a, s, reach)
        if nodes > max_nodes:
            raise UnsafeYAML(f"{_line(event)}YAML expands to more than {max_nodes} nodes")
        if reach > max_depth:
            raise UnsafeYAML(f"{_line(event)}YAML nested deeper than {max_depth} levels")


def load_host_yaml(text: str, *, max_bytes: int = HOST_MAX_BYTES,
                   max_nodes: int = HOST_MAX_NODES) -> Any:
    """One YAML document printed by a host: no anchors/aliases, bounded size, nodes and depth.

    Raises :class:`UnsafeYAML` for a refusal and ``yaml.YAMLError`` for a syntax error.
    """
    import yaml

    if len(text) > max_bytes:
        raise UnsafeYAML(f"YAML output larger than {max_bytes // 1024} KiB")
    check_events(text, allow_aliases=False, max_nodes=max_nodes)
    return yaml.load(text, Loader=_c_loader())


def _construct_mapping(loader: Any, node: Any, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            dup = key in seen
            seen.add(key)
        except TypeError:  # unhashable key: let pyyaml report it
            dup = False
        if dup:
            raise UnsafeYAML(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
    return loader.construct_mapping(node, deep=deep)


@functools.cache
def strict_loader() -> type:
    """A SafeLoader that refuses duplicate keys (pyyaml would silently keep the last one)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """SafeLoader refusing duplicate keys (:class:`UnsafeYAML`)."""

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    return StrictLoader


def load_file_yaml(text: str, *, max_nodes: int = FILE_MAX_NODES,
                   max_depth: int = MAX_DEPTH) -> list[Any]:
    """Every document of a file the operator edits, with expansion/depth bounded and
    duplicate keys refused (:class:`UnsafeYAML`); ``yaml.YAMLError`` for a syntax error."""
    import yaml

    check_events(text, allow_aliases=True, max_nodes=max_nodes,
                 max_depth=max_depth)
    return list(yaml.load_all(text, Loader=strict_loader()))


_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_EMPTY_PAIR = re.compile(r"\{\}|\[\]")


def json_depth(text: str, limit: int) -> int:
    """How deeply the arrays and objects of valid JSON ``text`` nest, counted up to ``limit + 1``.

    Works on the text with C-speed regex passes instead of visiting every decoded value (a
    2,000-node `kubectl get nodes` holds about a million): strings are dropped, then only the
    brackets are kept and the innermost empty pairs removed once per level.
    """
    brackets = "".join(_NOT_BRACKET.sub("", _JSON_STRING.sub("", piece)) for piece in _line_pieces(text))
    depth = 0
    while brackets and depth <= limit:
        brackets = _EMPTY_PAIR.sub("", brackets)
        depth += 1
    return depth


#: Characters one regex pass of :func:`json_depth` takes at most where the text has lines.
DEPTH_PIECE = 1 << 16


def _line_pieces(text: str, size: int = DEPTH_PIECE) -> Iterator[str]:
    """``text`` in pieces of about ``size`` characters cut after a newline. A newline is
    never inside a string of valid JSON, so each piece holds whole strings; and a regex pass
    holds the GIL throughout: on a parsing thread, short passes let the event loop run between
    them (one pass over a 7 MB `kubectl get nodes` held it for 50 ms)."""
    start, end = 0, len(text)
    while start < end:
        cut = text.find("\n", min(start + size, end) - 1) if start + size < end else end - 1
        stop = end if cut < 0 else cut + 1
        yield text[start:stop]
        start = stop


def load_json(text: str | bytes, *, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """``json.loads`` whose deep nesting is a ``ValueError`` (never ``RecursionError``) and
    whose non-finite numbers (``1e400``, ``NaN``) are refused.

    The C decoder guards its own recursion, so catching it is safe; depth beyond
    ``max_depth`` is refused after decoding by an iterative walk.
    """
    def no_constant(name: str) -> Any:
        raise ValueError(f"JSON constant {name} refused")

    def finite(s: str) -> float:
        v = float(s)
        if v in (float("inf"), float("-inf")):
            raise ValueError(f"JSON number {s[:40]} out of range")
        return v

    try:
        data = json.loads(text, parse_constant=no_constant, parse_float=finite)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    # Nesting never exceeds the number of opening brackets: most answers (`k0s status`, a
    # small fleet's node list: under a hundred) need no depth pass at all.
    if text.count("[") + text.count("{") > max_depth and json_depth(text, max_depth) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    return data

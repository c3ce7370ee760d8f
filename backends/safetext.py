"""The one sanitiser for text that came from a host or a file and is about to be shown.

A node, an inventory or a backup sidecar may hold terminal control sequences: an OSC 52
sequence writes the operator's clipboard, OSC 0 sets the window title, ``ESC[2J`` blanks the
screen, ``ESC[6n`` makes the terminal type an answer into the console. Rich ``Text`` drops only
some of these, so every piece of untrusted text passes through :func:`clean` (multi-line text)
or :func:`clean_line` (one line: table cells, header, status, toasts) before it reaches the UI
or the CLI's output.

What is done: every C0 control (U+0000–U+001F) except tab and newline, DEL (U+007F), every C1
control (U+0080–U+009F) and the Unicode bidirectional overrides/isolates (which reorder what
the operator reads, "Trojan Source") are replaced by their visible escape (``\\x1b``,
``\\x9b``, ``\\u202e``). Nothing is dropped silently, so a hostile reply stays visibly hostile.
The functions are pure and cheap (one ``str.translate``).
"""

from __future__ import annotations

import json
import re
from typing import Any

# Bidi embedding/override (U+202A–U+202E) and isolate (U+2066–U+2069) characters, plus the
# invisible marks that steer them (U+200E/U+200F, U+061C).
_BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]

_CONTROLS = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]
#: Every code point that must not reach a terminal as itself (controls, C1, bidi steering).
UNSAFE_CODEPOINTS = (*_CONTROLS, *_BIDI)


def escape(cp: int) -> str:
    """How an unsafe code point is shown: ``\\xNN`` (up to U+00FF), ``\\uNNNN`` above."""
    return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}"


_MULTI = {cp: escape(cp) for cp in UNSAFE_CODEPOINTS if cp not in (0x09, 0x0A)}
_LINE = {**_MULTI, 0x09: " ", 0x0A: "\\n"}
# A search is several times faster than translate: the common (clean) case pays only for it.
_MULTI_RE = re.compile("[" + "".join(f"\\U{cp:08x}" for cp in _MULTI) + "]")
_LINE_RE = re.compile("[" + "".join(f"\\U{cp:08x}" for cp in _LINE) + "]")


def clean(text: object) -> str:
    """``text`` (any object, via ``str``) with every control but tab and newline made visible."""
    s = text if isinstance(text, str) else str(text)
    return s.translate(_MULTI) if _MULTI_RE.search(s) else s


def clean_line(text: object) -> str:
    """``text`` as one safe line: controls made visible, a newline shown as ``\\n``, a tab as a space."""
    s = text if isinstance(text, str) else str(text)
    return s.translate(_LINE) if _LINE_RE.search(s) else s


def is_clean(text: str) -> bool:
    """True when ``text`` holds nothing :func:`clean` would change."""
    return _MULTI_RE.search(text) is None


def dumps_json(obj: Any, **kwargs: Any) -> str:
    """JSON for a terminal: ``ensure_ascii`` (so C1 and bidi are ``\\uXXXX``) and DEL escaped too.

    The json module escapes C0 controls always and non-ASCII with ``ensure_ascii``, but leaves
    DEL (U+007F) raw; ``\\u007f`` is the same JSON value.
    """
    kwargs["ensure_ascii"] = True
    return json.dumps(obj, **kwargs).replace("\x7f", "\\u007f")

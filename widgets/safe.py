"""Rich ``Text`` from untrusted text: the UI side of :mod:`backends.safetext`.

Every string or ``Text`` that carries host- or file-derived content goes through
:func:`safe_text` (or a widget that calls it: table cells, ``status_text``, the header, the
modal screens) so that no C0/C1 control reaches the terminal; Rich itself strips only BEL,
BS, VT, FF and CR and lets ESC and C1 through.
"""

from __future__ import annotations

from rich.text import Text

from backends.safetext import clean, clean_line, is_clean


def safe_str(value: object, *, line: bool = False) -> str:
    """``value`` as a string with controls made visible (``line``: newlines too)."""
    if isinstance(value, Text):
        value = value.plain
    return clean_line(value) if line else clean(value)


def safe_text(value: Text | object, *, line: bool = False, **text_kwargs: object) -> Text:
    """A ``Text`` showing ``value`` literally with controls made visible.

    A clean ``Text`` is returned as it is (styles kept); one holding controls is rebuilt from
    its cleaned plain text with its base style (inner spans are dropped: hostile text loses
    its colours, never its visibility). Strings are never parsed as markup.
    """
    if isinstance(value, Text):
        if is_clean(value.plain) and (not line or "\n" not in value.plain):
            return value
        return Text(safe_str(value, line=line), style=value.style, justify=value.justify,
                    no_wrap=value.no_wrap, overflow=value.overflow, end=value.end)
    return Text(safe_str(value, line=line), **text_kwargs)  # type: ignore[arg-type]

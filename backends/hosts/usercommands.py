"""User commands: commands.toml entries (k9s plugins, lazydocker custom commands), parsed,
validated and rendered into argv lists. Pure: no I/O besides reading the file, no UI.

Format (TOML, ``$XDG_CONFIG_HOME/k0s-tui/commands.toml`` or ``--commands FILE``)::

    [[command]]
    name = "Disk usage"          # shown in the footer, `?`, the confirmation and the audit log
    key = "D"                    # a Textual key name: "D", "ctrl+d", "f5"
    panes = ["nodes"]            # where it applies: nodes, images, sysinfo, certs, backups
    argv = ["df", "-h", "--", "{data_dir}"]   # a LIST; never a shell string
    confirm = false              # default true: ask first, naming every target
    mutating = false             # default true: hidden and refused in read-only
    sudo = false                 # run with `sudo -n` (default false)
    timeout = 60                 # seconds (default 60)

Rules that keep a row's values (which come from hosts: untrusted) from changing the command:

- each argv element is formatted on its own, so a value with spaces, ``;`` or ``$(..)`` stays
  inside its element; no shell ever sees the argv (transports pass it as a list, SSH quotes it);
- the program (``argv[0]``) is literal: no fields in it;
- only plain ``{field}`` names of the panes listed (no ``{x.attr}``, ``{x[0]}``, ``!r``, ``:spec``);
- a value starting with ``-`` is refused where it would start an element (it could be read as an
  option), unless a literal ``--`` element comes before that element (end of options);
- values holding NUL or other control characters are refused.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from backends.errors import ValidationError
from backends.paths import default_commands_path

#: Fields a row of each pane provides (every row also says which host it runs on: ``host``).
PANE_FIELDS: dict[str, frozenset[str]] = {
    "nodes": frozenset({"host", "address", "role", "data_dir", "k0s_binary", "config_path"}),
    "images": frozenset({"host", "address", "role", "image", "digest"}),
    "sysinfo": frozenset({"host", "address", "role"}),
    "certs": frozenset({"host", "address", "role", "cert"}),
    "backups": frozenset({"host", "address", "role", "file", "cluster"}),
}
_KNOWN_KEYS = frozenset({"name", "key", "panes", "argv", "confirm", "mutating", "sudo", "timeout"})
_KEY_RE = re.compile(r"^(?:(?:ctrl|shift|alt|meta)\+)*(?:[!-~]|[a-z][a-z0-9_]*)$")
_FIELD_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_NAME = 64


#: One element of a template: literal text and field names, in order.
Piece = tuple[str, str | None]


@dataclass(frozen=True)
class UserCommand:
    """One valid entry of commands.toml."""

    name: str
    key: str
    panes: tuple[str, ...]
    argv: tuple[str, ...]
    confirm: bool = True
    mutating: bool = True
    sudo: bool = False
    timeout: float = 60.0
    #: argv parsed: per element, (literal, field or None) pieces.
    template: tuple[tuple[Piece, ...], ...] = field(default=(), compare=False, repr=False)

    @property
    def fields(self) -> set[str]:
        """Every field the template uses."""
        return {f for el in self.template for _, f in el if f}

    def render(self, row: Mapping[str, str]) -> list[str]:
        """The argv for one row: each element formatted on its own; ValidationError when a value
        is missing, holds control characters or would start an element with '-' before `--`."""
        return render_argv(self, row)


@dataclass(frozen=True)
class Problem:
    """A bad entry: where (file, entry, field) and why."""

    file: str
    entry: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: command {self.entry}"
        return f"{where}, {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def parse_template(element: str) -> tuple[Piece, ...]:
    """Split one argv element into (literal, field) pieces; ValueError on anything but `{name}`."""
    pieces: list[Piece] = []
    try:
        parsed = list(string.Formatter().parse(element))
    except ValueError as exc:  # unbalanced braces
        raise ValueError(f"{element!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None))
            continue
        if not _FIELD_RE.match(name):
            raise ValueError(f"{element!r}: field {{{name}}} is not a plain field name")
        if spec or conversion:
            raise ValueError(f"{element!r}: field {{{name}}} may not have a conversion or format spec")
        pieces.append((literal, name))
    return tuple(pieces)


def _entry_label(index: int, raw: Mapping[str, object]) -> str:
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        return f"#{index + 1} {_CONTROL.sub('?', name.strip())[:MAX_NAME]!r}"
    return f"#{index + 1}"


def parse_entry(raw: Mapping[str, object]) -> UserCommand:
    """One table of commands.toml as a UserCommand; ``(field, message)`` in a ValueError's args."""
    def bad(fld: str, msg: str) -> ValueError:
        return ValueError(fld, msg)

    for k in raw:
        if k not in _KNOWN_KEYS:
            raise bad(str(k), f"unknown setting (known: {', '.join(sorted(_KNOWN_KEYS))})")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad("name", "missing or empty")
    if len(name) > MAX_NAME or _CONTROL.search(name):
        raise bad("name", f"at most {MAX_NAME} characters, no control characters")
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise bad("key", "missing or not a key name (e.g. \"D\", \"ctrl+d\", \"f5\")")
    panes = raw.get("panes")
    if isinstance(panes, str):
        panes = [panes]
    if not isinstance(panes, list) or not panes or not all(isinstance(p, str) for p in panes):
        raise bad("panes", f"a non-empty list of: {', '.join(PANE_FIELDS)}")
    for p in panes:
        if p not in PANE_FIELDS:
            raise bad("panes", f"unknown pane {p!r} (known: {', '.join(PANE_FIELDS)})")
    argv = raw.get("argv")
    if isinstance(argv, str):
        raise bad("argv", "must be a list of strings, not a shell string")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise bad("argv", "missing, empty, or not a list of strings")
    template: list[tuple[Piece, ...]] = []
    for i, element in enumerate(argv):
        if "\x00" in element:
            raise bad(f"argv[{i}]", "contains NUL")
        try:
            pieces = parse_template(element)
        except ValueError as exc:
            raise bad(f"argv[{i}]", str(exc)) from None
        if i == 0 and any(f for _, f in pieces):
            raise bad("argv[0]", "the program must be literal (no fields)")
        if i == 0 and not element:
            raise bad("argv[0]", "empty program")
        for _, f in pieces:
            if f is None:
                continue
            for p in panes:
                if f not in PANE_FIELDS[p]:
                    raise bad(f"argv[{i}]", f"unknown field {{{f}}} for pane {p} "
                                            f"(known: {', '.join(sorted(PANE_FIELDS[p]))})")
        template.append(pieces)
    flags: dict[str, bool] = {}
    for flag, default in (("confirm", True), ("mutating", True), ("sudo", False)):
        value = raw.get(flag, default)
        if not isinstance(value, bool):
            raise bad(flag, "must be true or false")
        flags[flag] = value
    timeout = raw.get("timeout", 60.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 86400:
        raise bad("timeout", "seconds, a number above 0 (at most 86400)")
    return UserCommand(name=name.strip(), key=key, panes=tuple(dict.fromkeys(panes)), argv=tuple(argv),
                       confirm=flags["confirm"], mutating=flags["mutating"], sudo=flags["sudo"],
                       timeout=float(timeout), template=tuple(template))


def parse_commands(text: str, file: str) -> tuple[list[UserCommand], list[Problem]]:
    """Every valid entry of the TOML ``text`` plus a Problem per bad one (never raises)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], [Problem(file, "(file)", "", f"not valid TOML: {exc}")]
    entries = data.get("command", [])
    problems: list[Problem] = [Problem(file, "(file)", str(k), "unknown table (write [[command]] entries)")
                               for k in data if k != "command"]
    if not isinstance(entries, list):
        return [], [*problems, Problem(file, "(file)", "command", "write [[command]] entries (an array of tables)")]
    commands: list[UserCommand] = []
    seen: dict[tuple[str, str], str] = {}
    for i, raw in enumerate(entries):
        label = _entry_label(i, raw if isinstance(raw, dict) else {})
        if not isinstance(raw, dict):
            problems.append(Problem(file, label, "", "not a table"))
            continue
        try:
            cmd = parse_entry(raw)
        except ValueError as exc:
            fld, msg = exc.args if len(exc.args) == 2 else ("", str(exc))
            problems.append(Problem(file, label, str(fld), str(msg)))
            continue
        clash = next((seen[(p, cmd.key)] for p in cmd.panes if (p, cmd.key) in seen), None)
        if clash is not None:
            problems.append(Problem(file, label, "key", f"{cmd.key!r} is already used by {clash} in the same pane"))
            continue
        for p in cmd.panes:
            seen[(p, cmd.key)] = label
        commands.append(cmd)
    return commands, problems


def load_commands(path: Path | None = None) -> tuple[list[UserCommand], list[Problem]]:
    """Entries of ``path`` (default location) and the problems found; ([], []) without a file."""
    path = path or default_commands_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(str(path), "(file)", "", f"cannot read: {exc}")]
    return parse_commands(text, str(path))


def render_argv(cmd: UserCommand, row: Mapping[str, str]) -> list[str]:
    """The argv of ``cmd`` for ``row`` (see the module docstring for the rules)."""
    out: list[str] = []
    after_options = False
    for i, pieces in enumerate(cmd.template):
        parts: list[str] = []
        for j, (literal, name) in enumerate(pieces):
            parts.append(literal)
            if name is None:
                continue
            value = row.get(name)
            if value is None:
                raise ValidationError(f"{cmd.name}: this row has no {{{name}}}")
            value = str(value)
            if _CONTROL.search(value):
                raise ValidationError(f"{cmd.name}: {{{name}}} holds control characters")
            starts_element = j == 0 and not literal
            if starts_element and value.startswith("-") and not after_options:
                raise ValidationError(f"{cmd.name}: {{{name}}} = {value!r} starts with '-' in argv[{i}] "
                                      "(put a literal \"--\" element before it)")
            parts.append(value)
        element = "".join(parts)
        if i > 0 and cmd.argv[i] == "--":
            after_options = True
        out.append(element)
    return out


def render_all(cmd: UserCommand, rows: Sequence[Mapping[str, str]]) -> list[list[str]]:
    """The argv of every row, or ValidationError before anything runs."""
    return [render_argv(cmd, r) for r in rows]

"""User commands in the console: their keys bound on the panes they name, the selected or
marked rows turned into fields, a confirmation naming every target, the output in a text screen.

Parsing and argv rendering live in :mod:`backends.hosts.usercommands`; running (read-only
refusal, audit) in :mod:`backends.session.usercommands`.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.binding import Binding

from backends.errors import ValidationError
from backends.hosts.usercommands import Problem, UserCommand, load_commands, render_all
from backends.paths import default_commands_path
from backends.session.usercommands import CommandRun, run_user_command
from tui import screens

if TYPE_CHECKING:
    from tui.app import K0sTuiApp
    from tui.panes.base import Pane

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Characters of each stream shown per host (the end is kept: that is where errors are).
MAX_SHOWN = 200_000


def _shown(text: str) -> str:
    text = text.rstrip("\n")
    if len(text) > MAX_SHOWN:
        text = f"[… {len(text) - MAX_SHOWN} characters cut …]\n" + text[-MAX_SHOWN:]
    return _CONTROL.sub("?", text) + "\n"


def binding_id(cmd: UserCommand) -> str:
    """The binding id `?` shows for a user command (and keymap.toml could rebind)."""
    slug = re.sub(r"[^a-z0-9]+", "-", cmd.name.lower()).strip("-") or "command"
    return f"user.{slug}"


def _taken_keys(app: "K0sTuiApp", pane: "Pane") -> set[str]:
    from widgets.table import ResourceTable

    # The focused table's own keys (marks, sort, arrows) would win over a pane binding.
    table = ResourceTable._merged_bindings
    return (set(app._bindings.key_to_bindings) | set(pane._bindings.key_to_bindings)
            | set(table.key_to_bindings if table is not None else ()))


def install_user_commands(app: "K0sTuiApp") -> list[Problem]:
    """Load commands.toml, warn about bad entries (file, entry, field), bind the good ones on
    their panes. Mutating commands are not bound at all in read-only (hidden, like built-ins)."""
    commands, problems = load_commands(getattr(app, "commands_path", None))
    app.user_commands = commands
    for index, cmd in enumerate(commands):
        if cmd.mutating and app.readonly:
            continue
        for pane_id in cmd.panes:
            pane = app.pane(pane_id)
            if cmd.key in _taken_keys(app, pane):
                problems.append(Problem(str(app.commands_path or default_commands_path()), repr(cmd.name), "key",
                                        f"{cmd.key!r} is a built-in key in {pane_id}"))
                continue
            pane._bindings.key_to_bindings.setdefault(cmd.key, []).append(
                Binding(cmd.key, f"user_command({index})", cmd.name, id=binding_id(cmd)))
    for p in problems:
        app.notify(str(p), title="commands.toml: entry skipped", severity="warning", markup=False, timeout=20)
    app.user_command_problems = problems
    return problems


def _host_row(app: "K0sTuiApp", host: str) -> dict[str, str]:
    spec = app.session.spec(host)
    return {"host": host, "address": spec.address, "role": spec.role, "data_dir": spec.data_dir,
            "k0s_binary": spec.k0s_binary, "config_path": spec.config_path}


def rows_for(pane: "Pane") -> list[dict[str, str]]:
    """The fields of the pane's marked rows (else the row under the cursor)."""
    app = pane.tui
    names = set(app.session.host_names)
    pid = pane.pane_id
    keys = pane.primary_table().target_keys()
    rows: list[dict[str, str]] = []
    if pid in ("nodes", "sysinfo"):
        rows = [_host_row(app, k) for k in keys if k in names]
    elif pid == "images":
        for host, digest in pane._selected_rows():  # type: ignore[attr-defined]
            group = pane._group(host, digest)  # type: ignore[attr-defined]
            if group is not None and host in names:
                rows.append({**_host_row(app, host), "image": group.primary.ref, "digest": group.digest})
    elif pid == "certs":
        from tui.panes.certs import split_key

        for k in keys:
            host, path = split_key(k)
            if host in names:
                rows.append({**_host_row(app, host), "cert": path})
    elif pid == "backups":
        for e in pane.selected():  # type: ignore[attr-defined]
            if e.source_host in names:
                rows.append({**_host_row(app, e.source_host), "file": e.file, "cluster": e.cluster})
    return rows


def run_from_pane(pane: "Pane", index: int) -> None:
    """The key of user command ``index`` was pressed in ``pane``."""
    app = pane.tui
    cmd = app.user_commands[index]  # read-only: mutating commands were never bound
    rows = rows_for(pane)
    if not rows:
        app.notify(f"{cmd.name}: no row with a known host selected", severity="warning", markup=False)
        return
    try:
        argvs = render_all(cmd, rows)
    except ValidationError as exc:
        app.notify(str(exc), title=cmd.name, severity="error", markup=False)
        return
    if not cmd.confirm:
        start(app, cmd, rows)
        return
    targets = [f"{r['host']}: {shlex.join(a)}" for r, a in zip(rows, argvs)]

    def go(ok: bool | None) -> None:
        if ok:
            start(app, cmd, rows)

    app.push_screen(screens.ConfirmScreen(f"Run {cmd.name} on {len({r['host'] for r in rows})} host(s)?",
                                  [_CONTROL.sub("?", t) for t in targets], confirm_label="Run"), go)


def output_text(runs: list[CommandRun]) -> Text:
    """Every run's argv, output and exit status (control characters replaced: hosts' output is untrusted)."""
    t = Text()
    for r in runs:
        t.append(_CONTROL.sub("?", f"── {r.host}: {shlex.join(r.argv)} ──\n"), style="bold")
        if r.stdout:
            t.append(_shown(r.stdout))
        if r.stderr:
            t.append(_shown(r.stderr), style="red")
        if r.error:
            t.append(_CONTROL.sub("?", f"could not run: {r.error}") + "\n", style="bold red")
        else:
            t.append(f"exit {r.exit_status}\n", style="dim" if r.exit_status == 0 else "bold red")
        t.append("\n")
    return t


def start(app: "K0sTuiApp", cmd: UserCommand, rows: list[dict[str, str]]) -> Any:
    """Run ``cmd`` on ``rows`` as an operation of the activity panel; output in a TextScreen."""
    async def job(op: Any) -> str:
        runs = await run_user_command(app.session, cmd, rows)  # a refusal goes to the error sink
        ok = sum(r.ok for r in runs)
        app.push_screen(screens.TextScreen(f"{cmd.name}: {ok}/{len(runs)} ok", output_text(runs)))
        return f"{ok}/{len(runs)} ok"

    return app.start_operation(cmd.name, list(dict.fromkeys(r["host"] for r in rows)), job)

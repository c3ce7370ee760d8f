"""User commands (commands.toml): parsing with bad entries reported, argv rendering that keeps
every field value inside its own element (checked over a real sshd with a stand-in that prints
its argv), read-only refusal in the backend, and the console running one from a pane."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from backends.errors import ReadOnlyRefused, ValidationError
from backends.hosts.spec import Inventory
from backends.hosts.usercommands import load_commands, parse_commands, render_argv
from backends.k0s.host import K0sHost
from backends.session.audit import AuditLog
from backends.session.session import ClusterSession
from backends.session.usercommands import run_user_command
from backends.transport.ssh.transport import SSHTransport

pytestmark = pytest.mark.timeout(120)

GOOD = '''
[[command]]
name = "Show argv"
key = "E"
panes = ["nodes", "images"]
argv = ["/bin/echo", "--", "{host}"]
mutating = false
'''

HOSTILE = "a b; touch {marker} $(touch {marker}) `touch {marker}` 'q\" \\\\ *"


def one(text: str):
    cmds, problems = parse_commands(text, "commands.toml")
    assert problems == []
    assert len(cmds) == 1
    return cmds[0]


def test_defaults_and_fields():
    cmd = one('[[command]]\nname = "du"\nkey = "D"\npanes = ["nodes"]\nargv = ["du", "-sh", "--", "{data_dir}"]\n')
    assert (cmd.confirm, cmd.mutating, cmd.sudo) == (True, True, False)
    assert cmd.fields == {"data_dir"}
    assert cmd.render({"host": "n1", "data_dir": "/var/lib/k0s"}) == ["du", "-sh", "--", "/var/lib/k0s"]


@pytest.mark.parametrize("entry, field, why", [
    ('argv = ["echo", "{image}"]', "argv[1]", "unknown field {image} for pane nodes"),
    ('argv = "echo {host}"', "argv", "not a shell string"),
    ('argv = ["{host}"]', "argv[0]", "program must be literal"),
    ('argv = ["echo", "{host!r}"]', "argv[1]", "conversion or format spec"),
    ('argv = ["echo", "{host.__class__}"]', "argv[1]", "not a plain field name"),
    ('argv = ["echo", "{host"]', "argv[1]", "literal braces"),
    ('argv = ["echo"]\nconfirm = "yes"', "confirm", "true or false"),
    ('argv = ["echo"]\nshell = true', "shell", "unknown setting"),
])
def test_bad_entry_reported_with_file_entry_and_field(entry, field, why):
    text = f'[[command]]\nname = "Bad one"\nkey = "B"\npanes = ["nodes"]\n{entry}\n' + GOOD
    cmds, problems = parse_commands(text, "/cfg/commands.toml")
    assert [c.name for c in cmds] == ["Show argv"]  # the good entry still loads
    assert len(problems) == 1
    p = problems[0]
    assert (p.file, p.entry, p.field) == ("/cfg/commands.toml", "#1 'Bad one'", field)
    assert why in p.message
    assert str(p).startswith(f"/cfg/commands.toml: command #1 'Bad one', {field}: ")


def test_unknown_pane_bad_key_and_duplicate_key():
    text = GOOD + '''
[[command]]
name = "x"
key = "ctrl+"
panes = ["nodes"]
argv = ["true"]
[[command]]
name = "y"
key = "Y"
panes = ["config"]
argv = ["true"]
[[command]]
name = "z"
key = "E"
panes = ["images"]
argv = ["true"]
'''
    _, problems = parse_commands(text, "c.toml")
    assert [(p.entry, p.field) for p in problems] == [("#2 'x'", "key"), ("#3 'y'", "panes"), ("#4 'z'", "key")]
    assert "already used by #1 'Show argv'" in problems[2].message


def test_invalid_toml_and_missing_file(tmp_path):
    bad = tmp_path / "commands.toml"
    bad.write_text("[[command]\nname=")
    cmds, problems = load_commands(bad)
    assert cmds == [] and len(problems) == 1 and "not valid TOML" in problems[0].message
    assert load_commands(tmp_path / "absent.toml") == ([], [])


def test_value_stays_one_element_and_dash_rule():
    cmd = one('[[command]]\nname = "t"\nkey = "T"\npanes = ["images"]\n'
              'argv = ["ctr", "{image}", "ref={image}", "--", "{image}"]\n')
    value = "x; rm -rf / $(id)"
    assert render_argv(cmd, {"image": value}) == ["ctr", value, f"ref={value}", "--", value]
    # A leading '-' where it would start an element before `--` could be read as an option.
    with pytest.raises(ValidationError, match="starts with '-' in argv\\[1\\]"):
        render_argv(cmd, {"image": "--privileged"})
    after = one('[[command]]\nname = "t"\nkey = "T"\npanes = ["images"]\nargv = ["ctr", "ref={image}", "--", "{image}"]\n')
    assert render_argv(after, {"image": "-x"}) == ["ctr", "ref=-x", "--", "-x"]
    with pytest.raises(ValidationError, match="control characters"):
        render_argv(after, {"image": "a\nb"})
    with pytest.raises(ValidationError, match="no \\{image\\}"):
        render_argv(after, {"host": "h"})


# ---------------------------------------------------------------- over a real sshd

@pytest.fixture
def argv_script(tmp_path) -> Path:
    """A stand-in that prints each argument it got between <>, one per line."""
    script = tmp_path / "show-argv"
    script.write_text('#!/bin/sh\nfor a in "$@"; do printf \'<%s>\\n\' "$a"; done\n')
    script.chmod(0o755)
    os.chmod(tmp_path, 0o755)
    return script


@pytest.fixture
async def ssh_session(sshd_server, tmp_path):
    spec = sshd_server.host_spec(name="node-a")
    host = K0sHost(spec, SSHTransport(spec, sshd_server.settings()))
    session = ClusterSession(Inventory("t", [spec]), [host], audit=AuditLog(tmp_path / "audit.log"))
    yield session
    await session.close()


async def test_hostile_value_is_one_argument_over_ssh(ssh_session, argv_script, tmp_path):
    marker = tmp_path / "pwned"
    hostile = HOSTILE.format(marker=marker)
    cmd = one(GOOD.replace("/bin/echo", str(argv_script))
              .replace('"{host}"', '"{host}", "{image}", "x={image}"').replace('"nodes", ', ''))
    row = {"host": "node-a", "address": "127.0.0.1", "role": "controller", "image": hostile}
    [run] = await run_user_command(ssh_session, cmd, [row])
    assert run.ok, run
    assert run.stdout.splitlines() == ["<-->", "<node-a>", f"<{hostile}>", f"<x={hostile}>"]
    assert not marker.exists()  # nothing in the value was run by a shell
    intent, rec = list(ssh_session.audit.records())
    assert intent.result == "intent" and intent.details["argv"] == rec.details["argv"]
    assert (rec.operation, rec.result, rec.hosts) == ("user command Show argv", "ok", ["node-a"])
    assert json.loads(rec.details["argv"]) == [[str(argv_script), "--", "node-a", hostile, f"x={hostile}"]]


async def test_readonly_refused_in_backend_and_audited(ssh_session, argv_script, tmp_path):
    marker = tmp_path / "ran"
    mutating = one(f'[[command]]\nname = "Touch"\nkey = "T"\npanes = ["nodes"]\n'
                   f'argv = ["touch", "--", "{marker}"]\n')
    ssh_session.readonly = True
    with pytest.raises(ReadOnlyRefused):
        await run_user_command(ssh_session, mutating, [{"host": "node-a"}])
    assert not marker.exists()
    [rec] = list(ssh_session.audit.records())
    assert rec.result == "error" and rec.error.startswith("refused")
    # A command marked `mutating = false` still runs read-only.
    reader = one(GOOD.replace("/bin/echo", str(argv_script)))
    [run] = await run_user_command(ssh_session, reader, [{"host": "node-a"}])
    assert run.stdout.splitlines() == ["<-->", "<node-a>"]


async def test_unknown_host_and_failed_exit(ssh_session):
    cmd = one('[[command]]\nname = "f"\nkey = "F"\npanes = ["nodes"]\nargv = ["false"]\nmutating = false\n')
    with pytest.raises(ValidationError, match="unknown host"):
        await run_user_command(ssh_session, cmd, [{"host": "elsewhere"}])
    [run] = await run_user_command(ssh_session, cmd, [{"host": "node-a"}])
    assert (run.ok, run.exit_status) == (False, 1)
    assert list(ssh_session.audit.records())[-1].error == "node-a: exit 1"


# ---------------------------------------------------------------- the console (demo cluster)

CONSOLE = '''
[[command]]
name = "Kernel"
key = "K"
panes = ["nodes"]
argv = ["uname", "-a"]
mutating = false

[[command]]
name = "Wipe data dir"
key = "W"
panes = ["nodes"]
argv = ["rm", "-rf", "--", "{data_dir}/tmp"]

[[command]]
name = "Broken"
key = "Z"
panes = ["nodes"]
argv = ["echo", "{nope}"]

[[command]]
name = "Shadow"
key = "x"
panes = ["nodes", "sysinfo"]
argv = ["true"]
mutating = false
'''


def console_app(tmp_path: Path, *, readonly: bool = False):
    from backends.demo import DemoCluster, demo_inventory, demo_transports
    from tests.tui_support import FROZEN
    from tui.app import K0sTuiApp

    path = tmp_path / "commands.toml"
    path.write_text(CONSOLE)
    demo = DemoCluster(clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), readonly=readonly, clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN, commands_path=path, scan_certs=False), path


async def test_console_runs_a_command_from_the_nodes_pane(xdg, tmp_path):
    from textual.widgets import Static

    from tests.tui_support import audit, settle
    from tui.screens.modals import ConfirmScreen, HelpScreen, TextScreen

    app, path = console_app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        # The bad entry is reported (file, entry, field) and the others still load.
        warnings = [n.message for n in app._notifications]
        assert f"{path}: command #3 'Broken', argv[1]: unknown field {{nope}} for pane nodes" in warnings[0]
        # `x` is Stop in Nodes: not taken there, but bound in Sysinfo where it is free.
        assert f"{path}: command 'Shadow', key: 'x' is a built-in key in nodes" in warnings[1]
        assert [b.description for b in app.pane("sysinfo")._bindings.key_to_bindings["x"]] == ["Shadow"]
        assert [b.id for b in app.pane("nodes")._bindings.key_to_bindings["x"]] == ["nodes.stop"]
        rows = {bid: desc for _, desc, bid in app.binding_rows()}
        assert rows["user.kernel"] == "Kernel" and rows["user.wipe-data-dir"] == "Wipe data dir"
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        host = app.nodes_pane.primary_table().selected_key()
        await pilot.press("K")  # mutating = false but confirm defaults to true
        assert isinstance(app.screen, ConfirmScreen)
        assert any(f"{host}: uname -a" in t for t in app.screen.targets)
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert isinstance(app.screen, TextScreen)
        body = str(app.screen.query_one("#body", Static).content)
        assert f"── {host}: uname -a ──" in body and "Linux" in body and "exit 0" in body
        assert app.screen.title_text == "Kernel: 1/1 ok"
    [rec] = [r for r in audit(xdg) if r["operation"].startswith("user command")]
    assert (rec["operation"], rec["hosts"], rec["result"]) == ("user command Kernel", [host], "ok")


async def test_console_readonly_hides_mutating_commands(xdg, tmp_path):
    from tests.tui_support import settle

    app, _ = console_app(tmp_path, readonly=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        ids = {bid for _, _, bid in app.binding_rows()}
        assert "user.kernel" in ids and "user.wipe-data-dir" not in ids
        await pilot.press("W")
        await settle(app, pilot)
        assert app.screen is app.screen_stack[0]  # nothing asked, nothing run


def test_output_text_replaces_control_characters_and_cuts_huge_output():
    from backends.session.usercommands import CommandRun
    from tui.usercommands import MAX_SHOWN, output_text

    run = CommandRun("n1", ["x", "a\x1b[2J"], 0, stdout="ok\x1b]0;title\x07\n" + "y" * (MAX_SHOWN + 10),
                     stderr="warn\x9b31m\n")
    text = output_text([run]).plain
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "[… 23 characters cut …]" in text and "exit 0" in text

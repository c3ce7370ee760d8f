"""Hostile input, class "terminal escapes from host text": the REAL console in a REAL terminal.

tmux (own socket, no config, ``set-clipboard on``) runs ``k0s-tui --inventory`` against real
OpenSSH servers on 127.0.0.1 whose ``k0s`` stand-in prints OSC 52 (clipboard write), OSC 0
(window title), CSI 2J (erase screen), CSI 6n (cursor report: the terminal would type the
answer), C1 CSI/OSC (U+009B, U+009D) and DEL in ``k0s status`` (JSON-escaped, so they survive
the parser's ANSI stripping) and raw ESC sequences on stderr. What must hold:

- the tmux paste buffers stay empty (OSC 52 never reached tmux),
- the pane title is unchanged (OSC 0 never reached tmux),
- the table is readable: both host rows are on screen and the hostile text shows as
  visible escapes (``\\x1b``).

A positive control at the end prints the same sequences raw in the same tmux server and sees
a buffer and a title appear: the assertions above could have failed. Runs inside a network
namespace with loopback only (tests/fixtures/netns.py). Waits are on conditions, never fixed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.k0s_scripts import _write

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(120)

OSC52 = "\x1b]52;c;SGFja2VkIQ==\x07"        # clipboard := "Hacked!"
OSC0 = "\x1b]0;PWNED-TITLE\x07"
HOSTILE = (f"worker{OSC52}{OSC0}\x1b[2J\x1b[6n\x9b2J\x9d52;c;SGk=\x07\x9d0;C1-TITLE\x07\x7f")
# Version keeps its case (Role is lower-cased, which would spoil OSC 52's base64).
STATUS = {"Version": "v1.30.1+k0s.0" + OSC52 + OSC0, "Pid": 4242, "PPid": 0, "Role": HOSTILE,
          "SysInit": "linux-systemd", "StubFile": "/etc/systemd/system/k0sworker.service",
          "Workloads": True, "SingleNode": False, "Args": ["worker"]}
CALM = {**STATUS, "Version": "v1.30.1+k0s.0", "Role": "worker"}


def wait_for(what: str, check: Callable[[], object], timeout: float = 60.0) -> object:
    """Poll ``check`` until it returns something truthy (short polls, a deadline, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def write_k0s(bindir: Path, status: dict) -> None:
    """A `k0s` that prints ``status`` as JSON and hostile raw escapes on every failing command."""
    bindir.mkdir(parents=True, exist_ok=True)
    (bindir / "status.json").write_text(json.dumps(status))  # \u001b etc.: JSON escapes
    _write(bindir / "k0s", f"""#!/bin/sh
case "$1" in
  version) echo v1.30.1+k0s.0 ;;
  status) cat '{bindir}/status.json' ;;
  *) printf 'Error: \\033]52;c;U3RkZXJy\\007\\033]0;STDERR-TITLE\\007\\033[2J nope\\n' >&2; exit 1 ;;
esac
""")


class Tmux:
    """A private tmux server (own socket, no config file) that this test starts and kills."""

    def __init__(self) -> None:
        self.socket = f"k0s-hostile-{os.getpid()}-{secrets.token_hex(3)}"

    def __call__(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=30)
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {args}: {proc.stderr}")
        return proc.stdout

    def buffers(self) -> str:
        return self("list-buffers", "-F", "#{buffer_name}:#{buffer_sample}", check=False)

    def title(self, target: str) -> str:
        return self("display-message", "-p", "-t", target, "#{pane_title}").rstrip("\n")

    def screen(self, target: str) -> str:
        return self("capture-pane", "-p", "-t", target)

    def kill(self) -> None:
        self("kill-server", check=False)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux missing: run `make debs` (Debian tmux)")
    t = Tmux()
    yield t
    t.kill()


def test_hostile_k0s_status_cannot_reach_the_terminal(tmux: Tmux, sshd_factory, tmp_path: Path) -> None:
    evil_bin, calm_bin = tmp_path / "evil-bin", tmp_path / "calm-bin"
    write_k0s(evil_bin, STATUS)
    write_k0s(calm_bin, CALM)
    evil = sshd_factory.start(env={"PATH": f"{evil_bin}:/usr/bin:/bin"})
    calm = sshd_factory.start(env={"PATH": f"{calm_bin}:/usr/bin:/bin"})
    known = tmp_path / "known_hosts"
    known.write_text(evil.known_hosts.read_text() + calm.known_hosts.read_text())
    inv = tmp_path / "k0sctl.yaml"
    hosts = "".join(
        f"  - role: worker\n    hostname: {name}\n    ssh:\n      address: 127.0.0.1\n"
        f"      port: {srv.port}\n      user: root\n      keyPath: {srv.client_key}\n"
        for name, srv in (("evil-node", evil), ("calm-node", calm)))
    inv.write_text("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\n"
                   f"metadata:\n  name: hostile\nspec:\n  hosts:\n{hosts}")
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONPATH": str(ROOT), "SSH_AUTH_SOCK": ""}
    app = " ".join([*(f"{k}='{v}'" for k, v in env.items()), sys.executable, "-m", "tui.cli",
                    "--inventory", str(inv), "--known-hosts", str(known)])
    # The app waits for the clipboard option to be set: nothing it prints can race the set-up.
    tmux("new-session", "-d", "-s", "app", "-x", "200", "-y", "40",
         f"tmux -L {tmux.socket} wait-for go && cd '{ROOT}' && exec env {app}")
    tmux("set-option", "-g", "set-clipboard", "on")
    tmux("set-option", "-g", "remain-on-exit", "on")  # a crash stays readable on the screen
    title_before = tmux.title("app")
    tmux("wait-for", "-S", "go")

    def table_ready() -> str | None:
        s = tmux.screen("app")
        if tmux("display-message", "-p", "-t", "app", "#{pane_dead}").strip() == "1":
            raise AssertionError(f"the console exited:\n{s}")
        return s if "evil-node" in s and "calm-node" in s and "\\x1b]52" in s else None

    screen = wait_for("both host rows with the hostile role shown visibly", table_ready)
    assert isinstance(screen, str)
    evil_line = next(line for line in screen.splitlines() if "evil-node" in line)
    # The role is lower-cased by the parser (k0s's own spelling varies); the escapes stay visible.
    assert "127.0.0.1" in evil_line and "worker\\x1b]52;c;sgfja2vkiq==\\x07" in evil_line
    assert "\\x9b2j" in evil_line and "\\x7f" in evil_line
    assert "v1.30.1+k0s.0\\x1b]52;c;SGFja2VkIQ==\\x07\\x1b]0;PWNED" in evil_line
    calm_line = next(line for line in screen.splitlines() if "calm-node" in line)
    assert "worker" in calm_line and "\\x1b" not in calm_line
    # Give the terminal every chance to act on a leaked sequence: a round trip through tmux
    # (display-message is processed after all pane output already read).
    tmux("refresh-client", "-S", check=False)
    assert tmux.buffers() == "", "OSC 52 reached the terminal: a paste buffer was written"
    assert tmux.title("app") == title_before
    assert "PWNED" not in tmux.title("app") and "TITLE" not in tmux.title("app")
    assert "evil-node" in tmux.screen("app")  # CSI 2J did not blank the table

    # Positive control: the same bytes printed raw do reach this tmux (the test can fail).
    tmux("new-window", "-d", "-t", "app", "-n", "control",
         f"printf '\\033]52;c;Q29udHJvbA==\\007\\033]0;CONTROL-TITLE\\007'; tmux -L {tmux.socket} wait-for done")
    wait_for("the control's paste buffer", lambda: tmux.buffers())
    assert wait_for("the control's title", lambda: tmux.title("app:control") == "CONTROL-TITLE")
    tmux("wait-for", "-S", "done")
    evil.stop()
    calm.stop()

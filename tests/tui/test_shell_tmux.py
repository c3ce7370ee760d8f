"""`s` on a Nodes row for real, in tmux: the console suspends, a shell runs (the demo's `k0s`
stand-in on its PATH), and the console comes back when the shell exits (audited)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(90),
              pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]
ROOT = Path(__file__).resolve().parents[2]


class Tmux:
    def __init__(self) -> None:
        self.sock = f"k0s-tui-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.sock, *args], check=True, capture_output=True, text=True).stdout

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "main")

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            assert time.monotonic() < deadline, f"{text!r} never appeared on screen:\n{screen}"
            time.sleep(0.1)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def test_s_suspends_into_a_shell_and_resumes(tmp_path: Path):
    env = {f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("CONFIG", "DATA", "STATE")}
    env_args = [f"{k}={v}" for k, v in env.items()] + ["SHELL=/bin/sh", "PS1=demo$ ", "TERM=xterm-256color"]
    tmux = Tmux()
    try:
        tmux.run("new-session", "-d", "-s", "main", "-x", "150", "-y", "40", "-c", str(ROOT),
                 "env", *env_args, sys.executable, "-m", "tui.cli", "--demo", "--refresh", "0")
        tmux.wait_for("controller-1")
        tmux.wait_for("running")
        tmux.run("send-keys", "-t", "main", "s")
        tmux.wait_for("a local shell as demo node controller-1")
        tmux.run("send-keys", "-t", "main", "k0s status", "Enter")
        screen = tmux.wait_for("Role: controller")
        assert "Nodes" not in screen.splitlines()[1]  # the console is not drawn meanwhile
        tmux.run("send-keys", "-t", "main", "exit", "Enter")
        screen = tmux.wait_for("Containers")
        tmux.wait_for("shell on controller-1 ended (exit 0)")
        records = [json.loads(x) for x in (tmp_path / "state" / "k0s-tui" / "audit.log").read_text().splitlines()]
        shell = [r for r in records if r["operation"] == "shell"]
        assert [(r["hosts"], r["result"]) for r in shell] == [(["controller-1"], "intent"), (["controller-1"], "ok")]
        assert shell[1]["details"]["exit"] == "0"
    finally:
        tmux.kill()

"""Headless verbs and their exit codes on the demo cluster, through the real entry point
(`tui.cli.main`, and the console script for the global-options-after-the-verb case):
0 all well, 1 an action failed, 2 usage, 3 a check failed or refused the action."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import main

pytestmark = pytest.mark.timeout(60)
CONSOLE_SCRIPT = Path(sys.executable).with_name("k0s-tui")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def outcomes(xdg: Path) -> list[dict]:
    path = xdg / "XDG_STATE_HOME" / "k0s-tui" / "audit.log"
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["result"] != "intent"]


def test_quorum_refusal_exits_3_and_force_overrides(xdg, capsys) -> None:
    code, out, _ = run(capsys, "--demo", "stop", "controller-1", "controller-2")
    assert code == 3 and "REFUSED" in out and "a quorum needs 2" in out
    assert outcomes(xdg)[-1]["error"].startswith("refused: etcd has 3 members, 3 running")
    code, out, _ = run(capsys, "stop", "controller-1", "controller-2", "--demo", "--force", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["force"] and [h["host"] for h in data["hosts"]] == [
        "controller-1", "controller-2"]
    assert outcomes(xdg)[-1]["details"]["force"] == "True"


@pytest.mark.parametrize("argv, words", [
    (["--demo", "stop"], "name the hosts"),
    (["--demo", "stop", "nope"], "unknown host(s) nope"),
    (["--demo", "status", "worker-1"], "takes no host names"),
    (["--demo", "status", "--keep", "2"], "--keep N goes with `backup`"),
    (["--demo", "backup", "--keep", "0"], "N >= 1"),
    (["--demo", "rolling-restart", "--workers", "worker-1"], "choose one of"),
    (["--demo", "restart", "worker-1", "--renew-certs"], "go(es) with `rolling-restart`"),
])
def test_usage_errors_exit_2(xdg, capsys, argv, words) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and words in err and out == ""


def test_rolling_restart_exit_codes(xdg, capsys) -> None:
    code, out, _ = run(capsys, "--demo", "rolling-restart", "--controllers", "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and [s["host"] for s in data["steps"]] == [
        "controller-1", "controller-2", "controller-3"]
    code, out, _ = run(capsys, "--demo", "rolling-restart", "--workers", "--deadline", "1")
    assert code == 1
    lines = out.splitlines()
    assert [ln.split()[:2] for ln in lines[:4]] == [["worker-1", "ok"], ["worker-2", "ok"], ["worker-3", "ok"],
                                                   ["worker-4", "FAILED"]]
    assert "stopped at worker-4" in lines[-1] and "gate: node Ready" in lines[-1]
    assert "left untouched: worker-5" in lines[-1]


def test_renew_certs_rolls_the_expiring_controller(xdg, capsys) -> None:
    code, out, _ = run(capsys, "--demo", "certs")
    assert code == 3  # controller-3's leaves expire within days
    code, out, _ = run(capsys, "--demo", "rolling-restart", "--renew-certs", "--json")
    data = json.loads(out)
    assert code == 0 and data["order"] == ["controller-3"] and data["ok"]
    assert data["certificates"]["controller-3"] is not None


def test_readonly_refuses_a_mutating_verb(xdg, capsys) -> None:
    code, out, err = run(capsys, "--demo", "--readonly", "restart", "worker-1")
    assert code == 1 and "read-only" in err
    assert outcomes(xdg)[-1]["error"].startswith("refused:")


def test_read_verbs_stay_read_only(xdg, capsys) -> None:
    code, out, _ = run(capsys, "--demo", "backups", "--json")
    assert code == 0 and json.loads(out) == {"cluster": "demo", "directory": json.loads(out)["directory"],
                                             "archives": []}
    assert not (xdg / "XDG_STATE_HOME" / "k0s-tui" / "audit.log").exists()  # nothing was changed


def test_backup_keep_then_backups(xdg, capsys, tmp_path) -> None:
    for _ in range(2):
        code, out, _ = run(capsys, "--demo", "backup", "--keep", "1", "--backup-dir", str(tmp_path / "c"),
                           "--json")
        assert code == 0 and json.loads(out)["verified"]
    assert len(json.loads(out)["deleted"]) == 1
    code, out, _ = run(capsys, "backups", "--demo", "--backup-dir", str(tmp_path / "c"))
    assert code == 0 and len(out.splitlines()) == 2  # header + the one kept


def test_console_script_options_after_the_verb(xdg, tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           **{v: str(xdg / v) for v in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}}
    proc = subprocess.run([str(CONSOLE_SCRIPT), "stop", "controller-1", "controller-2", "--demo"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, timeout=60,
                          start_new_session=True)
    assert proc.returncode == 3, proc.stderr
    proc = subprocess.run([str(CONSOLE_SCRIPT), "sysinfo", "--demo"], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=60, start_new_session=True)
    rows = {ln.split()[0]: ln.split()[1] for ln in proc.stdout.splitlines()[1:]}
    assert proc.returncode == 3 and rows["worker-4"] == "rejected"
